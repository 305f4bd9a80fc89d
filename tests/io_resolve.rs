//! Name resolution off the workers: `lookup_host` and
//! `TcpStream::connect("localhost:PORT")`; a literal address never waits
//! for (or touches) the resolver; the wait for a lookup is a cancel point.

mod support;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};

use quell::cancel::{Cancelled, Cause};
use quell::net::{lookup_host, TcpListener, TcpStream};
use support::*;

#[test]
fn lookup_and_connect_by_host_name() {
    let _dog = watchdog("connect localhost");
    let rt = rt(1);
    rt.block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let addrs: Vec<SocketAddr> = lookup_host(format!("localhost:{port}"))
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
        assert!(addrs
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == port));
        let mut c = TcpStream::connect(format!("localhost:{port}"))
            .await
            .unwrap();
        let (mut s, _) = l.accept().await.unwrap();
        c.write_all(b"named").await.unwrap();
        let mut buf = [0; 5];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"named");
        let mut c2 = TcpStream::connect(("localhost", port)).await.unwrap();
        drop(l.accept().await.unwrap());
        c2.write_all(b"x").await.unwrap();
    });
}

/// Polls `f` once, with no runtime and no I/O driver on this thread.
fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let mut f = pin!(f);
    f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_literal_address_is_answered_in_place_without_the_resolver() {
    // No runtime here: a literal needs no thread, no pool and no driver,
    // so the first poll already has the answer.
    let want: SocketAddr = "127.0.0.1:9".parse().unwrap();
    match poll_once(lookup_host("127.0.0.1:9")) {
        Poll::Ready(r) => assert_eq!(r.unwrap().collect::<Vec<_>>(), [want]),
        Poll::Pending => panic!("a literal waited for a lookup"),
    }
    let v6: SocketAddr = "[::1]:9".parse().unwrap();
    match poll_once(lookup_host(("::1", 9))) {
        Poll::Ready(r) => assert_eq!(r.unwrap().collect::<Vec<_>>(), [v6]),
        Poll::Pending => panic!("a literal waited for a lookup"),
    }
    // (That a host name goes to a thread of its own is the next test's:
    // polled once, it may or may not have its answer already, since the
    // thread can finish before the first poll looks.)
}

#[test]
fn lookup_outside_a_runtime_uses_a_thread_of_its_own() {
    let _dog = watchdog("lookup without runtime");
    let mut f = pin!(lookup_host("localhost:7"));
    let (tx, rx) = mpsc::channel::<()>();
    let waker = Waker::from(std::sync::Arc::new(Notify(std::sync::Mutex::new(tx))));
    let mut cx = Context::from_waker(&waker);
    let addrs = loop {
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(r) => break r.unwrap().collect::<Vec<_>>(),
            Poll::Pending => recv(&rx),
        }
    };
    assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 7));
}

struct Notify(std::sync::Mutex<mpsc::Sender<()>>);

impl std::task::Wake for Notify {
    fn wake(self: std::sync::Arc<Self>) {
        let _ = self.0.lock().unwrap().send(());
    }
}

#[test]
fn a_cancelled_task_gets_cancelled_from_the_lookup_wait() {
    let _dog = watchdog("lookup cancel");
    let rt = rt(2);
    let (go_tx, go) = mpsc::channel::<()>();
    let (ready_tx, ready) = mpsc::channel::<()>();
    let task = rt.spawn(async move {
        ready_tx.send(()).unwrap();
        // Hold the worker until the cancel has landed (no await point).
        go.recv().unwrap();
        lookup_host("localhost:80").await.map(|a| a.count())
    });
    recv(&ready);
    task.cancel(Cause::explicit("no lookup"));
    go_tx.send(()).unwrap();
    let err = rt.block_on(task).unwrap().unwrap_err();
    assert_eq!(
        Cancelled::from_io(&err).unwrap().cause().message(),
        Some("no lookup")
    );
    // The runtime is fine afterwards: lookups still work.
    let n = rt
        .block_on(rt.spawn(async { lookup_host("localhost:80").await.unwrap().count() }))
        .unwrap();
    assert!(n > 0);
}
