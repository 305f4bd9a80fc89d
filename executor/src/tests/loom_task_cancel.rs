//! Abort and cancel racing the idle transition (C2, C3), and a token
//! cancel racing the task's first park through the token binding (C8).
//!
//! In each model the main thread polls the task while a second thread
//! aborts or cancels it; the main thread then drains the queue. A lost
//! abort/cancel leaves the task idle and incomplete. The test scheduler
//! asserts that the task is never queued twice, the future that it is
//! never polled twice at once (C3).
//!
//! The cancel-observing tasks run under a token even when the token is not
//! what is cancelled: with `token: None`, `TaskCtx::token` hands out a
//! process-wide detached token from a `static`, which under loom would
//! outlive the execution that created its loom objects.

use std::future::poll_fn;
use std::task::{Poll, Waker};

use loom::thread;
use quell_cancel::{rt_internal as context, CancelToken, Cause};

use super::model;
use super::util::{poll_join, spawn, Polls, TestSched, Tracked};
use crate::loom::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::loom::Arc;

/// A task that never completes on its own, aborted from another thread
/// while it is polled (or before, or after): it ends aborted, its future
/// dropped exactly once.
#[test]
fn loom_abort_vs_idle() {
    model(|| {
        let sched = TestSched::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let polls = Polls::new();
        let fut = {
            let polls = polls.clone();
            let on_future = Tracked::new(&drops);
            poll_fn(move |_| {
                let _poll = polls.enter();
                let _owned = &on_future;
                Poll::<()>::Pending
            })
        };
        let join = spawn(&sched, fut, None);

        let aborter = thread::spawn(move || {
            join.abort();
            join
        });
        sched.run_all();
        let mut join = aborter.join().unwrap();
        sched.run_all();

        match poll_join(&mut join, Waker::noop()) {
            Poll::Ready(Err(e)) => assert!(e.is_aborted(), "{e:?}"),
            Poll::Ready(Ok(())) => unreachable!(),
            Poll::Pending => panic!("abort lost: task still idle (C2)"),
        }
        assert!(polls.total() <= 1);
        assert_eq!(drops.load(Relaxed), 1, "future dropped exactly once");
    });
}

/// A future that completes once it observes a cancellation (the task's
/// own or its token's), counting its polls.
fn until_cancelled(polls: &Arc<Polls>) -> impl std::future::Future<Output = usize> + Send {
    let polls = polls.clone();
    poll_fn(move |_| {
        let _poll = polls.enter();
        match context::observed() {
            Some(_) => Poll::Ready(polls.total()),
            None => Poll::Pending,
        }
    })
}

/// `JoinHandle::cancel` from another thread while the task is polled: the
/// task is polled again and completes (no lost cancel, C2).
#[test]
fn loom_cancel_vs_idle() {
    model(|| {
        let sched = TestSched::new();
        let polls = Polls::new();
        let join = spawn(&sched, until_cancelled(&polls), Some(CancelToken::new()));

        let canceller = thread::spawn(move || {
            // The task cannot complete before it is cancelled.
            assert!(join.cancel(Cause::explicit("x")));
            join
        });
        sched.run_all();
        let mut join = canceller.join().unwrap();
        sched.run_all();

        match poll_join(&mut join, Waker::noop()) {
            Poll::Ready(Ok(n)) => assert!(n == 1 || n == 2, "{n} polls"),
            Poll::Ready(Err(e)) => panic!("task failed: {e:?}"),
            Poll::Pending => panic!("cancel lost: task idle, not repolled (C2)"),
        }
    });
}

/// The task's token is cancelled from another thread while the task
/// polls, binds to the token (first park) and goes idle: either the cancel
/// finds the task's waker registered, or the binding sees the token
/// cancelled and re-queues the task (C8). Either way it completes.
#[test]
fn loom_token_cancel_vs_park() {
    model(|| {
        let sched = TestSched::new();
        let polls = Polls::new();
        let token = CancelToken::new();
        let mut join = spawn(&sched, until_cancelled(&polls), Some(token.clone()));

        let canceller = thread::spawn(move || {
            assert!(token.cancel(Cause::explicit("t")));
        });
        sched.run_all();
        canceller.join().unwrap();
        sched.run_all();

        match poll_join(&mut join, Waker::noop()) {
            Poll::Ready(Ok(n)) => assert!(n == 1 || n == 2, "{n} polls"),
            Poll::Ready(Err(e)) => panic!("task failed: {e:?}"),
            Poll::Pending => panic!("token cancel lost: task idle, not repolled (C2, C8)"),
        }
    });
}
