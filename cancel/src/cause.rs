//! Why a token was cancelled: [`Cause`] and its [`CauseKind`].
//!
//! A cause is written once, by the first `cancel` that reaches a node, and is
//! then shared (not copied) with every descendant, so [`Cause::same`] tells
//! whether two observers saw the *same* originating cancellation.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// The category of a cancellation.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CauseKind {
    /// Cancelled by user code (`CancelToken::cancel`, a drop guard, an error).
    Explicit,
    /// The scope's deadline was reached.
    DeadlineExceeded,
    /// The runtime is shutting down.
    Shutdown,
    /// A process signal (the signal number) asked the program to stop.
    Signal(i32),
    /// A sibling task of a task group failed, so the group was cancelled.
    GroupFailure,
}

/// Why a token was cancelled.
///
/// Cheap to clone: the payload lives behind an `Arc`, and clones compare
/// equal under [`Cause::same`].
///
/// ```
/// use quell_cancel::{Cause, CauseKind};
///
/// let c = Cause::explicit("user pressed stop");
/// assert_eq!(c.kind(), &CauseKind::Explicit);
/// assert_eq!(c.message(), Some("user pressed stop"));
/// assert!(c.same(&c.clone()));
/// assert!(!c.same(&Cause::explicit("user pressed stop")));
/// ```
#[derive(Clone)]
pub struct Cause(Arc<Inner>);

struct Inner {
    kind: CauseKind,
    message: Option<String>,
    error: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl Cause {
    fn build(kind: CauseKind, message: Option<String>) -> Cause {
        Cause(Arc::new(Inner {
            kind,
            message,
            error: None,
        }))
    }

    /// An explicit cancellation carrying a user message.
    pub fn explicit(msg: impl Into<String>) -> Cause {
        Cause::build(CauseKind::Explicit, Some(msg.into()))
    }

    /// An explicit cancellation carrying a user error as payload; recover it
    /// with [`Cause::error_ref`].
    ///
    /// ```
    /// use quell_cancel::Cause;
    ///
    /// let io = std::io::Error::other("disk on fire");
    /// let c = Cause::error(io);
    /// assert_eq!(c.error_ref().unwrap().to_string(), "disk on fire");
    /// ```
    pub fn error<E: Error + Send + Sync + 'static>(err: E) -> Cause {
        Cause(Arc::new(Inner {
            kind: CauseKind::Explicit,
            message: None,
            error: Some(Box::new(err)),
        }))
    }

    /// The scope's deadline was reached.
    pub fn deadline_exceeded() -> Cause {
        Cause::build(CauseKind::DeadlineExceeded, None)
    }

    /// The runtime is shutting down.
    pub fn shutdown() -> Cause {
        Cause::build(CauseKind::Shutdown, None)
    }

    /// Signal `signo` (for example `SIGINT` = 2) asked the program to stop.
    pub fn signal(signo: i32) -> Cause {
        Cause::build(CauseKind::Signal(signo), None)
    }

    /// A task group was cancelled because one of its members failed.
    pub fn group_failure(msg: impl Into<String>) -> Cause {
        Cause::build(CauseKind::GroupFailure, Some(msg.into()))
    }

    /// A task group was cancelled because one of its members failed with
    /// `err`; recover the error with [`Cause::error_ref`] (and
    /// `downcast_ref`). Every member of the group sees this one cause.
    ///
    /// ```
    /// use quell_cancel::{Cause, CauseKind};
    ///
    /// let c = Cause::group_failure_error(std::io::Error::other("upstream down"));
    /// assert_eq!(c.kind(), &CauseKind::GroupFailure);
    /// let e = c.error_ref().unwrap().downcast_ref::<std::io::Error>().unwrap();
    /// assert_eq!(e.to_string(), "upstream down");
    /// assert_eq!(c.to_string(), "group failure: upstream down");
    /// ```
    pub fn group_failure_error<E: Error + Send + Sync + 'static>(err: E) -> Cause {
        Cause(Arc::new(Inner {
            kind: CauseKind::GroupFailure,
            message: None,
            error: Some(Box::new(err)),
        }))
    }

    /// The category of this cause.
    pub fn kind(&self) -> &CauseKind {
        &self.0.kind
    }

    /// The message given to [`Cause::explicit`] or [`Cause::group_failure`].
    pub fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    /// The error given to [`Cause::error`] or [`Cause::group_failure_error`].
    pub fn error_ref(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        self.0.error.as_deref()
    }

    /// Whether `self` and `other` are the same originating cause (clones of
    /// one `Cause`), as opposed to two causes that merely look alike.
    pub fn same(&self, other: &Cause) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Cause");
        d.field("kind", &self.0.kind);
        if let Some(m) = &self.0.message {
            d.field("message", m);
        }
        if let Some(e) = &self.0.error {
            d.field("error", e);
        }
        d.finish()
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.kind, self.message(), self.error_ref()) {
            (CauseKind::Explicit, Some(m), _) => write!(f, "{m}"),
            (CauseKind::Explicit, None, Some(e)) => write!(f, "{e}"),
            (CauseKind::Explicit, None, None) => f.write_str("explicitly cancelled"),
            (CauseKind::DeadlineExceeded, ..) => f.write_str("deadline exceeded"),
            (CauseKind::Shutdown, ..) => f.write_str("runtime shutdown"),
            (CauseKind::Signal(n), ..) => write!(f, "signal {n}"),
            (CauseKind::GroupFailure, Some(m), _) => write!(f, "group failure: {m}"),
            (CauseKind::GroupFailure, None, Some(e)) => write!(f, "group failure: {e}"),
            (CauseKind::GroupFailure, None, None) => f.write_str("group failure"),
        }
    }
}
