//! [`UnixStream`]: a Unix-domain stream connection.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use crate::driver::sys;
use crate::net::evented::Evented;
#[cfg(feature = "test-util")]
use crate::scheduled_io::Direction;

/// A Unix-domain stream connection.
///
/// Reads and writes behave as on [`TcpStream`](crate::net::TcpStream),
/// cancellation included: each call is one syscall after the cancel check,
/// `Cancelled` means no bytes moved, and the stream stays open. Implements
/// [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`]
/// (`poll_close` is `shutdown(Shutdown::Write)`).
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
/// use quell_io_driver::net::UnixStream;
///
/// block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write(b"ping").await?;
///     let mut buf = [0; 4];
///     assert_eq!(b.read(&mut buf).await?, 4);
///     assert_eq!(&buf, b"ping");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixStream {
    /// Also reached by the tokio-io adapter.
    pub(crate) io: Evented<sys::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`; waits for the connect to complete
    /// (a cancel point: `Cancelled` closes the half-made socket).
    ///
    /// # Errors
    ///
    /// `Cancelled`, the connect error (`NotFound`, `ConnectionRefused`,
    /// …), or no runtime on this thread.
    #[track_caller]
    pub fn connect(
        path: impl AsRef<Path>,
    ) -> impl std::future::Future<Output = io::Result<UnixStream>> {
        let fut = async move {
            let s = UnixStream::from_mio(sys::net::UnixStream::connect(path)?)?;
            poll_fn(|cx| {
                s.io.poll_connected(cx, |s| s.take_error(), |s| s.peer_addr().map(drop))
            })
            .await?;
            Ok(s)
        };
        crate::net::waiting::recorded_plain(
            fut,
            &crate::net::waiting::UNIX_CONNECT,
            std::panic::Location::caller(),
        )
    }

    /// A connected pair of streams (`socketpair(2)`).
    ///
    /// # Errors
    ///
    /// `socketpair(2)` failures, or no runtime on this thread.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = sys::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    /// Wraps a connected std stream (switching it to nonblocking mode) and
    /// registers it with the current thread's driver.
    ///
    /// # Errors
    ///
    /// No runtime on this thread, or registration failed.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(sys::net::UnixStream::from_std(stream))
    }

    pub(crate) fn from_mio(s: sys::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Evented::new(s)?,
        })
    }

    /// Reads into `buf` once readable: one `read(2)`; `Ok(0)` is EOF.
    ///
    /// # Errors
    ///
    /// `Cancelled` (nothing read; the stream stays usable), or the
    /// socket's error.
    #[track_caller]
    pub fn read<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl std::future::Future<Output = io::Result<usize>> + Send + 'a {
        use crate::net::waiting::{on_pending, UNIX_READ};
        use std::os::fd::AsRawFd;
        let (at, fd, io) = (std::panic::Location::caller(), self.as_raw_fd(), &self.io);
        poll_fn(move |cx| on_pending(io.poll_read(cx, buf), &UNIX_READ, at, fd))
    }

    /// Scatter read: one `readv(2)` once readable.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.read_vectored(bufs).await
    }

    /// Writes from `buf` once writable: one `write(2)`.
    ///
    /// # Errors
    ///
    /// `Cancelled` (nothing written), or the socket's error.
    #[track_caller]
    pub fn write<'a>(
        &'a mut self,
        buf: &'a [u8],
    ) -> impl std::future::Future<Output = io::Result<usize>> + Send + 'a {
        use crate::net::waiting::{on_pending, UNIX_WRITE};
        use std::os::fd::AsRawFd;
        let (at, fd, io) = (std::panic::Location::caller(), self.as_raw_fd(), &self.io);
        poll_fn(move |cx| on_pending(io.poll_write(cx, buf), &UNIX_WRITE, at, fd))
    }

    /// Gather write: one `writev(2)` once writable.
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    pub async fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.write_vectored(bufs).await
    }

    stream_io_methods!(UnixStream);

    /// Shuts down the read, write, or both halves; never waits.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Whether a task's waker is parked in a read (tests of C7).
    #[cfg(feature = "test-util")]
    pub fn has_read_waiter(&self) -> bool {
        self.io.has_waiter(Direction::Read)
    }
}

impl_async_read!(UnixStream, |s| s.io);
impl_async_write!(UnixStream, |s| s.io);

impl std::os::fd::AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
