//! [`DropGuard`]: cancel a token when a scope ends, unless disarmed.

use crate::{CancelToken, Cause};

/// Cancels its token with `Cause::explicit("drop guard")` when dropped,
/// unless [`disarm`](DropGuard::disarm)ed. Made by
/// [`CancelToken::drop_guard`].
///
/// ```
/// use quell_cancel::CancelToken;
///
/// let token = CancelToken::new();
/// {
///     let _guard = token.clone().drop_guard();
/// } // cancelled here
/// assert!(token.is_cancelled());
///
/// let other = CancelToken::new();
/// let back = other.clone().drop_guard().disarm();
/// assert!(back.same(&other) && !other.is_cancelled());
/// ```
#[must_use = "dropping the guard at once cancels the token"]
#[derive(Debug)]
pub struct DropGuard(Option<CancelToken>);

impl DropGuard {
    pub(crate) fn new(token: CancelToken) -> DropGuard {
        DropGuard(Some(token))
    }

    /// Gives the token back without cancelling it.
    pub fn disarm(mut self) -> CancelToken {
        self.0
            .take()
            .expect("a guard holds its token until dropped or disarmed")
    }

    /// The guarded token.
    pub fn token(&self) -> &CancelToken {
        self.0
            .as_ref()
            .expect("a guard holds its token until dropped or disarmed")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(token) = self.0.take() {
            token.cancel(Cause::explicit("drop guard"));
        }
    }
}
