//! [`GroupError`]: the first failure of a fallible group.

use std::error::Error;
use std::fmt;
use std::marker::PhantomData;

use quell_cancel::Cause;

use crate::task::JoinError;

/// The first failure of a [`TryTaskGroup`](super::TryTaskGroup) or a
/// [`scope`](fn@super::scope): a member (or the scope's body) returned
/// `Err(E)`, or a member panicked or was aborted.
///
/// It wraps the [`Cause`] the group's members were cancelled with — the
/// same `Cause` (`Cause::same`) each of them saw, unless the group had
/// already been cancelled (by its parent, or explicitly), in which case
/// members kept that earlier cause. The error travels in the cause, so it
/// is borrowed, not owned: [`error`](Self::error) or
/// [`join_error`](Self::join_error).
pub struct GroupError<E> {
    cause: Cause,
    _e: PhantomData<fn() -> E>,
}

impl<E: Error + Send + Sync + 'static> GroupError<E> {
    pub(crate) fn new(cause: Cause) -> GroupError<E> {
        GroupError {
            cause,
            _e: PhantomData,
        }
    }

    /// The cause members were cancelled with (kind `GroupFailure`).
    pub fn cause(&self) -> &Cause {
        &self.cause
    }

    /// The member's (or the body's) `Err` value, if that was the failure.
    pub fn error(&self) -> Option<&E> {
        self.cause.error_ref()?.downcast_ref::<E>()
    }

    /// How the member ended, if it panicked or was aborted.
    pub fn join_error(&self) -> Option<&JoinError> {
        self.cause.error_ref()?.downcast_ref::<JoinError>()
    }

    /// Whether the failure was a member's panic.
    pub fn is_panic(&self) -> bool {
        self.join_error().is_some_and(JoinError::is_panic)
    }
}

impl<E> Clone for GroupError<E> {
    fn clone(&self) -> Self {
        GroupError {
            cause: self.cause.clone(),
            _e: PhantomData,
        }
    }
}

impl<E> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GroupError").field(&self.cause).finish()
    }
}

impl<E> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<E: Error + Send + Sync + 'static> Error for GroupError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause.error_ref().map(|e| e as &(dyn Error + 'static))
    }
}
