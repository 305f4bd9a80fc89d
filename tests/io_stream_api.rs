//! The everyday stream API on real loopback sockets: `&self` readiness +
//! `try_*` (a stream shared in an `Arc`), `ready` on both directions and
//! its C7 clean-up, `read_exact` / `read_to_end` / `read_buf`, a cancelled
//! `write_all` whose `Partial` count is exactly what the peer receives,
//! and the borrowed `split`.

mod support;

use std::future::{poll_fn, Future};
use std::io::{ErrorKind, Read, Write};
use std::pin::pin;
use std::sync::{mpsc, Arc};
use std::task::Poll;

use quell::cancel::{Cancelled, Cause};
use quell::net::{Interest, Ready, TcpListener, TcpStream, UnixStream};
use support::*;

/// Runs `f`, sending on `parked` the first time a poll of `f` returns
/// `Pending` (its waker is then registered with the socket).
async fn report_parked<F: Future>(f: F, parked: mpsc::Sender<()>) -> F::Output {
    let mut f = pin!(f);
    let mut reported = false;
    poll_fn(|cx| {
        let r = f.as_mut().poll(cx);
        if r.is_pending() && !reported {
            reported = true;
            let _ = parked.send(());
        }
        r
    })
    .await
}

/// A connected pair: (quell client, quell server side).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    (c, s)
}

#[test]
fn a_stream_shared_in_an_arc_reads_and_writes_with_try_calls() {
    let _dog = watchdog("arc-shared stream");
    let rt = rt(2);
    let (client, mut server) = rt.block_on(tcp_pair());
    let client = Arc::new(client);
    // A reader task and a writer task on the same `&TcpStream`.
    let r = client.clone();
    let reader = rt.spawn(async move {
        let mut got = Vec::new();
        while got.len() < 5 {
            r.readable().await.unwrap();
            let mut buf = [0; 16];
            match r.try_read(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        }
        got
    });
    let w = client.clone();
    let writer = rt.spawn(async move {
        let mut sent = 0;
        let msg = b"hello";
        while sent < msg.len() {
            w.writable().await.unwrap();
            match w.try_write(&msg[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        }
    });
    rt.block_on(async {
        let mut buf = [0; 5];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
        server.write_all(b"world").await.unwrap();
    });
    rt.block_on(writer).unwrap();
    assert_eq!(rt.block_on(reader).unwrap(), b"world");
}

#[test]
fn try_read_would_block_then_readable_waits_for_data() {
    let _dog = watchdog("try_read WouldBlock");
    let rt = rt(2);
    let (client, mut server) = rt.block_on(tcp_pair());
    let mut buf = [0; 4];
    assert_eq!(
        client.try_read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    let client = Arc::new(client);
    let c = client.clone();
    let (parked_tx, parked) = mpsc::channel();
    let reader = rt.spawn(async move {
        report_parked(c.readable(), parked_tx).await.unwrap();
        // `peek` on the shared `&TcpStream` takes nothing...
        let mut peeked = [0; 4];
        let p = c.peek(&mut peeked).await.unwrap();
        // ...so `try_read` then gets at least what was peeked.
        let mut buf = [0; 4];
        let n = c.try_read(&mut buf).unwrap();
        assert!(n >= p && buf[..p] == peeked[..p]);
        buf[..n].to_vec()
    });
    recv(&parked); // `readable` really waited: no data yet
    rt.block_on(server.write_all(b"data")).unwrap();
    assert_eq!(rt.block_on(reader).unwrap(), b"data");
}

#[test]
fn vectored_try_calls_move_all_slices() {
    let _dog = watchdog("vectored try");
    let rt = rt(1);
    let (client, server) = rt.block_on(tcp_pair());
    rt.block_on(async {
        client.writable().await.unwrap();
        let n = client
            .try_write_vectored(&[std::io::IoSlice::new(b"ab"), std::io::IoSlice::new(b"cd")])
            .unwrap();
        assert_eq!(n, 4);
        let (mut x, mut y) = ([0; 1], [0; 3]);
        let mut got = 0;
        while got < 4 {
            server.readable().await.unwrap();
            let mut bufs = [
                std::io::IoSliceMut::new(&mut x[..]),
                std::io::IoSliceMut::new(&mut y[..]),
            ];
            match server.try_read_vectored(&mut bufs) {
                Ok(n) => got += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!((&x, &y), (b"a", b"bcd"));
    });
}

/// Fills `s`'s send buffer (the peer does not read) until `try_write`
/// would block.
fn fill_send_buffer(s: &TcpStream) -> usize {
    let chunk = vec![7u8; 64 * 1024];
    let mut total = 0;
    loop {
        match s.try_write(&chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return total,
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_cancelled_ready_on_both_directions_removes_both_wakers() {
    let _dog = watchdog("ready both cancel");
    let rt = rt(2);
    let (client, _server) = rt.block_on(tcp_pair());
    let client = Arc::new(client);
    // Not readable (nothing sent to it) and not writable (buffer full).
    rt.block_on(async { fill_send_buffer(&client) });
    let probe = client.waiter_probe();
    let c = client.clone();
    let (parked_tx, parked) = mpsc::channel();
    let waiter = rt.spawn(async move {
        report_parked(c.ready(Interest::READABLE | Interest::WRITABLE), parked_tx).await
    });
    recv(&parked);
    assert!(probe.has_read_waiter() && probe.has_write_waiter());
    waiter.cancel(Cause::explicit("both"));
    let err = rt.block_on(waiter).unwrap().unwrap_err();
    assert_eq!(
        Cancelled::from_io(&err).unwrap().cause().message(),
        Some("both")
    );
    assert!(!probe.has_read_waiter(), "C7: read waker removed");
    assert!(!probe.has_write_waiter(), "C7: write waker removed");
}

#[test]
fn ready_on_both_directions_reports_the_direction_that_fired() {
    let _dog = watchdog("ready both fires");
    let rt = rt(2);
    let (client, mut server) = rt.block_on(tcp_pair());
    let client = Arc::new(client);
    rt.block_on(async { fill_send_buffer(&client) });
    let probe = client.waiter_probe();
    let c = client.clone();
    let (parked_tx, parked) = mpsc::channel();
    let waiter = rt.spawn(async move {
        report_parked(c.ready(Interest::READABLE | Interest::WRITABLE), parked_tx).await
    });
    recv(&parked);
    rt.block_on(server.write_all(b"x")).unwrap();
    let ready = rt.block_on(waiter).unwrap().unwrap();
    assert!(ready.intersects(Ready::READABLE));
    assert!(
        !probe.has_write_waiter(),
        "the other direction's waker left"
    );
}

#[test]
fn peek_then_read_exact_read_buf_and_read_to_end() {
    let _dog = watchdog("read helpers");
    let rt = rt(2);
    let std_l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_l.local_addr().unwrap();
    let (go_tx, go) = mpsc::channel::<()>();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = std_l.accept().unwrap();
        s.write_all(b"head").unwrap();
        go.recv().unwrap();
        s.write_all(b"one").unwrap();
        go.recv().unwrap();
        s.write_all(&vec![9u8; 100_000]).unwrap();
        // Dropped: EOF.
    });
    rt.block_on(async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0; 4];
        let mut n = 0;
        while n < 4 {
            n = s.peek(&mut buf).await.unwrap();
        }
        assert_eq!(&buf, b"head");
        let mut exact = [0; 4];
        s.read_exact(&mut exact).await.unwrap();
        assert_eq!(&exact, b"head", "peek consumed nothing");

        go_tx.send(()).unwrap();
        let mut v = Vec::with_capacity(16);
        v.extend_from_slice(b">");
        while v.len() < 4 {
            assert!(s.read_buf(&mut v).await.unwrap() > 0);
        }
        assert_eq!(v, b">one");

        go_tx.send(()).unwrap();
        let mut rest = Vec::new();
        assert_eq!(s.read_to_end(&mut rest).await.unwrap(), 100_000);
        assert!(rest.iter().all(|&b| b == 9));

        // At EOF: read_exact reports how far it got.
        let err = s.read_exact(&mut [0; 2]).await.unwrap_err();
        assert_eq!(
            (err.bytes(), err.error().kind()),
            (0, ErrorKind::UnexpectedEof)
        );
    });
    peer.join().unwrap();
}

#[test]
fn read_uninit_returns_the_initialised_front() {
    let _dog = watchdog("read_uninit");
    let rt = rt(1);
    rt.block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"raw").await.unwrap();
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 8];
        let got = b.read_uninit(&mut buf).await.unwrap();
        assert_eq!(got, b"raw");
    });
}

#[test]
fn a_cancelled_write_all_reports_exactly_what_the_peer_receives() {
    let _dog = watchdog("write_all partial");
    const LEN: usize = 8 << 20;
    let rt = rt(2);
    let std_l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_l.local_addr().unwrap();
    let (parked_tx, parked) = mpsc::channel();
    let writer = rt.spawn(async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
        let r = report_parked(s.write_all(&data), parked_tx).await;
        r.unwrap_err() // the stream drops here: the peer then reads EOF
    });
    let (mut peer, _) = std_l.accept().unwrap();
    recv(&parked); // parked on a full send buffer: the peer is not reading
    writer.cancel(Cause::explicit("stop sending"));
    let partial = rt.block_on(writer).unwrap();
    assert!(partial.is_cancelled());
    assert_eq!(
        Cancelled::from_io(partial.error())
            .unwrap()
            .cause()
            .message(),
        Some("stop sending")
    );
    let sent = partial.bytes();
    assert!(sent > 0 && sent < LEN, "sent {sent}");
    let mut got = Vec::new();
    peer.read_to_end(&mut got).unwrap();
    assert_eq!(got.len(), sent, "the count is what went out");
    assert!(got.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    // `?` keeps the cancel recognisable.
    let e: std::io::Error = partial.into();
    assert!(Cancelled::is_cancelled_io(&e));
}

#[test]
fn borrowed_split_reads_and_writes_at_once_in_one_task() {
    let _dog = watchdog("borrowed split");
    let rt = rt(2);
    let (mut client, server) = rt.block_on(tcp_pair());
    // The server echoes 64 KiB.
    let echo = rt.spawn(async move {
        let mut server = server;
        let (mut r, mut w) = server.split();
        let mut buf = vec![0; 64 * 1024];
        r.read_exact(&mut buf).await.unwrap();
        w.write_all(&buf).await.unwrap();
    });
    rt.block_on(async {
        let data = vec![3u8; 64 * 1024];
        let (mut r, mut w) = client.split();
        let mut back = vec![0; data.len()];
        let (wr, rd) =
            futures_util::future::join(w.write_all(&data), r.read_exact(&mut back)).await;
        wr.unwrap();
        rd.unwrap();
        assert_eq!(back, data);
    });
    rt.block_on(echo).unwrap();
    // The halves are gone: the stream is whole again.
    rt.block_on(client.write_all(b"still mine")).unwrap();
}

#[test]
fn would_block_from_try_read_clears_readiness_so_readable_waits_again() {
    let _dog = watchdog("try_read clears readiness");
    let rt = rt(1);
    rt.block_on(async {
        let (client, mut server) = tcp_pair().await;
        server.write_all(b"ab").await.unwrap();
        client.readable().await.unwrap();
        let mut buf = [0; 8];
        loop {
            match client.try_read(&mut buf) {
                Ok(n) => assert!(n > 0),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        // Drained: the readiness is gone, so `readable` parks...
        let mut again = pin!(client.readable());
        let parked = poll_fn(|cx| Poll::Ready(again.as_mut().poll(cx).is_pending())).await;
        assert!(parked, "readable() still ready after WouldBlock");
        // ...until new data arrives.
        server.write_all(b"c").await.unwrap();
        again.await.unwrap();
        assert_eq!(client.try_read(&mut buf).unwrap(), 1);
    });
}
