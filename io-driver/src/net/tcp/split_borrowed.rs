//! Borrowed halves of a [`TcpStream`]: [`ReadHalf`] and [`WriteHalf`],
//! from [`TcpStream::split`]. No `Arc`, no shutdown on drop: the stream
//! is whole again when both borrows end.
//!
//! Each half uses one direction's waiter list of the registration, so two
//! futures of the same task (say, joined) read and write at once.

use std::fmt;

use crate::net::TcpStream;

/// The read half of a borrowed [`TcpStream`], from [`TcpStream::split`].
/// Reads are cancel points exactly as on the stream.
pub struct ReadHalf<'a> {
    inner: &'a TcpStream,
}

/// The write half of a borrowed [`TcpStream`], from [`TcpStream::split`].
/// Writes are cancel points exactly as on the stream; dropping the half
/// does not shut anything down.
pub struct WriteHalf<'a> {
    inner: &'a TcpStream,
}

pub(crate) fn split(stream: &mut TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    let stream = &*stream;
    (ReadHalf { inner: stream }, WriteHalf { inner: stream })
}

impl ReadHalf<'_> {
    read_half_methods!(ReadHalf);
}

impl WriteHalf<'_> {
    write_half_methods!(WriteHalf);

    /// Shuts down the write direction now (the peer reads EOF).
    ///
    /// # Errors
    ///
    /// `shutdown(2)`'s error.
    pub fn shutdown(&self) -> std::io::Result<()> {
        self.inner.shutdown(std::net::Shutdown::Write)
    }
}

impl AsRef<TcpStream> for ReadHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.inner
    }
}

impl AsRef<TcpStream> for WriteHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.inner
    }
}

impl_async_read!(ReadHalf<'_>, |h| h.inner.io);
impl_async_write!(WriteHalf<'_>, |h| h.inner.io);

impl fmt::Debug for ReadHalf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf")
            .field("stream", self.inner)
            .finish()
    }
}

impl fmt::Debug for WriteHalf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf")
            .field("stream", self.inner)
            .finish()
    }
}
