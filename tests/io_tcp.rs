//! TCP on real loopback sockets: echo, and cancellation at every kind of
//! wait (read, write, accept; the task's own cancel and an ancestor
//! token's), with the socket left open and the waker removed (C7).

mod support;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::{mpsc, Arc};

use quell::cancel::{self, CancelToken, CancellableExt, Cancelled, Cause};
use quell::net::{TcpListener, TcpStream};
use quell::task::SpawnBuilder;
use support::*;

/// Reads exactly `buf.len()` bytes.
async fn read_full(s: &mut TcpStream, buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        match s.read(&mut buf[got..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    Ok(())
}

/// The cause inside a cancelled `io::Error` (panics on any other error).
fn cancel_cause(e: &io::Error) -> Cancelled {
    Cancelled::from_io(e)
        .unwrap_or_else(|| panic!("expected Cancelled, got {e:?}"))
        .clone()
}

/// A blocking std peer with a hang bound on reads.
fn std_peer(addr: SocketAddr) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(HANG)).unwrap();
    s
}

/// Echo until EOF.
async fn echo(mut s: TcpStream) -> io::Result<u64> {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        s.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

#[test]
fn echo_one_connection() {
    let _dog = watchdog("echo one");
    let rt = rt(2);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = quell::spawn(async move {
            let (s, peer) = listener.accept().await.unwrap();
            assert_eq!(s.peer_addr().unwrap(), peer);
            echo(s).await.unwrap()
        });
        let c = TcpStream::connect(addr).await.unwrap();
        c.set_nodelay(true).unwrap();
        assert!(c.nodelay().unwrap());
        assert_eq!(c.peer_addr().unwrap(), addr);
        let msg: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        // Write and read concurrently: 100 KB exceeds what the socket
        // buffers hold without the reader draining.
        let (mut r, mut w) = c.into_split();
        let sent = msg.clone();
        let writer = quell::spawn(async move {
            w.write_all(&sent).await.unwrap();
            w.shutdown().unwrap();
            w
        });
        let mut back = vec![0; msg.len()];
        let mut got = 0;
        while got < back.len() {
            let n = r.read(&mut back[got..]).await.unwrap();
            assert_ne!(n, 0, "early EOF");
            got += n;
        }
        assert_eq!(back, msg);
        assert_eq!(r.read(&mut [0; 8]).await.unwrap(), 0, "server closed");
        assert_eq!(server.await.unwrap(), msg.len() as u64);
        let w = writer.await.unwrap();
        let _stream = r.reunite(w).expect("same stream");
    });
}

#[test]
fn echo_fifty_concurrent_connections() {
    let _dog = watchdog("echo 50");
    let rt = rt(2);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        const N: usize = 50;
        let server = quell::spawn(async move {
            let mut conns = Vec::new();
            for _ in 0..N {
                let (s, _) = listener.accept().await.unwrap();
                conns.push(quell::spawn(echo(s)));
            }
            let mut total = 0;
            for c in conns {
                total += c.await.unwrap().unwrap();
            }
            total
        });
        let clients: Vec<_> = (0..N)
            .map(|i| {
                quell::spawn(async move {
                    let mut c = TcpStream::connect(addr).await.unwrap();
                    let msg = vec![i as u8; 1000 + i];
                    c.write_all(&msg).await.unwrap();
                    let mut back = vec![0; msg.len()];
                    read_full(&mut c, &mut back).await.unwrap();
                    assert_eq!(back, msg);
                    c.shutdown(Shutdown::Write).unwrap();
                    assert_eq!(c.read(&mut [0; 1]).await.unwrap(), 0);
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        let expect: usize = (0..N).map(|i| 1000 + i).sum();
        assert_eq!(server.await.unwrap(), expect as u64);
    });
}

#[test]
fn cancel_a_reader_blocked_on_a_silent_peer_leaves_the_socket_open() {
    let _dog = watchdog("cancel silent read");
    let rt = rt(2);
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let mut peer = std_peer(listener.local_addr().unwrap());
    let (probe_tx, probe_rx) = mpsc::channel();
    let reader = rt.spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        probe_tx.send(s.waiter_probe()).unwrap();
        let mut buf = [0; 16];
        let err = s.read(&mut buf).await.unwrap_err();
        let c = cancel_cause(&err);
        // C7: the cancelled wait took its waker with it.
        assert!(!s.has_read_waiter());
        // Sticky outside a shield: the next wait answers at once.
        assert!(Cancelled::from_io(&s.read(&mut buf).await.unwrap_err()).is_some());
        // Shielded cleanup on the same socket.
        cancel::shield(s.write_all(b"goodbye")).await.unwrap();
        (c, s)
    });
    let probe = recv(&probe_rx);
    wait_until(|| probe.has_read_waiter()); // parked in read
    assert!(reader.cancel(Cause::explicit("peer too slow")));
    let (c, mut s) = rt.block_on(reader).unwrap();
    assert_eq!(c.cause().message(), Some("peer too slow"));
    assert!(!c.is_inherited());
    assert!(!probe.has_read_waiter(), "C7: no waker left behind");

    // The peer sees the shielded reply: the socket was never closed.
    let mut got = [0; 7];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"goodbye");

    // Another (uncancelled) task reads on: nothing was lost or closed.
    peer.write_all(b"again").unwrap();
    let back = rt
        .block_on(rt.spawn(async move {
            let mut buf = [0; 5];
            read_full(&mut s, &mut buf).await.map(|()| buf)
        }))
        .unwrap()
        .unwrap();
    assert_eq!(&back, b"again");
}

#[test]
fn bytes_already_read_are_returned_not_cancelled() {
    let _dog = watchdog("read then cancel");
    let rt = rt(2);
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let mut peer = std_peer(listener.local_addr().unwrap());
    let (got_tx, got_rx) = mpsc::channel();
    let reader = rt.spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0; 16];
        let n = s.read(&mut buf).await.unwrap();
        got_tx.send(buf[..n].to_vec()).unwrap();
        // Wait for the cancel without touching the socket.
        let waited = std::future::pending::<()>().cancellable().await;
        assert!(waited.is_err());
        // Data that arrived before the cancel is still in the socket:
        // an unshielded read says Cancelled and consumes nothing...
        let e = s.read(&mut buf).await.unwrap_err();
        assert!(Cancelled::from_io(&e).is_some());
        // ...and a shielded read gets it.
        let n = cancel::shield(s.read(&mut buf)).await.unwrap();
        buf[..n].to_vec()
    });
    peer.write_all(b"first").unwrap();
    assert_eq!(recv(&got_rx), b"first");
    peer.write_all(b"second").unwrap();
    reader.cancel(Cause::explicit("stop"));
    assert_eq!(rt.block_on(reader).unwrap(), b"second");
}

#[test]
fn cancel_a_blocked_writer_sends_nothing_more() {
    let _dog = watchdog("cancel blocked write");
    let rt = rt(2);
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let mut peer = std_peer(listener.local_addr().unwrap());
    let (probe_tx, probe_rx) = mpsc::channel();
    let writer = rt.spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        probe_tx.send(s.waiter_probe()).unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let mut total = 0usize;
        let err = loop {
            match s.write(&chunk).await {
                Ok(n) => total += n,
                Err(e) => break e,
            }
        };
        assert!(!s.has_write_waiter());
        (cancel_cause(&err), total, s)
    });
    let probe = recv(&probe_rx);
    // The peer never reads, so the buffers fill and the writer parks.
    wait_until(|| probe.has_write_waiter());
    writer.cancel(Cause::explicit("slow consumer"));
    let (c, total, s) = rt.block_on(writer).unwrap();
    assert_eq!(c.cause().message(), Some("slow consumer"));
    assert!(!probe.has_write_waiter(), "C7");
    // Exactly the bytes reported written arrive, no more: the cancelled
    // write moved nothing. Loopback delivers into the peer's buffer at
    // the write, so after `total` bytes the peer finds nothing.
    let mut buf = vec![0; total];
    peer.read_exact(&mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 7));
    peer.set_nonblocking(true).unwrap();
    let e = peer.read(&mut [0; 1]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    drop(s);
}

#[test]
fn cancel_an_accept_with_no_client_then_accept_again() {
    let _dog = watchdog("cancel accept");
    let rt = rt(2);
    let listener = Arc::new(rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap());
    let l = listener.clone();
    let acceptor = rt.spawn(async move { l.accept().await.map(|(_, a)| a) });
    wait_until(|| listener.has_accept_waiter());
    acceptor.cancel(Cause::explicit("no clients today"));
    let err = rt.block_on(acceptor).unwrap().unwrap_err();
    assert_eq!(
        cancel_cause(&err).cause().message(),
        Some("no clients today")
    );
    assert!(!listener.has_accept_waiter(), "C7");

    // The listener was not closed: it accepts the next client.
    let l = listener.clone();
    let acceptor = rt.spawn(async move { l.accept().await.map(|(_, a)| a) });
    let client = std_peer(listener.local_addr().unwrap());
    let peer = rt.block_on(acceptor).unwrap().unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
}

#[test]
fn a_grandchild_blocked_in_read_sees_the_root_cancel_and_its_cause() {
    let _dog = watchdog("grandchild read");
    let rt = rt(2);
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let _peer = std_peer(listener.local_addr().unwrap());
    let (s, _) = rt.block_on(listener.accept()).unwrap();
    let probe = s.waiter_probe();

    let root = CancelToken::new();
    let parent = SpawnBuilder::new().token(root.child()).spawn_on(
        async move {
            let child = quell::spawn(async move {
                let grandchild = quell::spawn(async move {
                    let mut s = s;
                    let err = s.read(&mut [0; 8]).await.unwrap_err();
                    (cancel_cause(&err), s.has_read_waiter())
                });
                grandchild.await.unwrap()
            });
            child.await.unwrap()
        },
        rt.handle(),
    );
    wait_until(|| probe.has_read_waiter());
    assert!(root.cancel(Cause::explicit("shutting the service down")));
    let (c, waiter_left) = rt.block_on(parent).unwrap();
    assert!(c.cause().same(&root.cause().unwrap()), "the root's cause");
    assert_eq!(c.cause().message(), Some("shutting the service down"));
    assert!(c.is_inherited(), "came from an ancestor token");
    assert!(!waiter_left, "C7");
}

#[test]
fn peer_reset_is_an_error_and_eof_reads_zero() {
    let _dog = watchdog("reset and eof");
    let rt = rt(2);
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();

    // EOF: the peer writes, then shuts down its write side.
    let mut peer = std_peer(addr);
    let (mut s, _) = rt.block_on(listener.accept()).unwrap();
    peer.write_all(b"x").unwrap();
    peer.shutdown(Shutdown::Write).unwrap();
    let reads = rt.block_on(async {
        let mut buf = [0; 8];
        let a = s.read(&mut buf).await.unwrap();
        let b = s.read(&mut buf).await.unwrap();
        let c = s.read(&mut buf).await.unwrap();
        (a, b, c)
    });
    assert_eq!(reads, (1, 0, 0), "data, then EOF, and EOF again");

    // Reset: SO_LINGER {on, 0} makes close send RST.
    let peer = std_peer(addr);
    let (mut s, _) = rt.block_on(listener.accept()).unwrap();
    set_linger_zero(&peer);
    drop(peer);
    let err = rt
        .block_on(rt.spawn(async move { s.read(&mut [0; 8]).await }))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err:?}");
    assert!(Cancelled::from_io(&err).is_none());
}

fn set_linger_zero(s: &std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket fd and a correctly sized `linger` value.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(
        rc,
        0,
        "setsockopt(SO_LINGER): {}",
        io::Error::last_os_error()
    );
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    let _dog = watchdog("refused");
    let rt = rt(1);
    // Bind then drop to find a port nobody listens on.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = rt.block_on(TcpStream::connect(addr)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err:?}");
}

#[test]
fn dropping_sockets_deregisters_them() {
    let _dog = watchdog("deregister");
    let rt = rt(1);
    let before = rt.handle().io().num_sources();
    rt.block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        let (r, w) = s.into_split();
        drop((l, c, r, w));
    });
    assert_eq!(rt.handle().io().num_sources(), before);
}

#[test]
fn types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TcpListener>();
    assert_send_sync::<TcpStream>();
    assert_send_sync::<quell::net::OwnedReadHalf>();
    assert_send_sync::<quell::net::OwnedWriteHalf>();
    assert_send_sync::<quell::net::UdpSocket>();
    assert_send_sync::<quell::net::UnixListener>();
    assert_send_sync::<quell::net::UnixStream>();
}
