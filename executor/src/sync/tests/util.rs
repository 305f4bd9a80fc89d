//! Test helpers: a fake task with a cancel flag, a counting waker, polling
//! inside the fake task's context, and the `model` runner.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

use quell_cancel::rt_internal::{self as context, TaskCancel};
use quell_cancel::{CancelToken, Cause};
#[cfg(not(loom))]
use quell_io_driver::rt_internal::coop;

use crate::loom::atomic::{AtomicUsize, Ordering};

/// Runs `f` under `loom::model`, or once without loom.
pub(crate) fn model(f: impl Fn() + Sync + Send + 'static) {
    #[cfg(loom)]
    loom::model(f);
    #[cfg(not(loom))]
    f();
}

/// A stand-in for the executor's task: its scope is its own node, a child
/// of the token it was given (as a task's own node is of its inherited
/// token).
pub(crate) struct FakeTask {
    own: CancelToken,
    cause: Cause,
}

impl FakeTask {
    pub(crate) fn new() -> FakeTask {
        FakeTask::with_token(CancelToken::new())
    }

    /// A task under `token` (cancel it, or an ancestor, from a test).
    pub(crate) fn with_token(token: CancelToken) -> FakeTask {
        FakeTask {
            own: token.child(),
            cause: Cause::explicit("test cancel"),
        }
    }

    /// Cancels the task itself (like `JoinHandle::cancel`).
    pub(crate) fn cancel(&self) {
        self.own.cancel(self.cause.clone());
    }

    /// The cause `cancel` reports.
    pub(crate) fn cause(&self) -> &Cause {
        &self.cause
    }
}

impl TaskCancel for FakeTask {
    fn token(&self) -> &CancelToken {
        &self.own
    }
}

/// Polls `fut` once as the executor would poll `task`.
pub(crate) fn poll_in<F: Future + Unpin + ?Sized>(
    task: &FakeTask,
    fut: &mut F,
    waker: &Waker,
) -> Poll<F::Output> {
    let mut cx = Context::from_waker(waker);
    context::enter(task, || Pin::new(fut).poll(&mut cx))
}

/// A waker that counts its wakes.
pub(crate) struct Counter(AtomicUsize);

impl Counter {
    pub(crate) fn new() -> std::sync::Arc<Counter> {
        std::sync::Arc::new(Counter(AtomicUsize::new(0)))
    }

    /// Wakes so far (`SeqCst`, test only: read after joins, which order it).
    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    pub(crate) fn waker(self: &std::sync::Arc<Self>) -> Waker {
        Waker::from(self.clone())
    }
}

impl Wake for Counter {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        // SeqCst (test only): the strongest ordering keeps the models simple.
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `fut` once inside `task` after using up the whole budget.
#[cfg(not(loom))]
pub(crate) fn poll_exhausted<F: Future + Unpin>(task: &FakeTask, fut: &mut F) -> Poll<F::Output> {
    let w = Counter::new();
    let waker = w.waker();
    let mut cx = std::task::Context::from_waker(&waker);
    let r = context::enter(task, || {
        coop::budget(|| {
            for _ in 0..coop::BUDGET {
                assert!(coop::poll_proceed(&mut cx).is_ready());
            }
            Pin::new(fut).poll(&mut cx)
        })
    });
    assert_eq!(w.count(), 1, "budget-Pending must arrange a wake");
    r
}
