//! Loom models: a oneshot value racing the cancel of its receiving task.
//! Property: nothing is lost — the value is returned by the receive, or it
//! is still in the channel afterwards; a cancelled receive leaves no waker.

use std::task::Poll;

use quell_cancel::{CancelToken, Cause};

use super::util::{model, poll_in, Counter, FakeTask};
use crate::loom::{thread, Arc};
use crate::sync::oneshot;
use crate::sync::{RecvError, TryRecvError};

/// Checks the end state: `r` is what the racing poll returned, `rx` the
/// receiver afterwards (the send and the cancel have both happened).
fn check(r: Poll<Result<u32, RecvError>>, mut rx: oneshot::Receiver<u32>, task: &FakeTask) {
    match r {
        Poll::Ready(Ok(v)) => {
            assert_eq!(v, 7);
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "received twice");
        }
        Poll::Ready(Err(RecvError::Cancelled(c))) => {
            assert!(c.cause().same(task.cause()));
            assert!(!rx.has_waker(), "cancelled receive left its waker");
            assert_eq!(rx.try_recv(), Ok(7), "value lost on cancel");
        }
        Poll::Ready(Err(RecvError::Closed)) => panic!("closed before the sender finished"),
        Poll::Pending => {
            // Sticky: the task is cancelled now, so the next poll says so,
            // and still takes nothing.
            let w = Counter::new();
            let again = poll_in(task, &mut rx, &w.waker());
            assert!(matches!(again, Poll::Ready(Err(RecvError::Cancelled(_)))));
            assert!(!rx.has_waker());
            assert_eq!(rx.try_recv(), Ok(7), "value lost");
        }
    }
}

/// send ∥ cancel ∥ first poll of the receive.
#[test]
fn loom_sync_oneshot_send_vs_cancel() {
    model(|| {
        let (tx, mut rx) = oneshot::channel::<u32>();
        let task = Arc::new(FakeTask::new());
        let t = task.clone();
        let a = thread::spawn(move || tx.send(7).unwrap());
        let b = thread::spawn(move || t.cancel());
        let w = Counter::new();
        let r = poll_in(&task, &mut rx, &w.waker());
        a.join().unwrap();
        b.join().unwrap();
        if r.is_pending() {
            // Parked before the send: the send must have woken it.
            assert_eq!(w.count(), 1, "lost wakeup");
        }
        check(r, rx, &task);
    });
}

/// The receiver is parked first; then send ∥ cancel ∥ the woken poll.
#[test]
fn loom_sync_oneshot_parked_send_vs_cancel() {
    model(|| {
        let (tx, mut rx) = oneshot::channel::<u32>();
        let task = Arc::new(FakeTask::new());
        let w = Counter::new();
        assert!(poll_in(&task, &mut rx, &w.waker()).is_pending());
        assert!(rx.has_waker());
        let t = task.clone();
        let a = thread::spawn(move || tx.send(7).unwrap());
        let b = thread::spawn(move || t.cancel());
        let r = poll_in(&task, &mut rx, &w.waker());
        a.join().unwrap();
        b.join().unwrap();
        assert!(w.count() <= 1);
        if r.is_pending() {
            assert_eq!(w.count(), 1, "lost wakeup");
        }
        check(r, rx, &task);
    });
}

/// Like `loom_sync_oneshot_send_vs_cancel`, but the cancel comes from an
/// ancestor token (the executor's binding path), not the task's own flag.
#[test]
fn loom_sync_oneshot_send_vs_ancestor_cancel() {
    model(|| {
        let (tx, mut rx) = oneshot::channel::<u32>();
        let root = CancelToken::new();
        let task = FakeTask::with_token(root.child());
        let cause = Cause::shutdown();
        let c2 = cause.clone();
        let a = thread::spawn(move || tx.send(7).unwrap());
        let b = thread::spawn(move || root.cancel(c2));
        let w = Counter::new();
        let r = poll_in(&task, &mut rx, &w.waker());
        a.join().unwrap();
        assert!(b.join().unwrap());
        match r {
            Poll::Ready(Ok(v)) => assert_eq!(v, 7),
            Poll::Ready(Err(RecvError::Cancelled(c))) => {
                assert!(c.cause().same(&cause) && c.is_inherited());
                assert!(!rx.has_waker());
                assert_eq!(rx.try_recv(), Ok(7), "value lost on cancel");
            }
            Poll::Ready(Err(RecvError::Closed)) => panic!("closed before the sender finished"),
            Poll::Pending => {
                assert_eq!(w.count(), 1, "lost wakeup");
                assert_eq!(rx.try_recv(), Ok(7));
            }
        }
    });
}
