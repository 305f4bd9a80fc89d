//! Why a token was cancelled: [`Cause`] and its [`CauseKind`].
//!
//! A cause is written once, by the first `cancel` that reaches a node, and is
//! then shared (not copied) with every descendant, so [`Cause::same`] tells
//! whether two observers saw the *same* originating cancellation.
//!
//! Most constructors allocate one `Arc` (the payload is shared, not copied,
//! down the tree). [`Cause::from_static`] does not: it holds a
//! `&'static str` by value, so a hot path can cancel with a fixed message
//! and allocate nothing for the cause (what `same` means for such a cause
//! is spelled out on [`Cause::same`]).

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
/// Cheap to clone: the payload lives behind an `Arc` (or is a
/// `&'static str`, for [`Cause::from_static`]), and clones compare equal
/// under [`Cause::same`].
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
pub struct Cause(Repr);

#[derive(Clone)]
enum Repr {
    /// Every constructor but `from_static`: one allocation, shared by clones.
    Shared(Arc<Inner>),
    /// `from_static`: an explicit cause whose message is static; no
    /// allocation, the clones copy the reference.
    Static(&'static str),
}

struct Inner {
    kind: CauseKind,
    message: Option<String>,
    error: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl Cause {
    fn build(kind: CauseKind, message: Option<String>) -> Cause {
        Cause::shared(Inner {
            kind,
            message,
            error: None,
        })
    }

    fn shared(inner: Inner) -> Cause {
        Cause(Repr::Shared(Arc::new(inner)))
    }

    /// An explicit cancellation with a static message, built without
    /// allocating (a `const fn`, so it can also be a `static` or `const`).
    /// It behaves like [`Cause::explicit`] in every way but one:
    /// [`Cause::same`] compares static causes by their message, so two
    /// cancels with the same static message are `same`.
    ///
    /// ```
    /// use quell_cancel::{CancelToken, Cause, CauseKind};
    ///
    /// // A hot path: nothing is allocated for the cause.
    /// const IDLE: Cause = Cause::from_static("connection idle");
    /// let conn = CancelToken::new();
    /// conn.cancel(IDLE);
    /// let c = conn.cause().unwrap();
    /// assert_eq!(c.kind(), &CauseKind::Explicit);
    /// assert_eq!(c.message(), Some("connection idle"));
    /// assert_eq!(c.to_string(), "connection idle");
    /// assert!(c.same(&IDLE));
    /// assert!(!c.same(&Cause::from_static("shutting down")));
    /// assert!(!c.same(&Cause::explicit("connection idle")));
    /// ```
    pub const fn from_static(msg: &'static str) -> Cause {
        Cause(Repr::Static(msg))
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
        Cause::shared(Inner {
            kind: CauseKind::Explicit,
            message: None,
            error: Some(Box::new(err)),
        })
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
        Cause::shared(Inner {
            kind: CauseKind::GroupFailure,
            message: None,
            error: Some(Box::new(err)),
        })
    }

    /// The category of this cause.
    pub fn kind(&self) -> &CauseKind {
        match &self.0 {
            Repr::Shared(inner) => &inner.kind,
            Repr::Static(_) => &CauseKind::Explicit,
        }
    }

    /// The message given to [`Cause::explicit`], [`Cause::from_static`] or
    /// [`Cause::group_failure`].
    pub fn message(&self) -> Option<&str> {
        match &self.0 {
            Repr::Shared(inner) => inner.message.as_deref(),
            Repr::Static(msg) => Some(msg),
        }
    }

    /// The error given to [`Cause::error`] or [`Cause::group_failure_error`].
    pub fn error_ref(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        match &self.0 {
            Repr::Shared(inner) => inner.error.as_deref(),
            Repr::Static(_) => None,
        }
    }

    /// Whether `self` and `other` are the same originating cause, as
    /// opposed to two causes that merely look alike. Exactly:
    ///
    /// * Two allocated causes (every constructor but
    ///   [`Cause::from_static`]) are `same` iff one is a clone of the
    ///   other: two `Cause::explicit("x")` calls are two cancellations.
    /// * Two static causes are `same` iff their messages are equal: a
    ///   static cause names a *reason*, not an event, and carries no
    ///   identity of its own (it has nowhere to keep one without
    ///   allocating). Two cancels with `Cause::from_static("idle")` cannot
    ///   be told apart by `same`; use distinct messages, or an allocating
    ///   constructor, where that matters (which of two racing cancels won).
    /// * A static cause is never `same` as an allocated one, even with an
    ///   equal message.
    ///
    /// In every case a cause is `same` as its clones, so whatever the
    /// tree hands to a descendant is `same` as what the canceller passed.
    pub fn same(&self, other: &Cause) -> bool {
        match (&self.0, &other.0) {
            (Repr::Shared(a), Repr::Shared(b)) => Arc::ptr_eq(a, b),
            (Repr::Static(a), Repr::Static(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Cause");
        d.field("kind", self.kind());
        if let Some(m) = self.message() {
            d.field("message", &m);
        }
        if let Some(e) = self.error_ref() {
            d.field("error", &e);
        }
        d.finish()
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind(), self.message(), self.error_ref()) {
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
