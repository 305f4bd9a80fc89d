//! [`TcpSocket`]: a TCP socket configured before it becomes a listener or
//! a connection.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use socket2::{Domain, Protocol, Socket, Type};

use crate::net::{TcpListener, TcpStream};

/// A TCP socket not yet listening or connected: set options, `bind`, then
/// [`listen`](TcpSocket::listen) or [`connect`](TcpSocket::connect).
///
/// Only `connect` waits (a cancel point, exactly as
/// [`TcpStream::connect`]: `Cancelled` closes the half-made socket); the
/// rest are immediate syscalls. The socket is nonblocking and
/// close-on-exec from the start.
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
/// use quell_io_driver::net::TcpSocket;
///
/// block_on(async {
///     let socket = TcpSocket::new_v4()?;
///     socket.set_reuseaddr(true)?;
///     socket.bind("127.0.0.1:0".parse().unwrap())?;
///     let listener = socket.listen(128)?;
///
///     let client = TcpSocket::new_v4()?;
///     client.set_nodelay(true)?;
///     let stream = client.connect(listener.local_addr()?).await?;
///     assert!(stream.nodelay()?);
///     let (_conn, peer) = listener.accept().await?;
///     assert_eq!(peer, stream.local_addr()?);
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket.
    ///
    /// # Errors
    ///
    /// `socket(2)` failures (`EMFILE`, …).
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket.
    ///
    /// # Errors
    ///
    /// `socket(2)` failures.
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6)
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        // socket2 sets close-on-exec atomically at creation.
        let inner = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
        inner.set_nonblocking(true)?;
        Ok(TcpSocket { inner })
    }

    /// Sets `SO_REUSEADDR` (bind a port whose old connections linger in
    /// `TIME_WAIT`).
    ///
    /// # Errors
    ///
    /// `setsockopt(2)` failures.
    pub fn set_reuseaddr(&self, on: bool) -> io::Result<()> {
        self.inner.set_reuse_address(on)
    }

    /// The `SO_REUSEADDR` option.
    ///
    /// # Errors
    ///
    /// `getsockopt(2)` failures.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT` (several sockets bound to one port; the kernel
    /// spreads connections among their listeners).
    ///
    /// # Errors
    ///
    /// `setsockopt(2)` failures.
    pub fn set_reuseport(&self, on: bool) -> io::Result<()> {
        self.inner.set_reuse_port(on)
    }

    /// The `SO_REUSEPORT` option.
    ///
    /// # Errors
    ///
    /// `getsockopt(2)` failures.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Sets `TCP_NODELAY` (kept by the stream `connect` makes).
    ///
    /// # Errors
    ///
    /// `setsockopt(2)` failures.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(on)
    }

    /// Sets `SO_SNDBUF`.
    ///
    /// # Errors
    ///
    /// `setsockopt(2)` failures.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// Sets `SO_RCVBUF`.
    ///
    /// # Errors
    ///
    /// `setsockopt(2)` failures.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// Binds to `addr`; never waits.
    ///
    /// # Errors
    ///
    /// `bind(2)` failures (`AddrInUse`, …).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// The local address (after `bind`).
    ///
    /// # Errors
    ///
    /// `getsockname(2)` failures, or an address that is not IP.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("not an IP socket address"))
    }

    /// Starts listening with a backlog of `backlog` connections and
    /// registers the listener with the current thread's driver; never
    /// waits.
    ///
    /// # Errors
    ///
    /// `listen(2)` failures, or no runtime on this thread.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        self.inner.listen(backlog.min(i32::MAX as u32) as i32)?;
        TcpListener::from_std(self.inner.into())
    }

    /// Connects to `addr` and waits for the handshake.
    ///
    /// # Errors
    ///
    /// `Cancelled` (a cancel point; the half-made socket is closed), the
    /// connect error (`ConnectionRefused`, …), or no runtime on this
    /// thread.
    #[track_caller]
    pub fn connect(
        self,
        addr: SocketAddr,
    ) -> impl std::future::Future<Output = io::Result<TcpStream>> {
        use crate::net::waiting::{recorded, TCP_SOCKET_CONNECT};
        let (at, fd) = (std::panic::Location::caller(), self.as_raw_fd());
        let fut = async move {
            match self.inner.connect(&addr.into()) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
                Err(e) => return Err(e),
            }
            let stream = TcpStream::from_std(self.inner.into())?;
            stream.connected().await
        };
        recorded(fut, &TCP_SOCKET_CONNECT, at, fd)
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
