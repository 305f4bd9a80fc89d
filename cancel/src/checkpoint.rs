//! Observing the current task's cancellation: [`checkpoint`],
//! [`Cancellable`], [`current`] and [`is_cancelled`].

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::wait::{self, AwaitPoint};
use crate::{context, CancelToken, Cancelled};

/// A future that is ready at once: `Err(Cancelled)` if the current task's
/// cancellation is observed here (the same answer as every runtime await
/// point), else `Ok(())`. It does not yield.
///
/// ```
/// # let waker = std::task::Waker::noop();
/// # let mut cx = std::task::Context::from_waker(&waker);
/// use std::future::Future;
/// use quell_cancel::checkpoint;
///
/// // Outside a task nothing is cancelled.
/// let mut cp = checkpoint();
/// assert!(matches!(std::pin::Pin::new(&mut cp).poll(&mut cx), std::task::Poll::Ready(Ok(()))));
/// ```
pub fn checkpoint() -> Checkpoint {
    Checkpoint(())
}

/// Future returned by [`checkpoint`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Checkpoint(());

impl Future for Checkpoint {
    type Output = Result<(), Cancelled>;

    #[inline]
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(match context::observed() {
            Some(c) => Err(c),
            None => Ok(()),
        })
    }
}

/// Adds [`cancellable`](CancellableExt::cancellable) to every future.
pub trait CancellableExt: Future + Sized {
    /// Wraps the future so that each poll first checks the current task's
    /// cancellation and returns `Err(Cancelled)` instead of polling it.
    /// Task dumps show a task parked in it as waiting on a foreign future
    /// under `cancellable()` at the caller's location.
    #[track_caller]
    fn cancellable(self) -> Cancellable<Self>;
}

impl<F: Future> CancellableExt for F {
    #[track_caller]
    fn cancellable(self) -> Cancellable<Self> {
        Cancellable {
            fut: self,
            at: Location::caller(),
        }
    }
}

/// The await point of a task parked in a foreign future under
/// `cancellable()` (task dumps), unless a quell await point inside it
/// recorded itself.
static CANCELLABLE: AwaitPoint = AwaitPoint {
    what: "cancellable",
    describe: Some(describe_cancellable),
};

fn describe_cancellable(_: u64) -> Option<String> {
    Some("a foreign future under cancellable()".to_owned())
}

/// Future returned by [`CancellableExt::cancellable`].
///
/// Each poll: if the current task's cancellation is observed, return
/// `Err(Cancelled)` (the inner future is not polled, nor dropped here);
/// otherwise poll the inner future. Since an observed cancellation stays
/// observed (outside shields), the answer is sticky.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Cancellable<F> {
    fut: F,
    /// The caller of `cancellable()`.
    at: &'static Location<'static>,
}

impl<F> Cancellable<F> {
    /// Unwraps the inner future.
    pub fn into_inner(self) -> F {
        self.fut
    }
}

impl<F: Future> Future for Cancellable<F> {
    type Output = Result<F::Output, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(c) = context::observed() {
            return Poll::Ready(Err(c));
        }
        let at = self.at;
        // SAFETY: structural pin projection. `fut` is never moved out of a
        // pinned `Cancellable` (`into_inner` takes `self` by value), there is
        // no `Drop` impl, and `Unpin` is the auto trait (only when `F: Unpin`).
        let fut = unsafe { self.map_unchecked_mut(|s| &mut s.fut) };
        let mark = wait::mark();
        let p = fut.poll(cx);
        if p.is_pending() {
            wait::record_unless_since(mark, &CANCELLABLE, Some(at), 0);
        }
        p.map(Ok)
    }
}

/// The current cancel scope's token: the task's own scope (so cancelling
/// the task through its `JoinHandle` cancels the returned token too), or
/// the innermost deadline scope inside it. It agrees with the await points:
/// `current().is_cancelled()`, `cause()` and `deadline()` are what they
/// observe. Outside any task, and inside a [`shield`](fn@crate::shield) (whose
/// await points observe nothing), a fresh root token that nobody else
/// holds, so it is never cancelled.
pub fn current() -> CancelToken {
    if context::is_shielded() {
        return CancelToken::new();
    }
    context::with_current(|task| match task {
        Some(t) => t.scope_token(),
        None => CancelToken::new(),
    })
}

/// Whether the current task's cancellation is observed here (`false` outside
/// a task and inside a [`shield`](fn@crate::shield)).
pub fn is_cancelled() -> bool {
    context::observed().is_some()
}
