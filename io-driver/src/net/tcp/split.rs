//! Owned halves of a [`TcpStream`]: [`OwnedReadHalf`] and
//! [`OwnedWriteHalf`], sharing the stream through an `Arc`.
//!
//! The registration has a reader and a writer waiter list; the halves use
//! one each (their `&mut self` receivers keep it at one waiting task per
//! direction), so a reading task and a writing task wait independently.

use std::error::Error;
use std::fmt;
use std::net::Shutdown;

use crate::loom::Arc;
use crate::net::TcpStream;

/// The read half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// Reads are cancel points exactly as on [`TcpStream`]: `Cancelled`
/// means nothing was read, and the stream stays open.
pub struct OwnedReadHalf {
    inner: Arc<TcpStream>,
}

/// The write half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// Writes are cancel points exactly as on [`TcpStream`]. Dropping the
/// half shuts down the write direction (the peer reads EOF), unless
/// [`forget`](OwnedWriteHalf::forget) was called.
pub struct OwnedWriteHalf {
    inner: Arc<TcpStream>,
    shutdown_on_drop: bool,
}

pub(crate) fn split(stream: Arc<TcpStream>) -> (OwnedReadHalf, OwnedWriteHalf) {
    (
        OwnedReadHalf {
            inner: stream.clone(),
        },
        OwnedWriteHalf {
            inner: stream,
            shutdown_on_drop: true,
        },
    )
}

/// [`OwnedReadHalf::reunite`] was given halves of two different streams;
/// they are handed back.
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Debug for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReuniteError").finish_non_exhaustive()
    }
}

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same TcpStream")
    }
}

impl Error for ReuniteError {}

impl OwnedReadHalf {
    /// Puts the halves back together into the original [`TcpStream`].
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] (with both halves) if they come from different
    /// streams.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Arc::ptr_eq(&self.inner, &other.inner) {
            return Err(ReuniteError(self, other));
        }
        let mut other = other;
        other.shutdown_on_drop = false;
        drop(other);
        Ok(Arc::try_unwrap(self.inner)
            .unwrap_or_else(|_| unreachable!("both halves were given, so no other owner remains")))
    }

    read_half_methods!(OwnedReadHalf);
}

impl OwnedWriteHalf {
    /// Puts the halves back together; see [`OwnedReadHalf::reunite`].
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] if the halves come from different streams.
    pub fn reunite(self, other: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        other.reunite(self)
    }

    /// Drops the half *without* shutting down the write direction.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    write_half_methods!(OwnedWriteHalf);

    /// Shuts down the write direction now (the peer reads EOF).
    ///
    /// # Errors
    ///
    /// `shutdown(2)`'s error.
    pub fn shutdown(&self) -> std::io::Result<()> {
        self.inner.shutdown(Shutdown::Write)
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.inner.shutdown(Shutdown::Write);
        }
    }
}

impl AsRef<TcpStream> for OwnedReadHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl AsRef<TcpStream> for OwnedWriteHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl_async_read!(OwnedReadHalf, |h| h.inner.io);
impl_async_write!(OwnedWriteHalf, |h| h.inner.io);

impl fmt::Debug for OwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedReadHalf")
            .field("stream", &*self.inner)
            .finish()
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedWriteHalf")
            .field("stream", &*self.inner)
            .finish()
    }
}
