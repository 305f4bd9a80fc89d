//! [`shield`]: run a future (typically async cleanup) without observing the
//! current task's cancellation.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::context;

/// Polls `fut` inside a shielded section: while it runs, the current task's
/// cancellation is not observed (runtime
/// await points, [`checkpoint`](fn@crate::checkpoint) and
/// [`Cancellable`](crate::Cancellable) answer normally). The shield covers
/// only the polls of `fut`; the cancellation is observed again afterwards.
///
/// ```
/// use quell_cancel::{is_cancelled, shield};
///
/// // Outside a task nothing is ever observed; inside one, a shielded
/// // cleanup runs to the end even if the task was cancelled.
/// let cleanup = shield(async { assert!(!is_cancelled()); 42 });
/// # let _ = cleanup;
/// ```
pub fn shield<F: Future>(fut: F) -> Shield<F> {
    Shield { fut }
}

/// Future returned by [`shield`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Shield<F> {
    fut: F,
}

impl<F> Shield<F> {
    /// Unwraps the inner future.
    pub fn into_inner(self) -> F {
        self.fut
    }
}

impl<F: Future> Future for Shield<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pin projection. `fut` is never moved out of a
        // pinned `Shield` (`into_inner` takes `self` by value, so it needs an
        // unpinned one), `Shield` has no `Drop` impl, and it is `Unpin` only
        // when `F` is (auto trait).
        let fut = unsafe { self.map_unchecked_mut(|s| &mut s.fut) };
        context::shielded(|| fut.poll(cx))
    }
}
