//! [`UdpSocket`]: UDP datagrams.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::panic::Location;
use std::task::{Context, Poll};

use crate::driver::sys;
use crate::net::evented::Evented;
use crate::net::resolve::{each_addr, resolve};
use crate::net::waiting::{
    on_pending, recorded, UDP_PEEK_FROM, UDP_RECV, UDP_RECV_FROM, UDP_SEND, UDP_SEND_TO,
};
use crate::scheduled_io::Direction;

/// A UDP socket.
///
/// Unconnected: [`send_to`](UdpSocket::send_to) /
/// [`recv_from`](UdpSocket::recv_from). After
/// [`connect`](UdpSocket::connect): [`send`](UdpSocket::send) /
/// [`recv`](UdpSocket::recv), which only exchange datagrams with that peer.
///
/// Several tasks may wait to receive and to send at the same time (with
/// the socket in an `Arc`): the registration keeps a waiter list per
/// direction and readiness wakes every waiter.
///
/// # Cancellation
///
/// `send`, `send_to`, `recv` and `recv_from` are cancel points: a
/// cancelled task gets `Err(e)` with
/// [`Cancelled::from_io(&e)`](quell_cancel::Cancelled::from_io), its waker
/// is removed, and no datagram was sent or consumed by that call (the
/// check comes before the syscall). The socket stays usable.
/// `ready`/`readable`/`writable` are cancel points too (nothing moved);
/// `try_send(_to)` / `try_recv(_from)` never wait and are not.
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
/// use quell_io_driver::net::UdpSocket;
///
/// block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"ping", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UdpSocket {
    io: Evented<sys::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr`, trying each resolved address in turn.
    /// Waits only for a host-name lookup (a cancel point, see
    /// [`lookup_host`](crate::net::lookup_host)); an IP literal never
    /// waits.
    ///
    /// # Errors
    ///
    /// `Cancelled` during a lookup, resolution or `bind(2)` failures, or
    /// no runtime on this thread.
    #[track_caller]
    pub fn bind(
        addr: impl crate::net::ToSocketAddrs,
    ) -> impl Future<Output = io::Result<UdpSocket>> {
        let fut = async move {
            let addrs = resolve(addr).await?;
            each_addr(addrs, |a| async move {
                UdpSocket::new(sys::net::UdpSocket::bind(a)?)
            })
            .await
        };
        crate::net::waiting::recorded_plain(fut, &crate::net::waiting::UDP_BIND, Location::caller())
    }

    /// Wraps a std socket (switching it to nonblocking mode) and registers
    /// it with the current thread's driver.
    ///
    /// # Errors
    ///
    /// No runtime on this thread, or registration failed.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::new(sys::net::UdpSocket::from_std(socket))
    }

    fn new(s: sys::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: Evented::new(s)?,
        })
    }

    /// Sets the default peer: `send` goes there and `recv` only accepts
    /// datagrams from it. Tries each resolved address until one succeeds.
    /// Waits only for a host-name lookup (a cancel point).
    ///
    /// # Errors
    ///
    /// `Cancelled` during a lookup, resolution or `connect(2)` failures.
    #[track_caller]
    pub fn connect<'a, A: crate::net::ToSocketAddrs + 'a>(
        &'a self,
        addr: A,
    ) -> impl Future<Output = io::Result<()>> + 'a {
        let fut = async move {
            let addrs = resolve(addr).await?;
            each_addr(addrs, |a| async move { self.io.get_ref().connect(a) }).await
        };
        let at = Location::caller();
        crate::net::waiting::recorded_plain(fut, &crate::net::waiting::UDP_CONNECT, at)
    }

    /// Sends `buf` to the connected peer once writable; returns the bytes
    /// sent.
    ///
    /// # Errors
    ///
    /// `Cancelled` (nothing sent), not connected, or the socket's error
    /// (`ConnectionRefused` after an ICMP port unreachable, …).
    #[track_caller]
    pub fn send<'a>(&'a self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let (at, fd) = (Location::caller(), self.as_raw_fd());
        poll_fn(move |cx| on_pending(self.poll_send(cx, buf), &UDP_SEND, at, fd))
    }

    /// The poll form of [`send`](Self::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .reg()
            .poll_io(cx, Direction::Write, || self.io.get_ref().send(buf))
    }

    /// Receives one datagram from the connected peer once readable; a
    /// datagram longer than `buf` is truncated.
    ///
    /// # Errors
    ///
    /// `Cancelled` (no datagram consumed), or the socket's error.
    #[track_caller]
    pub fn recv<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let (at, fd) = (Location::caller(), self.as_raw_fd());
        poll_fn(move |cx| on_pending(self.poll_recv(cx, buf), &UDP_RECV, at, fd))
    }

    /// The poll form of [`recv`](Self::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io
            .reg()
            .poll_io(cx, Direction::Read, || self.io.get_ref().recv(buf))
    }

    /// Sends `buf` to `target` once writable; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// `Cancelled` (nothing sent), or `sendto(2)`'s error.
    #[track_caller]
    pub fn send_to<'a>(
        &'a self,
        buf: &'a [u8],
        target: SocketAddr,
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        let (at, fd) = (Location::caller(), self.as_raw_fd());
        poll_fn(move |cx| on_pending(self.poll_send_to(cx, buf, target), &UDP_SEND_TO, at, fd))
    }

    /// The poll form of [`send_to`](Self::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io.reg().poll_io(cx, Direction::Write, || {
            self.io.get_ref().send_to(buf, target)
        })
    }

    /// Receives one datagram and its sender once readable.
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
        poll_fn(move |cx| on_pending(self.poll_recv_from(cx, buf), &UDP_RECV_FROM, at, fd))
    }

    /// The poll form of [`recv_from`](Self::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io
            .reg()
            .poll_io(cx, Direction::Read, || self.io.get_ref().recv_from(buf))
    }

    /// Receives a datagram without consuming it, once readable.
    ///
    /// # Errors
    ///
    /// As [`recv_from`](Self::recv_from).
    #[track_caller]
    pub fn peek_from<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + 'a {
        let (at, fd) = (Location::caller(), self.as_raw_fd());
        let io = &self.io;
        let fut = async move {
            io.reg()
                .async_io(Direction::Read, || io.get_ref().peek_from(buf))
                .await
        };
        recorded(fut, &UDP_PEEK_FROM, at, fd)
    }

    readiness_methods!(UdpSocket);

    /// One `send(2)` to the connected peer now, without waiting
    /// (`WouldBlock` if the send buffer is full; it clears the readiness,
    /// so the next [`writable`](Self::writable) waits). Not a cancel point.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, not connected, or the socket's error.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send(buf))
    }

    /// One `sendto(2)` now, without waiting; as [`try_send`](Self::try_send).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or `sendto(2)`'s error.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send_to(buf, target))
    }

    /// One `recv(2)` from the connected peer now, without waiting
    /// (`WouldBlock` if no datagram is queued; it clears the readiness, so
    /// the next [`readable`](Self::readable) waits). Not a cancel point.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the socket's error.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |s| s.recv(buf))
    }

    /// One `recvfrom(2)` now, without waiting; as [`try_recv`](Self::try_recv).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or `recvfrom(2)`'s error.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| s.recv_from(buf))
    }

    /// The local address this socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Whether a task's waker is parked in a receive (tests of C7).
    #[cfg(feature = "test-util")]
    pub fn has_recv_waiter(&self) -> bool {
        self.io.has_waiter(Direction::Read)
    }
}

impl std::os::fd::AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for UdpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
