//! `JoinError`: how a task ended when it did not return a value.

use std::any::Any;
use std::fmt;
use std::sync::Mutex;

use super::id::Id;

/// Why a task did not produce its output.
///
/// A task that *observed* `Cancelled` and returned normally completed: its
/// own output says how. `JoinError` covers the two ways a task can end
/// without returning: it was aborted (its future dropped), or it panicked.
pub struct JoinError {
    id: Id,
    repr: Repr,
}

enum Repr {
    Aborted { by_shutdown: bool },
    Panicked(Mutex<Box<dyn Any + Send + 'static>>),
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
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e)
    }
}
