//! [`TcpListener`]: accepts TCP connections.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use crate::driver::sys;
use crate::net::evented::{accept_retrying, Evented};
use crate::net::resolve::{each_addr, resolve};
use crate::net::TcpStream;
use crate::scheduled_io::Direction;

/// A TCP socket server, listening for connections.
///
/// Created with [`bind`](TcpListener::bind) or
/// [`from_std`](TcpListener::from_std); connections are taken with
/// [`accept`](TcpListener::accept). Dropping the listener deregisters it
/// from the driver and closes it.
///
/// # Cancellation
///
/// `accept` is a cancel point: a task cancelled while it waits for a
/// connection gets `Err(e)` with [`Cancelled::from_io(&e)`] carrying the
/// cause; its waker is removed from the listener, and the listener stays
/// open: a later `accept` (by a task that is not cancelled, or inside a
/// [`shield`]) takes the next connection. No connection is lost: the
/// cancel is checked before `accept(2)` is called, never after.
///
/// [`Cancelled::from_io(&e)`]: quell_cancel::Cancelled::from_io
/// [`shield`]: quell_cancel::shield
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
/// use std::io::Write;
/// use quell_io_driver::net::TcpListener;
///
/// block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let client = std::thread::spawn(move || {
///         std::net::TcpStream::connect(addr)?.write_all(b"hi")
///     });
///     let (mut stream, peer) = listener.accept().await?;
///     let mut buf = [0; 2];
///     assert_eq!(stream.read(&mut buf).await?, 2);
///     assert_eq!(&buf, b"hi");
///     assert_eq!(stream.peer_addr()?, peer);
///     client.join().unwrap()
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpListener {
    io: Evented<sys::net::TcpListener>,
}

impl TcpListener {
    /// Binds a listener to `addr` (with `SO_REUSEADDR`), trying each
    /// resolved address in turn.
    ///
    /// A host name is resolved off the workers (see
    /// [`lookup_host`](crate::net::lookup_host)); the wait for it is the
    /// only cancel point (an IP literal does not wait at all).
    ///
    /// # Errors
    ///
    /// `Cancelled` during a lookup, resolution or `bind(2)` failures (the
    /// last one if every address failed), or no runtime on this thread.
    /// Binding itself is immediate.
    #[track_caller]
    pub fn bind(
        addr: impl crate::net::ToSocketAddrs,
    ) -> impl std::future::Future<Output = io::Result<TcpListener>> {
        let fut = async move {
            let addrs = resolve(addr).await?;
            each_addr(addrs, |a| async move {
                TcpListener::new(sys::net::TcpListener::bind(a)?)
            })
            .await
        };
        crate::net::waiting::recorded_plain(
            fut,
            &crate::net::waiting::TCP_BIND,
            std::panic::Location::caller(),
        )
    }

    /// Wraps a std listener (switching it to nonblocking mode) and
    /// registers it with the current thread's driver.
    ///
    /// # Errors
    ///
    /// No runtime on this thread, or registration failed.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::new(sys::net::TcpListener::from_std(listener))
    }

    fn new(l: sys::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: Evented::new(l)?,
        })
    }

    /// Accepts a connection: waits until one is pending, then takes it.
    ///
    /// Connections that died in the backlog (`ECONNABORTED`) are skipped
    /// internally.
    ///
    /// # Errors
    ///
    /// * `Cancelled` (see the type's docs): the task was cancelled while
    ///   waiting; the listener is unaffected.
    /// * **Descriptor or memory exhaustion** (`EMFILE`, `ENFILE`,
    ///   `ENOBUFS`, `ENOMEM`; test with
    ///   [`is_resource_exhaustion`](crate::net::is_resource_exhaustion)):
    ///   returned as is, and the listener stays usable. The pending
    ///   connection stays in the backlog, so calling `accept` again at once
    ///   fails again at once: **back off** (sleep, or wait until one of
    ///   your connections closes) before the next `accept`, or the accept
    ///   loop spins. The runtime never retries these for you.
    /// * Any other `accept(2)` error, or registering the new stream failed.
    #[track_caller]
    pub fn accept(
        &self,
    ) -> impl std::future::Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send + '_ {
        use crate::net::waiting::{on_pending, TCP_ACCEPT};
        use std::os::fd::AsRawFd;
        let (at, fd) = (std::panic::Location::caller(), self.as_raw_fd());
        std::future::poll_fn(move |cx| on_pending(self.poll_accept(cx), &TCP_ACCEPT, at, fd))
    }

    /// Polls for a connection; the poll form of [`accept`](Self::accept),
    /// with the same errors. Only the waker of the last call is kept.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let p = self.io.reg().poll_io(cx, Direction::Read, || {
            accept_retrying(|| self.io.get_ref().accept())
        });
        if p.is_pending() {
            // For a dump (no caller location: `accept` records its own).
            use std::os::fd::AsRawFd;
            let fd = self.as_raw_fd();
            crate::net::waiting::record_poll(&crate::net::waiting::TCP_ACCEPT, fd);
        }
        let (s, addr) = std::task::ready!(p)?;
        Poll::Ready(TcpStream::from_mio(s).map(|s| (s, addr)))
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `IP_TTL` for accepted and outgoing packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` option.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Whether a task's waker is parked in `accept` (tests of C7).
    #[cfg(feature = "test-util")]
    pub fn has_accept_waiter(&self) -> bool {
        self.io.has_waiter(Direction::Read)
    }
}

impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
