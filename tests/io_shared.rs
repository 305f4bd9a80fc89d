//! Several tasks waiting on one shared socket (`&self` I/O): every one of
//! them is woken when the socket becomes ready, so none sleeps forever
//! (the registration keeps a list of waiters per direction, not one slot);
//! and a cancelled waiter removes only its own waker (C7), never a
//! sibling's.
//!
//! Each waiting task reports once its first poll returned `Pending`, i.e.
//! once its waker is registered; the clients connect (or the datagrams
//! are sent) only after every waiter has reported, one at a time.

mod support;

use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{mpsc, Arc};

use quell::cancel::{Cancelled, Cause};
use quell::net::{TcpListener, UdpSocket};
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

#[test]
fn four_tasks_accept_on_one_shared_listener() {
    let _dog = watchdog("four shared acceptors");
    const N: usize = 4;
    let rt = rt(2);
    let listener = Arc::new(rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap());
    let addr = listener.local_addr().unwrap();
    let (parked_tx, parked) = mpsc::channel();
    let (accepted_tx, accepted) = mpsc::channel::<SocketAddr>();
    let acceptors: Vec<_> = (0..N)
        .map(|_| {
            let l = listener.clone();
            let parked = parked_tx.clone();
            let accepted = accepted_tx.clone();
            rt.spawn(async move {
                let (_s, peer) = report_parked(l.accept(), parked).await.unwrap();
                accepted.send(peer).unwrap();
                peer
            })
        })
        .collect();
    for _ in 0..N {
        recv(&parked);
    }
    assert!(listener.has_accept_waiter());

    // One client at a time: each connection wakes every parked acceptor;
    // one takes it, the others go back to waiting.
    let mut clients = Vec::new();
    let mut peers = Vec::new();
    for _ in 0..N {
        let c = std::net::TcpStream::connect(addr).unwrap();
        peers.push(recv(&accepted));
        clients.push(c);
    }
    let mut got: Vec<_> = acceptors
        .into_iter()
        .map(|h| rt.block_on(h).unwrap())
        .collect();
    let mut want: Vec<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
    got.sort();
    want.sort();
    peers.sort();
    assert_eq!(got, want, "every acceptor took exactly one client");
    assert_eq!(peers, want);
    assert!(!listener.has_accept_waiter(), "no waker left behind");
}

#[test]
fn two_tasks_recv_from_on_one_shared_udp_socket() {
    let _dog = watchdog("two shared receivers");
    let rt = rt(2);
    let sock = Arc::new(rt.block_on(UdpSocket::bind("127.0.0.1:0")).unwrap());
    let to = sock.local_addr().unwrap();
    let (parked_tx, parked) = mpsc::channel();
    let (got_tx, got) = mpsc::channel::<Vec<u8>>();
    let receivers: Vec<_> = (0..2)
        .map(|_| {
            let s = sock.clone();
            let parked = parked_tx.clone();
            let got = got_tx.clone();
            rt.spawn(async move {
                let mut buf = [0; 16];
                let (n, _) = report_parked(s.recv_from(&mut buf), parked).await.unwrap();
                got.send(buf[..n].to_vec()).unwrap();
            })
        })
        .collect();
    recv(&parked);
    recv(&parked);
    assert!(sock.has_recv_waiter());

    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut datagrams = Vec::new();
    for msg in [&b"first"[..], b"second"] {
        peer.send_to(msg, to).unwrap();
        datagrams.push(recv(&got));
    }
    for h in receivers {
        rt.block_on(h).unwrap();
    }
    datagrams.sort();
    assert_eq!(datagrams, [b"first".to_vec(), b"second".to_vec()]);
    assert!(!sock.has_recv_waiter(), "no waker left behind");
}

#[test]
fn cancelling_one_of_two_acceptors_leaves_the_other_waiting() {
    let _dog = watchdog("cancel one shared acceptor");
    let rt = rt(2);
    let listener = Arc::new(rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap());
    let (parked_tx, parked) = mpsc::channel();
    let spawn_acceptor = |parked: mpsc::Sender<()>| {
        let l = listener.clone();
        rt.spawn(async move {
            report_parked(l.accept(), parked)
                .await
                .map(|(_, peer)| peer)
        })
    };
    let a = spawn_acceptor(parked_tx.clone());
    let b = spawn_acceptor(parked_tx);
    recv(&parked);
    recv(&parked);

    a.cancel(Cause::explicit("x"));
    let err = rt.block_on(a).unwrap().unwrap_err();
    let c = Cancelled::from_io(&err).unwrap_or_else(|| panic!("expected Cancelled, got {err:?}"));
    assert_eq!(c.cause().message(), Some("x"));
    // C7 removed the cancelled acceptor's waker only: the other one's
    // stays registered.
    assert!(listener.has_accept_waiter(), "the sibling's waker survived");

    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let peer = rt.block_on(b).unwrap().unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    assert!(!listener.has_accept_waiter(), "C7");
}
