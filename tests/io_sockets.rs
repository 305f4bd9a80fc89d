//! `TcpSocket` (options before bind/listen/connect) and `UnixDatagram`
//! (pair, bound paths, cancel-aware receives) on real sockets.

mod support;

use std::future::Future;
use std::sync::Arc;

use quell::cancel::{Cancelled, Cause};
use quell::net::{TcpSocket, UnixDatagram};
use support::*;

#[test]
fn tcp_socket_options_listen_and_connect() {
    let _dog = watchdog("tcp socket");
    let rt = rt(2);
    rt.block_on(async {
        let s = TcpSocket::new_v4().unwrap();
        s.set_reuseaddr(true).unwrap();
        s.set_reuseport(true).unwrap();
        assert!(s.reuseaddr().unwrap() && s.reuseport().unwrap());
        s.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = s.local_addr().unwrap();
        let _l1 = s.listen(64).unwrap();

        // SO_REUSEPORT: a second listener on the same port.
        let s2 = TcpSocket::new_v4().unwrap();
        s2.set_reuseport(true).unwrap();
        s2.bind(addr).unwrap();
        let _l2 = s2.listen(64).unwrap();

        let c = TcpSocket::new_v4().unwrap();
        c.set_nodelay(true).unwrap();
        let mut stream = c.connect(addr).await.unwrap();
        assert!(stream.nodelay().unwrap());
        assert_eq!(stream.peer_addr().unwrap(), addr);
        stream.write_all(b"hi").await.unwrap();
        drop(stream);
    });
}

#[test]
fn tcp_socket_connect_refused_is_reported() {
    let _dog = watchdog("tcp socket refused");
    let rt = rt(1);
    // A port with nothing listening: bind a listener, note it, drop it.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = rt
        .block_on(TcpSocket::new_v4().unwrap().connect(addr))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn unix_datagram_pair_and_bound_paths() {
    let _dog = watchdog("unix datagram");
    let rt = rt(1);
    let dir = std::env::temp_dir().join(format!("quell-udg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    rt.block_on(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"one").await.unwrap();
        b.send(b"two").await.unwrap();
        let mut buf = [0; 8];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"one");
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"two");

        let server = UnixDatagram::bind(dir.join("srv")).unwrap();
        let client = UnixDatagram::bind(dir.join("cli")).unwrap();
        client.send_to(b"ping", dir.join("srv")).await.unwrap();
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(from.as_pathname(), Some(dir.join("cli").as_path()));

        let unbound = UnixDatagram::unbound().unwrap();
        unbound.connect(dir.join("srv")).unwrap();
        unbound.writable().await.unwrap();
        assert_eq!(unbound.try_send(b"try").unwrap(), 3);
        server.readable().await.unwrap();
        let n = server.try_recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"try");
        assert_eq!(
            server.try_recv(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unix_datagram_cancelled_recv_takes_nothing() {
    let _dog = watchdog("unix datagram cancel");
    let rt = rt(2);
    let (a, b) = rt.block_on(async { UnixDatagram::pair() }).unwrap();
    let b = Arc::new(b);
    let (parked_tx, parked) = std::sync::mpsc::channel();
    let rb = b.clone();
    let receiver = rt.spawn(async move {
        let mut buf = [0; 8];
        let mut f = std::pin::pin!(rb.recv(&mut buf));
        let mut told = false;
        std::future::poll_fn(|cx| {
            let r = f.as_mut().poll(cx);
            if r.is_pending() && !told {
                told = true;
                parked_tx.send(()).unwrap();
            }
            r
        })
        .await
    });
    recv(&parked);
    receiver.cancel(Cause::explicit("no more"));
    let err = rt.block_on(receiver).unwrap().unwrap_err();
    assert_eq!(
        Cancelled::from_io(&err).unwrap().cause().message(),
        Some("no more")
    );
    rt.block_on(async {
        a.send(b"after").await.unwrap();
        let mut buf = [0; 8];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"after");
    });
}
