//! [`UnixDatagram`]: Unix-domain datagrams.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::SocketAddr;
use std::panic::Location;
use std::path::Path;
use std::task::{Context, Poll};

use crate::driver::sys;
use crate::net::evented::Evented;
use crate::net::waiting::{
    on_pending, recorded, UNIX_DGRAM_RECV, UNIX_DGRAM_RECV_FROM, UNIX_DGRAM_SEND,
    UNIX_DGRAM_SEND_TO,
};
use crate::scheduled_io::Direction;

/// A Unix-domain datagram socket.
///
/// Made by [`bind`](UnixDatagram::bind) (at a path),
/// [`unbound`](UnixDatagram::unbound) or [`pair`](UnixDatagram::pair).
/// Unconnected: [`send_to`](UnixDatagram::send_to) /
/// [`recv_from`](UnixDatagram::recv_from); after
/// [`connect`](UnixDatagram::connect) (or from `pair`):
/// [`send`](UnixDatagram::send) / [`recv`](UnixDatagram::recv). All take
/// `&self`: share the socket in an `Arc` and many tasks can wait.
///
/// # Cancellation
///
/// `send`, `send_to`, `recv`, `recv_from` and `ready` are cancel points,
/// as on [`UdpSocket`](crate::net::UdpSocket): `Cancelled` (recoverable
/// with [`Cancelled::from_io`](quell_cancel::Cancelled::from_io)) means no
/// datagram was sent or consumed by that call, the waker is removed, and
/// the socket stays usable. `bind`, `connect`, `pair`, `try_*` never wait.
///
/// # Example
///
/// ```
/// # use std::future::Future;
/// # use std::task::{Context, Poll, Waker};
/// # fn block_on<F: Future>(f: F) -> F::Output {
/// #     let mut driver = quell_io_driver::rt_internal::Driver::new().unwrap();
/// #     let _enter = quell_io_driver::rt_internal::context::enter(driver.handle().clone());
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = Context::from_waker(Waker::noop());
/// #     loop {
/// #         if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
/// #         driver.park(Some(std::time::Duration::from_millis(10)));
/// #     }
/// # }
/// use quell_io_driver::net::UnixDatagram;
///
/// block_on(async {
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"ping").await?;
///     let mut buf = [0; 16];
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixDatagram {
    io: Evented<sys::net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path` (which must not exist yet); never waits.
    ///
    /// # Errors
    ///
    /// `bind(2)` failures (`AddrInUse`, …), or no runtime on this thread.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::new(sys::net::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address (it can still `send_to`, and `connect`).
    ///
    /// # Errors
    ///
    /// `socket(2)` failures, or no runtime on this thread.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::new(sys::net::UnixDatagram::unbound()?)
    }

    /// A connected pair of sockets (`socketpair(2)`).
    ///
    /// # Errors
    ///
    /// `socketpair(2)` failures, or no runtime on this thread.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = sys::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::new(a)?, UnixDatagram::new(b)?))
    }

    /// Wraps a std socket (switching it to nonblocking mode) and registers
    /// it with the current thread's driver.
    ///
    /// # Errors
    ///
    /// No runtime on this thread, or registration failed.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::new(sys::net::UnixDatagram::from_std(socket))
    }

    fn new(s: sys::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: Evented::new(s)?,
        })
    }

    /// Sets the default peer to the socket at `path`; never waits.
    ///
    /// # Errors
    ///
    /// `connect(2)` failures (`NotFound`, …).
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends `buf` to the connected peer once writable.
    ///
    /// # Errors
    ///
    /// `Cancelled` (nothing sent), not connected, or the socket's error.
    #[track_caller]
    pub fn send<'a>(&'a self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let (at, fd) = (Location::caller(), self.as_raw_fd());
        poll_fn(move |cx| on_pending(self.poll_send(cx, buf), &UNIX_DGRAM_SEND, at, fd))
    }

    /// The poll form of [`send`](Self::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .reg()
            .poll_io(cx, Direction::Write, || self.io.get_ref().send(buf))
    }

    /// Receives one datagram from the connected peer once readable (a
    /// longer datagram is truncated).
    ///
    /// # Errors
    ///
    /// `Cancelled` (no datagram consumed), or the socket's error.
    #[track_caller]
    pub fn recv<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let (at, fd) = (Location::caller(), self.as_raw_fd());
        poll_fn(move |cx| on_pending(self.poll_recv(cx, buf), &UNIX_DGRAM_RECV, at, fd))
    }

    /// The poll form of [`recv`](Self::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io
            .reg()
            .poll_io(cx, Direction::Read, || self.io.get_ref().recv(buf))
    }

    /// Sends `buf` to the socket at `target` once writable.
    ///
    /// # Errors
    ///
    /// `Cancelled` (nothing sent), or `sendto(2)`'s error.
    #[track_caller]
    pub fn send_to<'a, P: AsRef<Path> + 'a>(
        &'a self,
        buf: &'a [u8],
        target: P,
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        let (at, fd) = (Location::caller(), self.as_raw_fd());
        let io = &self.io;
        let fut = async move {
            let target = target.as_ref();
            io.reg()
                .async_io(Direction::Write, || io.get_ref().send_to(buf, target))
                .await
        };
        recorded(fut, &UNIX_DGRAM_SEND_TO, at, fd)
    }

    /// Receives one datagram and its sender's address once readable.
    ///
    /// # Errors
    ///
    /// `Cancelled` (no datagram consumed), or `recvfrom(2)`'s error.
    #[track_caller]
    pub fn recv_from<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + 'a {
        let (at, fd) = (Location::caller(), self.as_raw_fd());
        let io = &self.io;
        let fut = async move {
            io.reg()
                .async_io(Direction::Read, || io.get_ref().recv_from(buf))
                .await
        };
        recorded(fut, &UNIX_DGRAM_RECV_FROM, at, fd)
    }

    readiness_methods!(UnixDatagram);

    /// One `send(2)` now, without waiting (`WouldBlock` clears the
    /// readiness). Not a cancel point.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the socket's error.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send(buf))
    }

    /// One `recv(2)` now, without waiting (`WouldBlock` clears the
    /// readiness). Not a cancel point.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the socket's error.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |s| s.recv(buf))
    }

    /// Shuts down the read, write, or both directions; never waits.
    ///
    /// # Errors
    ///
    /// `shutdown(2)` failures.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// `getsockname(2)` failures.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// Not connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// `getsockopt(2)` failures.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl std::os::fd::AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
