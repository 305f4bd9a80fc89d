//! UDP and Unix-domain sockets on the real runtime: round trips, and a
//! cancelled receive / read that leaves the socket usable (C7).

mod support;

use std::sync::{mpsc, Arc};

use quell::cancel::{Cancelled, Cause};
use quell::net::{UdpSocket, UnixListener, UnixStream};
use support::*;

#[test]
fn udp_send_to_recv_from_and_connected_send_recv() {
    let _dog = watchdog("udp round trip");
    let rt = rt(2);
    rt.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let receiver = quell::spawn(async move {
            let mut buf = [0; 32];
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, a_addr);
            b.send_to(&buf[..n], from).await.unwrap();
            b
        });
        assert_eq!(a.send_to(b"datagram", b_addr).await.unwrap(), 8);
        let mut buf = [0; 32];
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"datagram"[..], b_addr));
        let b = receiver.await.unwrap();

        a.connect(b_addr).await.unwrap();
        b.connect(a_addr).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b_addr);
        a.send(b"connected").await.unwrap();
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"connected");
    });
}

#[test]
fn udp_cancel_recv_from_then_receive_on_the_same_socket() {
    let _dog = watchdog("udp cancel");
    let rt = rt(2);
    let sock = Arc::new(rt.block_on(UdpSocket::bind("127.0.0.1:0")).unwrap());
    let s = sock.clone();
    let receiver = rt.spawn(async move { s.recv_from(&mut [0; 8]).await.map(|(n, _)| n) });
    wait_until(|| sock.has_recv_waiter());
    receiver.cancel(Cause::explicit("enough"));
    let err = rt.block_on(receiver).unwrap().unwrap_err();
    let c = Cancelled::from_io(&err).expect("Cancelled");
    assert_eq!(c.cause().message(), Some("enough"));
    assert!(!sock.has_recv_waiter(), "C7");

    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.send_to(b"late", sock.local_addr().unwrap()).unwrap();
    let s = sock.clone();
    let got = rt
        .block_on(rt.spawn(async move {
            let mut buf = [0; 8];
            let (n, _) = s.recv_from(&mut buf).await.unwrap();
            buf[..n].to_vec()
        }))
        .unwrap();
    assert_eq!(got, b"late");
}

#[test]
fn unix_listener_connect_accept_echo() {
    let _dog = watchdog("unix echo");
    let rt = rt(2);
    let dir = std::env::temp_dir().join(format!("quell-io-unix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sock");
    rt.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let server = quell::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0; 16];
            let n = s.read(&mut buf).await.unwrap();
            s.write_all(&buf[..n]).await.unwrap();
            assert_eq!(s.read(&mut buf).await.unwrap(), 0, "EOF after shutdown");
        });
        let mut c = UnixStream::connect(&path).await.unwrap();
        c.write_all(b"unix").await.unwrap();
        let mut buf = [0; 4];
        let mut got = 0;
        while got < 4 {
            got += c.read(&mut buf[got..]).await.unwrap();
        }
        assert_eq!(&buf, b"unix");
        c.shutdown(std::net::Shutdown::Write).unwrap();
        server.await.unwrap();
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unix_pair_cancelled_read_then_shielded_write() {
    let _dog = watchdog("unix cancel");
    let rt = rt(2);
    let (a, mut b) = rt.block_on(async { UnixStream::pair() }).unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    let reader = rt.spawn(async move {
        let mut a = a;
        ready_tx.send(()).unwrap();
        let err = a.read(&mut [0; 8]).await.unwrap_err();
        let cause = Cancelled::from_io(&err).expect("Cancelled").cause().clone();
        assert!(!a.has_read_waiter(), "C7");
        quell::cancel::shield(a.write_all(b"bye")).await.unwrap();
        cause
    });
    recv(&ready_rx);
    reader.cancel(Cause::explicit("unix stop"));
    assert_eq!(rt.block_on(reader).unwrap().message(), Some("unix stop"));
    let got = rt.block_on(async move {
        let mut buf = [0; 3];
        let mut got = 0;
        while got < 3 {
            got += b.read(&mut buf[got..]).await.unwrap();
        }
        buf
    });
    assert_eq!(&got, b"bye");
}
