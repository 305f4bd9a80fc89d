//! Unit tests of the net types, driven by hand (no executor here): the
//! `futures_io` impls, split/reunite, and connect errors.

use std::future::{poll_fn, Future};
use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};

use crate::driver::Driver;
use crate::net::{TcpListener, TcpStream, UnixStream};

/// Polls `f` to completion, turning the driver between polls.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut driver = Driver::new().unwrap();
    let _enter = crate::context::enter(driver.handle().clone());
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..10_000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        driver.park(Some(Duration::from_millis(10)));
    }
    panic!("future never completed: hang");
}

async fn read_to_end<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0; 1024];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, &mut buf)).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

async fn write_all<W: AsyncWrite + Unpin>(w: &mut W, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, buf)).await?;
        buf = &buf[n..];
    }
    poll_fn(|cx| Pin::new(&mut *w).poll_flush(cx)).await
}

async fn close<W: AsyncWrite + Unpin>(w: &mut W) -> io::Result<()> {
    poll_fn(|cx| Pin::new(&mut *w).poll_close(cx)).await
}

#[test]
fn futures_io_on_tcp_stream_and_close_sends_fin() {
    block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let mut c = TcpStream::connect(l.local_addr()?).await?;
        let (mut s, _) = l.accept().await?;
        write_all(&mut c, b"via futures-io").await?;
        close(&mut c).await?;
        assert_eq!(read_to_end(&mut s).await?, b"via futures-io");
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[test]
fn futures_io_on_halves_and_vectored_io() {
    block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let c = TcpStream::connect(l.local_addr()?).await?;
        let (mut s, _) = l.accept().await?;
        let (mut r, mut w) = c.into_split();
        let n = poll_fn(|cx| {
            Pin::new(&mut w)
                .poll_write_vectored(cx, &[io::IoSlice::new(b"ab"), io::IoSlice::new(b"cd")])
        })
        .await?;
        assert_eq!(n, 4);
        close(&mut w).await?;
        let mut a = [0; 2];
        let mut b = [0; 2];
        // One writev of 4 bytes arrives at once on loopback.
        let mut bufs = [io::IoSliceMut::new(&mut a), io::IoSliceMut::new(&mut b)];
        assert_eq!(s.read_vectored(&mut bufs).await?, 4);
        assert_eq!((&a, &b), (b"ab", b"cd"));
        assert_eq!(s.read(&mut a).await?, 0, "EOF from poll_close");
        s.write_all(b"back").await?;
        s.shutdown(Shutdown::Write)?;
        assert_eq!(read_to_end(&mut r).await?, b"back");
        let mut peek = [0; 1];
        assert_eq!(r.peek(&mut peek).await?, 0);
        let stream = r.reunite(w).expect("same stream");
        assert!(stream.local_addr().is_ok());
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[test]
fn reunite_rejects_halves_of_different_streams() {
    block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let a = TcpStream::connect(l.local_addr()?).await?;
        let b = TcpStream::connect(l.local_addr()?).await?;
        let (ar, _aw) = a.into_split();
        let (_br, bw) = b.into_split();
        let err = ar.reunite(bw).unwrap_err();
        assert!(err.to_string().contains("not from the same"));
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[test]
fn peek_does_not_consume() {
    block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let mut c = TcpStream::connect(l.local_addr()?).await?;
        let (mut s, _) = l.accept().await?;
        c.write_all(b"xyz").await?;
        let mut buf = [0; 3];
        let n = s.peek(&mut buf).await?;
        assert!(n > 0 && buf[..n] == b"xyz"[..n]);
        let mut all = [0; 3];
        let mut got = 0;
        while got < 3 {
            got += s.read(&mut all[got..]).await?;
        }
        assert_eq!(&all, b"xyz");
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

/// A short read (fewer bytes than the buffer) drained the socket, so it
/// clears the read readiness (registration.rs `poll_read_io`): the next
/// read waits for the driver's next event instead of calling `read(2)`
/// (which would answer `EAGAIN` in the common case). Observable: data that
/// is already in the socket but not yet dispatched by the driver is not
/// read until the driver turns, and then it is (the new edge). A read that
/// fills its buffer keeps the readiness (more may be queued).
#[test]
fn short_read_clears_readiness_and_the_next_data_wakes_the_reader() {
    let mut driver = Driver::new().unwrap();
    let _enter = crate::context::enter(driver.handle().clone());
    let mut cx = Context::from_waker(Waker::noop());
    let turn = |d: &mut Driver| d.park(Some(Duration::from_millis(50)));
    let (mut c, peeker, mut s) = loopback_pair();
    let queued = |n: usize| wait_queued(&peeker, n);
    let mut buf = [0; 64];
    let mut read = |buf: &mut [u8], cx: &mut Context<'_>| Pin::new(&mut s).poll_read(cx, buf);
    for round in 0..3u8 {
        std::io::Write::write_all(&mut c, &[round; 5]).unwrap();
        // Until the driver has dispatched the edge, the read waits.
        let mut got = None;
        for _ in 0..100 {
            turn(&mut driver);
            if let Poll::Ready(r) = read(&mut buf, &mut cx) {
                got = Some(r.unwrap());
                break;
            }
        }
        assert_eq!(got, Some(5), "round {round}: the 5 bytes are read");
        assert_eq!(buf[..5], [round; 5]);
        // Short read: readiness cleared. More data arrives; no driver
        // turn yet, so the read still waits (no `read(2)` was made).
        std::io::Write::write_all(&mut c, &[round + 100; 5]).unwrap();
        queued(5);
        assert!(read(&mut buf, &mut cx).is_pending(), "round {round}");
        // The driver dispatches the new edge: now it is read.
        turn(&mut driver);
        assert!(
            matches!(read(&mut buf, &mut cx), Poll::Ready(Ok(5))),
            "round {round}"
        );
        assert_eq!(buf[..5], [round + 100; 5]);
        turn(&mut driver);
        assert!(read(&mut buf, &mut cx).is_pending(), "round {round}");
    }
    // A full read keeps the readiness: 10 bytes queued, read 4 at a time.
    std::io::Write::write_all(&mut c, &[7; 10]).unwrap();
    let mut small = [0; 4];
    let mut got = None;
    for _ in 0..100 {
        turn(&mut driver);
        if let Poll::Ready(r) = read(&mut small, &mut cx) {
            got = Some(r.unwrap());
            break;
        }
    }
    assert_eq!(got, Some(4));
    assert!(matches!(read(&mut small, &mut cx), Poll::Ready(Ok(4))));
    assert!(matches!(read(&mut small, &mut cx), Poll::Ready(Ok(2))));
    assert!(read(&mut small, &mut cx).is_pending());
}

/// A loopback connection: the client (std), a clone of the server socket
/// to peek at its receive queue, and the server as a quell stream
/// registered with the current driver.
fn loopback_pair() -> (std::net::TcpStream, std::net::TcpStream, TcpStream) {
    let std_l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let c = std::net::TcpStream::connect(std_l.local_addr().unwrap()).unwrap();
    let (std_s, _) = std_l.accept().unwrap();
    let peeker = std_s.try_clone().unwrap();
    (c, peeker, TcpStream::from_std(std_s).unwrap())
}

/// Waits until `n` bytes sit in `peeker`'s receive queue (panics if they
/// never do: a hang bound, not a timing).
fn wait_queued(peeker: &std::net::TcpStream, n: usize) {
    let mut b = [0; 64];
    for _ in 0..10_000 {
        match peeker.peek(&mut b) {
            Ok(k) if k >= n => return,
            _ => std::thread::yield_now(),
        }
    }
    panic!("{n} bytes never arrived: hang");
}

/// The uninitialised read (what hyper's adapter uses) clears the read
/// readiness on a short read too: queued data then waits for the driver's
/// next edge instead of a `read(2)` that would answer `WouldBlock`.
#[test]
fn short_uninit_read_clears_readiness_too() {
    let mut driver = Driver::new().unwrap();
    let _enter = crate::context::enter(driver.handle().clone());
    let mut cx = Context::from_waker(Waker::noop());
    let turn = |d: &mut Driver| d.park(Some(Duration::from_millis(50)));
    let (mut c, peeker, s) = loopback_pair();
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 64];
    std::io::Write::write_all(&mut c, &[1; 5]).unwrap();
    let mut got = None;
    for _ in 0..100 {
        turn(&mut driver);
        if let Poll::Ready(r) = s.poll_read_uninit(&mut cx, &mut buf) {
            got = Some(r.unwrap());
            break;
        }
    }
    assert_eq!(got, Some(5), "the 5 bytes are read");
    // More data queued, no driver turn: the short read cleared the
    // readiness, so the read waits.
    std::io::Write::write_all(&mut c, &[2; 5]).unwrap();
    wait_queued(&peeker, 5);
    assert!(s.poll_read_uninit(&mut cx, &mut buf).is_pending());
    turn(&mut driver);
    assert!(matches!(
        s.poll_read_uninit(&mut cx, &mut buf),
        Poll::Ready(Ok(5))
    ));
}

#[test]
fn futures_io_on_unix_pair() {
    block_on(async {
        let (mut a, mut b) = UnixStream::pair()?;
        write_all(&mut a, b"unix").await?;
        close(&mut a).await?;
        assert_eq!(read_to_end(&mut b).await?, b"unix");
        Ok::<_, io::Error>(())
    })
    .unwrap();
}

#[test]
fn outside_a_runtime_creation_fails_with_a_clear_error() {
    let std_l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = TcpListener::from_std(std_l).unwrap_err();
    assert!(err.to_string().contains("no quell runtime"), "{err}");
}

#[test]
fn accept_error_classification() {
    use super::evented::accept_retrying;
    let mut calls = 0;
    let r: io::Result<u8> = accept_retrying(|| {
        calls += 1;
        match calls {
            1 => Err(io::Error::from_raw_os_error(libc::ECONNABORTED)),
            2 => Err(io::Error::from_raw_os_error(libc::EPROTO)),
            _ => Ok(7),
        }
    });
    assert_eq!((r.unwrap(), calls), (7, 3), "transient errors are retried");
    let r: io::Result<u8> = accept_retrying(|| Err(io::Error::from_raw_os_error(libc::EMFILE)));
    let e = r.unwrap_err();
    assert!(crate::net::is_resource_exhaustion(&e), "EMFILE is returned");
    for errno in [libc::ENFILE, libc::ENOBUFS, libc::ENOMEM] {
        assert!(crate::net::is_resource_exhaustion(
            &io::Error::from_raw_os_error(errno)
        ));
    }
    assert!(!crate::net::is_resource_exhaustion(
        &io::Error::from_raw_os_error(libc::ECONNABORTED)
    ));
}
