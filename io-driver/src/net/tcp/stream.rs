//! [`TcpStream`]: a TCP connection.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::panic::Location;

use crate::driver::sys;
use crate::loom::Arc;
use crate::net::evented::Evented;
use crate::net::resolve::{each_addr, resolve};
use crate::net::tcp::split::{OwnedReadHalf, OwnedWriteHalf};
use crate::net::tcp::split_borrowed::{ReadHalf, WriteHalf};
use crate::net::waiting::{on_pending, TCP_PEEK, TCP_READ, TCP_WRITE};
#[cfg(feature = "test-util")]
use crate::scheduled_io::Direction;

/// A TCP connection between a local and a remote socket.
///
/// Made by [`connect`](TcpStream::connect), [`TcpListener::accept`] or
/// [`from_std`](TcpStream::from_std). Reads and writes are the inherent
/// `async fn`s below, or the [`futures_io::AsyncRead`] /
/// [`futures_io::AsyncWrite`] impls (`poll_close` is
/// `shutdown(Shutdown::Write)`). [`into_split`](TcpStream::into_split)
/// gives owned halves for a reading task and a writing task.
///
/// The waiting reads and writes take `&mut self` (one reader, one writer);
/// `ready`, `readable`, `writable`, `peek` and the `try_*` calls take
/// `&self`, so a stream in an `Arc` serves many tasks, as in tokio.
/// [`split`](TcpStream::split) borrows a read half and a write half for
/// one task.
///
/// # Cancellation
///
/// `connect` (its host-name lookup too), `read`, `read_vectored`, `peek`,
/// `write`, `write_vectored`, `ready`/`readable`/`writable`, and each step
/// of `read_exact`, `read_to_end`, `read_buf` and `write_all` are cancel
/// points (`try_*` never wait, so are not). A task that is cancelled (by its
/// handle, or any ancestor token) before or while it waits gets `Err(e)`
/// with [`Cancelled::from_io(&e)`] carrying the cause; the wait's waker is
/// removed from the stream (C7). Each call makes at most one syscall, after
/// the cancel check: it returns the bytes it moved, or `Cancelled` and
/// moved none. **The stream stays open**: a [`shield`]ed cleanup (or
/// another task) can still write a goodbye and read what is left. A
/// cancelled `connect` closes the half-made socket.
///
/// [`TcpListener::accept`]: crate::net::TcpListener::accept
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
/// use std::io::{Read, Write};
/// use quell_io_driver::net::TcpStream;
///
/// // An echo server on a plain thread, a quell client.
/// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let addr = server.local_addr()?;
/// std::thread::spawn(move || -> std::io::Result<()> {
///     let (mut s, _) = server.accept()?;
///     let mut buf = [0; 5];
///     s.read_exact(&mut buf)?;
///     s.write_all(&buf)
/// });
/// block_on(async {
///     let mut stream = TcpStream::connect(addr).await?;
///     stream.set_nodelay(true)?;
///     assert_eq!(stream.write(b"hello").await?, 5);
///     let mut buf = [0; 5];
///     let mut got = 0;
///     while got < 5 {
///         got += stream.read(&mut buf[got..]).await?;
///     }
///     assert_eq!(&buf, b"hello");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpStream {
    /// Shared with the halves (`tcp::split`) and the tokio-io adapter.
    pub(crate) io: Evented<sys::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each resolved address in turn.
    ///
    /// The connect is nonblocking: the task waits for writability, then
    /// the outcome is read from `SO_ERROR` (`take_error`) and `peer_addr`.
    /// A host name is resolved off the workers (the runtime's blocking
    /// pool, see [`lookup_host`](crate::net::lookup_host)); an IP literal
    /// never touches the resolver.
    ///
    /// # Errors
    ///
    /// `Cancelled` (during the lookup, or the connect: the half-made
    /// socket is closed; no other address is tried), or the last address's connect error (`ConnectionRefused`,
    /// …), or no runtime on this thread.
    pub async fn connect(addr: impl crate::net::ToSocketAddrs) -> io::Result<TcpStream> {
        let addrs = resolve(addr).await?;
        each_addr(addrs, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::from_mio(sys::net::TcpStream::connect(addr)?)?
            .connected()
            .await
    }

    /// Waits for a nonblocking connect of this socket to finish (a cancel
    /// point: on `Cancelled` the socket is dropped, so closed).
    pub(crate) async fn connected(self) -> io::Result<TcpStream> {
        poll_fn(|cx| {
            self.io
                .poll_connected(cx, |s| s.take_error(), |s| s.peer_addr().map(drop))
        })
        .await?;
        Ok(self)
    }

    pub(crate) fn from_mio(s: sys::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Evented::new(s)?,
        })
    }

    /// Wraps a connected std stream (switching it to nonblocking mode) and
    /// registers it with the current thread's driver.
    ///
    /// # Errors
    ///
    /// No runtime on this thread, or registration failed.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(sys::net::TcpStream::from_std(stream))
    }

    /// Reads into `buf` once readable: one `read(2)`. `Ok(0)` is EOF (or an
    /// empty `buf`).
    ///
    /// # Errors
    ///
    /// `Cancelled` (nothing was read; the stream stays usable), or the
    /// socket's error (`ConnectionReset`, …).
    #[track_caller]
    pub fn read<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        let (at, fd, io) = (Location::caller(), self.as_raw_fd(), &self.io);
        poll_fn(move |cx| on_pending(io.poll_read(cx, buf), &TCP_READ, at, fd))
    }

    /// Scatter read: one `readv(2)` once readable. Errors as
    /// [`read`](Self::read).
    pub async fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.read_vectored(bufs).await
    }

    /// Reads without consuming: one `recv(MSG_PEEK)` once readable. Takes
    /// `&self` (nothing is consumed, so tasks sharing the stream may peek).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    #[track_caller]
    pub fn peek<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        let (at, fd, io) = (Location::caller(), self.as_raw_fd(), &self.io);
        poll_fn(move |cx| {
            let p = io.poll_read_with(cx, buf, sys::net::TcpStream::peek);
            on_pending(p, &TCP_PEEK, at, fd)
        })
    }

    /// Writes from `buf` once writable: one `write(2)`, which may write
    /// less than `buf.len()`.
    ///
    /// # Errors
    ///
    /// `Cancelled` (nothing was written), or the socket's error
    /// (`BrokenPipe`, `ConnectionReset`, …).
    #[track_caller]
    pub fn write<'a>(
        &'a mut self,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        let (at, fd, io) = (Location::caller(), self.as_raw_fd(), &self.io);
        poll_fn(move |cx| on_pending(io.poll_write(cx, buf), &TCP_WRITE, at, fd))
    }

    /// Gather write: one `writev(2)` once writable. Errors as
    /// [`write`](Self::write).
    pub async fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.write_vectored(bufs).await
    }

    stream_io_methods!();

    /// Shuts down the read, write, or both halves (`shutdown(2)`); never
    /// waits. `Shutdown::Write` sends FIN: the peer reads EOF.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm when `true`).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// The `TCP_NODELAY` option.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` option.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// The local address of this connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The remote address of this connection.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Splits into a read half and a write half that can move to different
    /// tasks (they share the socket through an `Arc`). Put them back
    /// together with [`OwnedReadHalf::reunite`].
    ///
    /// Dropping the write half shuts down the write direction (the peer
    /// reads EOF) unless [`OwnedWriteHalf::forget`] was called.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        crate::net::tcp::split::split(Arc::new(self))
    }

    /// Splits into a read half and a write half that borrow the stream
    /// (no `Arc`, no allocation): for reading and writing at once inside
    /// one task, e.g. two futures joined. Dropping them shuts nothing down.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        crate::net::tcp::split_borrowed::split(self)
    }

    /// Whether a task's waker is parked in a read on this stream (tests of
    /// C7: it must be `false` once a cancelled read has returned).
    #[cfg(feature = "test-util")]
    pub fn has_read_waiter(&self) -> bool {
        self.io.has_waiter(Direction::Read)
    }

    /// A probe of this stream's waiter slots that another thread can keep
    /// while a task owns the stream (tests of C7).
    #[cfg(feature = "test-util")]
    pub fn waiter_probe(&self) -> crate::net::IoProbe {
        self.io.probe()
    }

    /// Whether a task's waker is parked in a write on this stream.
    #[cfg(feature = "test-util")]
    pub fn has_write_waiter(&self) -> bool {
        self.io.has_waiter(Direction::Write)
    }
}

impl_async_read!(TcpStream, |s| s.io);
impl_async_write!(TcpStream, |s| s.io);

impl std::os::fd::AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for TcpStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
