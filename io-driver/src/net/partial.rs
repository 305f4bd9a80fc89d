//! [`Partial`]: the error of a call that moves many bytes (`write_all`,
//! `read_exact`) and stopped part way, with how far it got.

use std::error::Error;
use std::fmt;
use std::io;

/// `write_all` or `read_exact` stopped before the end: `bytes()` had
/// already been written (read into the front of the buffer) when
/// `error()` happened.
///
/// The count is exact: each underlying call is one syscall after the
/// cancel check, and a call that answers `Cancelled` moved nothing, so on
/// a cancel the peer has received exactly `bytes()` bytes of the buffer
/// (for `write_all`), or exactly `bytes()` bytes were taken off the stream
/// (for `read_exact`). Resume with `&buf[partial.bytes()..]`.
///
/// `?` turns a `Partial` into its inner `io::Error` (the count is
/// dropped), so [`Cancelled::from_io`](quell_cancel::Cancelled::from_io)
/// still recognises a cancel after the conversion:
///
/// ```
/// # use quell_io_driver::net::Partial;
/// # use quell_cancel::{Cancelled, Cause};
/// fn check(p: Partial) {
///     let n = p.bytes();
///     let e: std::io::Error = p.into();
///     assert!(Cancelled::from_io(&e).is_some());
///     # assert_eq!(n, 0);
/// }
/// # let c: std::io::Error = Cancelled::new(Cause::explicit("x"), false).into();
/// # check(Partial::new(0, c));
/// ```
pub struct Partial {
    bytes: usize,
    error: io::Error,
}

impl Partial {
    /// A stop after `bytes` bytes, because of `error`.
    pub fn new(bytes: usize, error: io::Error) -> Partial {
        Partial { bytes, error }
    }

    /// How many bytes had been moved before the error.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// What stopped the transfer (`Cancelled`, `WriteZero`,
    /// `UnexpectedEof`, the socket's error, …).
    pub fn error(&self) -> &io::Error {
        &self.error
    }

    /// The error, without the count.
    pub fn into_error(self) -> io::Error {
        self.error
    }

    /// Whether the transfer was stopped by a cancel of the task.
    pub fn is_cancelled(&self) -> bool {
        quell_cancel::Cancelled::is_cancelled_io(&self.error)
    }
}

impl From<Partial> for io::Error {
    /// The inner error as it is (a `Cancelled` stays recoverable with
    /// `Cancelled::from_io`); the count is dropped.
    fn from(p: Partial) -> io::Error {
        p.error
    }
}

impl fmt::Debug for Partial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Partial")
            .field("bytes", &self.bytes)
            .field("error", &self.error)
            .finish()
    }
}

impl fmt::Display for Partial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stopped after {} bytes: {}", self.bytes, self.error)
    }
}

impl Error for Partial {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.error)
    }
}
