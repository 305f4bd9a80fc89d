//! Drain, as the server driver reads it from a token: "stop taking work,
//! let in-flight work finish". A cancel implies it.
//!
//! Placeholder until quell-cancel's drain API lands: draining is read as
//! cancelled.

use std::future::Future;

use quell_cancel::{CancelToken, Cause};

/// Resolves when `token` starts draining (or is cancelled). Not a cancel
/// point.
pub(crate) fn draining(token: &CancelToken) -> impl Future<Output = ()> + Send {
    let wait = token.cancelled();
    async move {
        wait.await;
    }
}

/// Asks `token`'s subtree to drain.
pub(crate) fn drain(token: &CancelToken, cause: Cause) {
    token.cancel(cause);
}
