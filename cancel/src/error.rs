//! [`Cancelled`]: the error every runtime await point returns once the
//! current task is cancelled, and its round trip through [`std::io::Error`].

use std::error::Error;
use std::fmt;
use std::io;

use crate::Cause;

/// The `io::ErrorKind` a [`Cancelled`] travels under inside an `io::Error`.
///
/// `Other`, because std's retry loops (`read_exact`, `write_all`,
/// `read_to_end`, …) retry exactly `Interrupted` and nothing else, and the
/// other candidates carry meanings that callers act on (`WouldBlock` means
/// "poll again", `TimedOut` would make an explicit cancel look like a
/// timeout). One kind for every cause keeps the test simple: use
/// [`Cancelled::is_cancelled_io`] or [`Cancelled::from_io`], which recover the
/// cause by downcast.
const IO_KIND: io::ErrorKind = io::ErrorKind::Other;

/// The operation was cancelled; carries the originating [`Cause`].
///
/// ```
/// use quell_cancel::{Cancelled, Cause};
///
/// let err = Cancelled::new(Cause::shutdown(), true);
/// assert!(err.is_inherited());
///
/// // Through io::Error and back, cause intact:
/// let io: std::io::Error = err.clone().into();
/// assert_ne!(io.kind(), std::io::ErrorKind::Interrupted);
/// let back = Cancelled::from_io(&io).unwrap();
/// assert!(back.cause().same(err.cause()));
/// ```
#[derive(Clone, Debug)]
pub struct Cancelled {
    cause: Cause,
    inherited: bool,
}

impl Cancelled {
    /// A cancellation with `cause`; `inherited` says whether the token that
    /// was cancelled is an ancestor of the one observed.
    pub fn new(cause: Cause, inherited: bool) -> Cancelled {
        Cancelled { cause, inherited }
    }

    /// The originating cause.
    pub fn cause(&self) -> &Cause {
        &self.cause
    }

    /// `true` when the cancellation came from an ancestor token rather than
    /// the observed token itself.
    pub fn is_inherited(&self) -> bool {
        self.inherited
    }

    /// Recovers the `Cancelled` carried by an `io::Error` built with
    /// `From<Cancelled>`; `None` for any other `io::Error`.
    pub fn from_io(err: &io::Error) -> Option<&Cancelled> {
        err.get_ref()?.downcast_ref::<Cancelled>()
    }

    /// Whether `err` carries a `Cancelled`.
    pub fn is_cancelled_io(err: &io::Error) -> bool {
        Cancelled::from_io(err).is_some()
    }
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cancelled: {}", self.cause)?;
        if self.inherited {
            f.write_str(" (inherited from an ancestor scope)")?;
        }
        Ok(())
    }
}

impl Error for Cancelled {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self.cause.error_ref() {
            Some(e) => Some(e),
            None => None,
        }
    }
}

impl From<Cancelled> for io::Error {
    /// Wraps with kind `ErrorKind::Other` (never `Interrupted`, which std's
    /// retry loops would retry forever); see [`Cancelled::from_io`].
    fn from(c: Cancelled) -> io::Error {
        io::Error::new(IO_KIND, c)
    }
}
