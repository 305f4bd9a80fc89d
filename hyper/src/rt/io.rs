//! [`QuellIo`]: hyper's `Read` / `Write` on quell's TCP and Unix streams.

use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use quell_cancel::shield;
use quell_io_driver::net::{TcpStream, UnixStream};

/// A quell stream as hyper's I/O: `hyper::rt::Read` reads straight into
/// hyper's uninitialised buffer (one `read(2)`, no zero-fill),
/// `hyper::rt::Write` writes vectored (one `writev(2)`), `poll_flush` is
/// a no-op (no user-space buffer) and `poll_shutdown` sends FIN.
///
/// Two modes, chosen at construction:
///
/// * [`QuellIo::new`]: each read and write is a quell cancel point, as on
///   the stream itself: in a cancelled task it answers `Cancelled` (an
///   `io::Error`, see [`Cancelled::from_io`](quell_cancel::Cancelled::from_io))
///   having moved no bytes, and hyper fails the connection. The client's
///   connections use this: their tasks run under the client's token, and
///   its cancellation closes them.
/// * [`QuellIo::shielded`]: reads and writes ignore the task's
///   cancellation. The server driver uses this: a cancelled handler may
///   still answer (a 503), and hyper must be able to write that answer
///   on a connection whose task is cancelled. The driver stops the
///   connection itself (graceful shutdown on drain, dropped after the
///   cancel grace).
///
/// ```
/// use hyper::rt::{Read, ReadBuf, Write};
/// use quell_hyper::rt::QuellIo;
/// use quell_io_driver::net::UnixStream;
/// use std::future::poll_fn;
/// use std::mem::MaybeUninit;
/// use std::pin::Pin;
///
/// let rt = quell_executor::Runtime::new()?;
/// rt.block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     let (mut a, mut b) = (QuellIo::new(a), QuellIo::new(b));
///     let n = poll_fn(|cx| Pin::new(&mut a).poll_write(cx, b"hello")).await?;
///     assert_eq!(n, 5);
///     let mut storage = [MaybeUninit::<u8>::uninit(); 16];
///     let mut buf = ReadBuf::uninit(&mut storage);
///     poll_fn(|cx| Pin::new(&mut b).poll_read(cx, buf.unfilled())).await?;
///     assert_eq!(buf.filled(), b"hello");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct QuellIo<T> {
    inner: T,
    shielded: bool,
}

impl<T: Stream> QuellIo<T> {
    /// Reads and writes are cancel points.
    pub fn new(inner: T) -> QuellIo<T> {
        QuellIo {
            inner,
            shielded: false,
        }
    }

    /// Reads and writes ignore the current task's cancellation.
    pub fn shielded(inner: T) -> QuellIo<T> {
        QuellIo {
            inner,
            shielded: true,
        }
    }

    /// Whether reads and writes ignore cancellation.
    pub fn is_shielded(&self) -> bool {
        self.shielded
    }

    /// The stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The stream, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// Runs one poll of a stream, inside a shield if `shielded`.
fn guard<R>(
    shielded: bool,
    cx: &mut Context<'_>,
    mut f: impl FnMut(&mut Context<'_>) -> Poll<R> + Unpin,
) -> Poll<R> {
    if shielded {
        Pin::new(&mut shield(poll_fn(f))).poll(cx)
    } else {
        f(cx)
    }
}

/// The quell streams [`QuellIo`] wraps: [`TcpStream`] and [`UnixStream`].
/// Sealed; the methods are the streams' own polls.
pub trait Stream: sealed::Sealed + Unpin {}

mod sealed {
    use super::*;

    pub trait Sealed {
        fn poll_read_uninit(
            &self,
            cx: &mut Context<'_>,
            buf: &mut [MaybeUninit<u8>],
        ) -> Poll<io::Result<usize>>;
        fn poll_write_vectored(
            &mut self,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>>;
        fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
        fn shutdown_write(&self) -> io::Result<()>;
    }
}

macro_rules! impl_stream {
    ($ty:ty) => {
        impl sealed::Sealed for $ty {
            fn poll_read_uninit(
                &self,
                cx: &mut Context<'_>,
                buf: &mut [MaybeUninit<u8>],
            ) -> Poll<io::Result<usize>> {
                <$ty>::poll_read_uninit(self, cx, buf)
            }
            fn poll_write_vectored(
                &mut self,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write_vectored(Pin::new(self), cx, bufs)
            }
            fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write(Pin::new(self), cx, buf)
            }
            fn shutdown_write(&self) -> io::Result<()> {
                self.shutdown(std::net::Shutdown::Write)
            }
        }
        impl Stream for $ty {}
    };
}

impl_stream!(TcpStream);
impl_stream!(UnixStream);

impl<T: Stream> hyper::rt::Read for QuellIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // SAFETY: `poll_read_uninit` only writes into the slice (one
        // `read(2)`), never de-initialises a byte, as `as_mut` requires.
        let unfilled = unsafe { buf.as_mut() };
        let inner = &this.inner;
        let n = ready!(guard(this.shielded, cx, |cx| inner.poll_read_uninit(cx, unfilled)))?;
        // SAFETY: `read(2)` returned `n`, so it initialised the first `n`
        // bytes of the unfilled part.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: Stream> hyper::rt::Write for QuellIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let shielded = this.shielded;
        let inner = &mut this.inner;
        guard(shielded, cx, |cx| inner.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let shielded = this.shielded;
        let inner = &mut this.inner;
        guard(shielded, cx, |cx| inner.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// No user-space buffer: always ready.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// `shutdown(Shutdown::Write)`: the peer reads EOF.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.inner.shutdown_write())
    }
}

impl hyper_util::client::legacy::connect::Connection for QuellIo<TcpStream> {
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        hyper_util::client::legacy::connect::Connected::new()
    }
}
