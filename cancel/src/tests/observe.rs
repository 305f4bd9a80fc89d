//! `shield`, `checkpoint`, `cancellable`, `current` and `is_cancelled`
//! against a minimal `TaskCancel` (no runtime exists in this crate).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::context::{self, TaskCancel};
use crate::{
    checkpoint, current, is_cancelled, shield, CancelToken, CancellableExt, Cause, CauseKind,
};

/// A stand-in for the executor's task: its scope is one token.
struct TestTask {
    token: CancelToken,
}

impl TestTask {
    fn new(token: CancelToken) -> TestTask {
        TestTask { token }
    }
}

impl TaskCancel for TestTask {
    fn token(&self) -> &CancelToken {
        &self.token
    }
}

/// Polls `fut` once as `task` would be polled by the executor.
fn poll_in<F: Future>(task: &TestTask, fut: Pin<&mut F>) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    context::enter(task, || fut.poll(&mut cx))
}

#[test]
fn outside_a_task_nothing_is_cancelled() {
    assert!(!is_cancelled());
    let t = current();
    assert!(!t.is_cancelled());
    assert!(!t.same(&current()), "a fresh root each time");
    let mut cp = std::pin::pin!(checkpoint());
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(cp.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
}

#[test]
fn current_is_the_task_token() {
    let token = CancelToken::new();
    let task = TestTask::new(token.clone());
    context::enter(&task, || assert!(current().same(&token)));
}

#[test]
fn checkpoint_reports_token_cancel() {
    let root = CancelToken::new();
    let task = TestTask::new(root.child());
    assert!(matches!(
        poll_in(&task, std::pin::pin!(checkpoint())),
        Poll::Ready(Ok(()))
    ));
    root.cancel(Cause::shutdown());
    match poll_in(&task, std::pin::pin!(checkpoint())) {
        Poll::Ready(Err(c)) => {
            assert!(c.is_inherited());
            assert_eq!(c.cause().kind(), &CauseKind::Shutdown);
        }
        other => panic!(
            "expected Err(Cancelled), got {:?}",
            other.map(|r| r.is_ok())
        ),
    }
    context::enter(&task, || assert!(is_cancelled()));
}

#[test]
fn a_scope_sees_its_token_and_the_enclosing_task() {
    let outer = CancelToken::new();
    let task = TestTask::new(outer.clone());
    let foreign = CancelToken::new();
    // Neither cancelled: nothing observed inside the scope.
    context::enter(&task, || {
        context::enter_scope(&foreign, || {
            assert!(!is_cancelled());
            assert!(current().same(&foreign));
        })
    });
    // The enclosing task's cancel reaches a scope whose token is not its
    // descendant.
    outer.cancel(Cause::explicit("outer"));
    context::enter(&task, || {
        context::enter_scope(&foreign, || {
            let c = context::observed().expect("outer cancel observed");
            assert_eq!(c.cause().message(), Some("outer"));
        })
    });
    // The scope's own token wins once it is cancelled.
    foreign.cancel(Cause::explicit("scope"));
    context::enter(&task, || {
        context::enter_scope(&foreign, || {
            let c = context::observed().expect("scope cancel observed");
            assert_eq!(c.cause().message(), Some("scope"));
        })
    });
}

#[test]
fn current_inside_a_shield_is_never_cancelled() {
    let token = CancelToken::new();
    token.cancel(Cause::explicit("stop"));
    let task = TestTask::new(token.clone());
    let inner = async {
        let t = current();
        assert!(
            !t.is_cancelled(),
            "current() agrees with the shielded await points"
        );
        assert!(!t.same(&token));
    };
    assert!(poll_in(&task, std::pin::pin!(shield(inner))).is_ready());
    context::enter(&task, || assert!(current().is_cancelled()));
}

#[test]
fn shield_hides_cancellation_only_inside() {
    let token = CancelToken::new();
    let task = TestTask::new(token.clone());
    token.cancel(Cause::explicit("stop"));
    let inner = async {
        assert!(context::is_shielded());
        assert!(!is_cancelled());
        checkpoint()
            .await
            .expect("shielded checkpoint answers normally");
        7
    };
    assert!(matches!(
        poll_in(&task, std::pin::pin!(shield(inner))),
        Poll::Ready(7)
    ));
    // Not shielded any more after the shielded poll.
    context::enter(&task, || {
        assert!(!context::is_shielded());
        assert!(is_cancelled());
    });
    // Nested: a Cancellable inside a shield polls its inner future.
    let nested = shield(async { 1 }.cancellable());
    assert!(matches!(
        poll_in(&task, std::pin::pin!(nested)),
        Poll::Ready(Ok(1))
    ));
}

/// A future that is pending `n` times, then ready; counts its polls.
struct CountDown {
    n: usize,
    polls: usize,
}

impl Future for CountDown {
    type Output = &'static str;
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<&'static str> {
        self.polls += 1;
        if self.n == 0 {
            Poll::Ready("done")
        } else {
            self.n -= 1;
            Poll::Pending
        }
    }
}

#[test]
fn cancellable_stops_polling_the_inner_future() {
    let token = CancelToken::new();
    let task = TestTask::new(token.clone());
    let mut fut = CountDown { n: 5, polls: 0 }.cancellable();
    assert!(poll_in(&task, Pin::new(&mut fut)).is_pending());
    assert!(poll_in(&task, Pin::new(&mut fut)).is_pending());
    token.cancel(Cause::deadline_exceeded());
    for _ in 0..3 {
        match poll_in(&task, Pin::new(&mut fut)) {
            Poll::Ready(Err(c)) => assert_eq!(c.cause().kind(), &CauseKind::DeadlineExceeded),
            _ => panic!("sticky Err(Cancelled) expected"),
        }
    }
    assert_eq!(fut.into_inner().polls, 2, "not polled after the cancel");
}

#[test]
fn cancellable_passes_output_through() {
    let task = TestTask::new(CancelToken::new());
    let mut fut = CountDown { n: 1, polls: 0 }.cancellable();
    assert!(poll_in(&task, Pin::new(&mut fut)).is_pending());
    assert!(matches!(
        poll_in(&task, Pin::new(&mut fut)),
        Poll::Ready(Ok("done"))
    ));
}

#[test]
fn context_is_restored_after_enter() {
    let token = CancelToken::new();
    token.cancel(Cause::shutdown());
    let task = TestTask::new(token);
    context::enter(&task, || assert!(is_cancelled()));
    assert!(!is_cancelled());
}

#[test]
fn a_drain_is_seen_inside_a_shield_and_is_no_cancel_point() {
    let token = CancelToken::new();
    let task = TestTask::new(token.clone());
    let mut fut = std::pin::pin!(shield(async {
        let before = crate::is_draining();
        let cause = crate::draining().await;
        // Drain observed, yet the await points still proceed.
        let cp = checkpoint().await;
        (
            before,
            cause,
            crate::is_draining(),
            cp.is_ok(),
            is_cancelled(),
        )
    }));
    assert!(poll_in(&task, fut.as_mut()).is_pending());
    token.drain(Cause::explicit("deploy"));
    match poll_in(&task, fut.as_mut()) {
        Poll::Ready((before, cause, after, cp_ok, cancelled)) => {
            assert!(!before);
            assert_eq!(cause.message(), Some("deploy"));
            assert!(after && cp_ok && !cancelled);
        }
        Poll::Pending => panic!("draining() did not resolve"),
    }
}

#[test]
fn a_drain_reaches_a_deadline_scope_opened_inside_a_shield() {
    let token = CancelToken::new();
    let task = TestTask::new(token.clone());
    // A deadline scope inside a shield runs under a fresh root: cancels of
    // the task do not reach it, drains of the task still do.
    let inner = CancelToken::new();
    let mut fut = std::pin::pin!(shield(async {
        context::enter_scope(&inner, crate::is_draining)
    }));
    token.drain(Cause::shutdown());
    assert_eq!(poll_in(&task, fut.as_mut()), Poll::Ready(true));
    assert!(!inner.is_draining());
}

#[test]
fn outside_a_task_nothing_drains() {
    assert!(!crate::is_draining());
    let mut d = crate::draining();
    assert!(Pin::new(&mut d)
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending());
}
