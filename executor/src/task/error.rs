//! `JoinError`: how a task ended when it did not return a value.

use std::any::Any;
use std::fmt;
use std::sync::Mutex;

use quell_cancel::Cancelled;

use super::id::Id;

/// Why awaiting a task did not produce its output.
///
/// A task that *observed* `Cancelled` and returned normally completed: its
/// own output says how. `JoinError` covers the two ways a task can end
/// without returning — it was aborted (its future dropped), or it panicked
/// — and one way the *wait* can end first: the task awaiting the handle was
/// cancelled while the task it awaits runs outside its scope
/// ([`is_awaiter_cancelled`](Self::is_awaiter_cancelled)). In that last
/// case the awaited task keeps running and the handle stays usable.
pub struct JoinError {
    id: Id,
    repr: Repr,
}

enum Repr {
    Aborted { by_shutdown: bool },
    Panicked(Mutex<Box<dyn Any + Send + 'static>>),
    AwaiterCancelled(Cancelled),
}

impl JoinError {
    pub(crate) fn aborted(id: Id, by_shutdown: bool) -> JoinError {
        JoinError {
            id,
            repr: Repr::Aborted { by_shutdown },
        }
    }

    pub(crate) fn panicked(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            repr: Repr::Panicked(Mutex::new(payload)),
        }
    }

    pub(crate) fn awaiter_cancelled(id: Id, c: Cancelled) -> JoinError {
        JoinError {
            id,
            repr: Repr::AwaiterCancelled(c),
        }
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.id
    }

    /// True if the task's future was dropped by `abort()` or by runtime
    /// shutdown (or it was spawned after shutdown).
    pub fn is_aborted(&self) -> bool {
        matches!(self.repr, Repr::Aborted { .. })
    }

    /// True if the abort came from runtime shutdown rather than `abort()`.
    pub fn is_shutdown(&self) -> bool {
        matches!(self.repr, Repr::Aborted { by_shutdown: true })
    }

    /// True if the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panicked(_))
    }

    /// True if the *awaiting* task was cancelled before the awaited one
    /// finished, and the awaited task is outside the awaiter's scope
    /// (detached, or under another token), so it was not cancelled with
    /// it. The awaited task keeps running; the `JoinHandle` can be awaited
    /// again (for example inside a `shield`), cancelled or aborted.
    pub fn is_awaiter_cancelled(&self) -> bool {
        matches!(self.repr, Repr::AwaiterCancelled(_))
    }

    /// The awaiter's cancellation (its cause), if the wait ended because
    /// the awaiting task was cancelled.
    pub fn awaiter_cancellation(&self) -> Option<&Cancelled> {
        match &self.repr {
            Repr::AwaiterCancelled(c) => Some(c),
            _ => None,
        }
    }

    /// The panic payload, if the task panicked.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panicked(p) => Ok(p.into_inner().unwrap_or_else(|e| e.into_inner())),
            _ => Err(self),
        }
    }

    /// The panic payload.
    ///
    /// # Panics
    ///
    /// If the task did not panic.
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError` reason is not a panic")
    }

    fn panic_message(&self) -> Option<String> {
        let Repr::Panicked(p) = &self.repr else {
            return None;
        };
        let p = p.lock().unwrap_or_else(|e| e.into_inner());
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Aborted { by_shutdown: false } => write!(f, "task {} was aborted", self.id),
            Repr::Aborted { by_shutdown: true } => {
                write!(f, "task {} was aborted by runtime shutdown", self.id)
            }
            Repr::Panicked(_) => match self.panic_message() {
                Some(m) => write!(f, "task {} panicked with message {m:?}", self.id),
                None => write!(f, "task {} panicked", self.id),
            },
            Repr::AwaiterCancelled(c) => {
                write!(
                    f,
                    "stopped waiting for task {}: the awaiting task was {c}",
                    self.id
                )
            }
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Aborted { by_shutdown } => f
                .debug_struct("JoinError::Aborted")
                .field("id", &self.id)
                .field("by_shutdown", by_shutdown)
                .finish(),
            Repr::Panicked(_) => f
                .debug_struct("JoinError::Panicked")
                .field("id", &self.id)
                .field("message", &self.panic_message())
                .finish(),
            Repr::AwaiterCancelled(c) => f
                .debug_struct("JoinError::AwaiterCancelled")
                .field("id", &self.id)
                .field("cancelled", c)
                .finish(),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    /// An awaiter-cancelled error becomes the awaiter's `Cancelled` (so
    /// `Cancelled::from_io` finds the cause); the others are `Other`.
    fn from(e: JoinError) -> std::io::Error {
        match e.repr {
            Repr::AwaiterCancelled(c) => c.into(),
            _ => std::io::Error::other(e),
        }
    }
}
