//! [`FirstFailure`]: exactly one first failure per fallible group, and the
//! group's token cancelled with it.
//!
//! # Protocol
//!
//! A member that fails (its future returned `Err`, or the waiter joined it
//! panicked or aborted) calls [`FirstFailure::fail`] with a cause built
//! from that error:
//!
//! 1. Under the slot's lock: if the slot is empty, store the cause (this
//!    caller is *first*); otherwise leave it (a later failure). The check
//!    and the store are one critical section, so two concurrent failures
//!    cannot both find it empty: exactly one is first.
//! 2. The first caller, after the unlock, cancels the group's token with
//!    that same cause (no user code — token wakers — runs under the lock).
//!    The token's own first-cause-wins rule makes every member see one
//!    cause: this one, or an earlier cancel of the group or its parent
//!    (then the cancel returns false and members keep the inherited cause).
//!
//! # Invariants
//!
//! * At most one `fail` returns `true`; the slot, once set, never changes.
//! * When `fail` returns (either way), the token is cancelled or about to
//!   be by the first caller, which stored before the cancel: a member that
//!   observes the token cancelled with a `GroupFailure` cause observes the
//!   stored cause (`Cause::same`).
//!
//! The loom model `loom_group` races two failing members against a member
//! waiting on the token.

use quell_cancel::{CancelToken, Cause};

use crate::loom::Mutex;

pub(crate) struct FirstFailure {
    first: Mutex<Option<Cause>>,
}

impl FirstFailure {
    pub(crate) fn new() -> FirstFailure {
        FirstFailure {
            first: Mutex::new(None),
        }
    }

    /// Records `cause` if it is the first failure and, if so, cancels
    /// `token` with it. Returns whether it was first.
    pub(crate) fn fail(&self, token: &CancelToken, cause: Cause) -> bool {
        {
            let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
            if first.is_some() {
                return false;
            }
            *first = Some(cause.clone());
        }
        token.cancel(cause);
        true
    }

    /// The first failure, if any.
    pub(crate) fn get(&self) -> Option<Cause> {
        self.first.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
