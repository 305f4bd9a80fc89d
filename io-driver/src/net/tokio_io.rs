//! The tokio-io adapter (cargo feature `tokio-io`): quell's stream types
//! implement [`tokio::io::AsyncRead`] and [`tokio::io::AsyncWrite`], so
//! crates written against tokio's I/O traits (tokio-rustls, tonic's
//! transports, `tokio_util::codec`, …) run on quell streams directly, with
//! no compat wrapper.
//!
//! The impls are the same one-syscall-after-the-cancel-check polls as the
//! inherent methods and the `futures-io` impls, so a cancelled task's read
//! through a tokio adapter answers `Cancelled` (as an `io::Error`) with no
//! bytes taken. `poll_read` reads straight into the `ReadBuf`'s
//! uninitialised part (no zero-fill); `poll_shutdown` is
//! `shutdown(Shutdown::Write)`.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::ReadBuf;

use crate::net::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpStream, UnixStream, WriteHalf};

macro_rules! impl_tokio_read {
    ($ty:ty, |$this:ident| $io:expr) => {
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                let $this = &*self;
                // SAFETY: `poll_read_uninit` only writes into the slice
                // (never de-initialises a byte), as `unfilled_mut` asks.
                let unfilled = unsafe { buf.unfilled_mut() };
                let n = ready!($io.poll_read_uninit(cx, unfilled))?;
                // SAFETY: `read(2)` initialised the first `n` bytes of the
                // unfilled part.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
        }
    };
}

macro_rules! impl_tokio_write {
    ($ty:ty, |$this:ident| $io:expr) => {
        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $io.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $io.poll_write_vectored(cx, bufs)
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
                let $this = &*self;
                Poll::Ready($io.get_ref().shutdown(std::net::Shutdown::Write))
            }
        }
    };
}

impl_tokio_read!(TcpStream, |s| s.io);
impl_tokio_write!(TcpStream, |s| s.io);
impl_tokio_read!(UnixStream, |s| s.io);
impl_tokio_write!(UnixStream, |s| s.io);
impl_tokio_read!(OwnedReadHalf, |h| h.as_ref().io);
impl_tokio_write!(OwnedWriteHalf, |h| h.as_ref().io);
impl_tokio_read!(ReadHalf<'_>, |h| h.as_ref().io);
impl_tokio_write!(WriteHalf<'_>, |h| h.as_ref().io);
