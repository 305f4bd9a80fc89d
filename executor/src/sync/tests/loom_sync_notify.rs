//! Loom models: a `notify_one` permit racing the cancel of the waiting
//! task. Property: the permit is never lost — a cancelled waiter that was
//! handed it passes it to the next waiter, or it is stored.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use quell_cancel::Cancelled;

use super::util::{model, poll_in, Counter, FakeTask};
use crate::loom::{thread, Arc};
use crate::sync::Notify;

type BoxFut = Pin<Box<dyn Future<Output = Result<(), Cancelled>> + Send>>;

/// A `notified().await` that owns its `Notify` handle.
fn notified(n: &Arc<Notify>) -> BoxFut {
    let n = n.clone();
    Box::pin(async move { n.notified().await })
}

/// One parked waiter; notify_one ∥ (cancel; poll the waiter). The permit
/// ends stored (the waiter returned `Err`) or consumed by an `Ok`.
#[test]
fn loom_sync_notify_permit_vs_cancel() {
    model(|| {
        let notify = Arc::new(Notify::new());
        let task = Arc::new(FakeTask::new());
        let w = Counter::new();
        let mut w1 = notified(&notify);
        assert!(poll_in(&task, &mut w1, &w.waker()).is_pending());
        let n = notify.clone();
        let a = thread::spawn(move || n.notify_one());
        let t = task.clone();
        let b = thread::spawn(move || t.cancel());
        let r = poll_in(&task, &mut w1, &w.waker());
        a.join().unwrap();
        b.join().unwrap();
        let consumed = match r {
            Poll::Ready(Ok(())) => true,
            Poll::Ready(Err(c)) => {
                assert!(c.cause().same(task.cause()));
                false
            }
            Poll::Pending => {
                assert_eq!(w.count(), 1, "lost wakeup");
                let again = poll_in(&task, &mut w1, &w.waker());
                assert!(matches!(again, Poll::Ready(Err(_))), "not sticky");
                false
            }
        };
        drop(w1);
        assert_eq!(notify.waiters(), 0, "cancelled waiter left its entry");
        assert_eq!(notify.has_permit(), !consumed, "permit lost or duplicated");
    });
}

/// Two parked waiters; notify_one ∥ (cancel the first; poll it). The second
/// must be woken and complete: the permit was handed to it directly, or
/// passed on by the cancelled first waiter.
#[test]
fn loom_sync_notify_permit_passed_on() {
    model(|| {
        let notify = Arc::new(Notify::new());
        let t1 = Arc::new(FakeTask::new());
        let t2 = FakeTask::new();
        let (c1, c2) = (Counter::new(), Counter::new());
        let mut w1 = notified(&notify);
        let mut w2 = notified(&notify);
        assert!(poll_in(&t1, &mut w1, &c1.waker()).is_pending());
        assert!(poll_in(&t2, &mut w2, &c2.waker()).is_pending());
        let n = notify.clone();
        let a = thread::spawn(move || n.notify_one());
        let t = t1.clone();
        let b = thread::spawn(move || {
            t.cancel();
            let wk = Counter::new();
            assert!(matches!(
                poll_in(&t, &mut w1, &wk.waker()),
                Poll::Ready(Err(_))
            ));
        });
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(c2.count(), 1, "permit not passed on to the next waiter");
        assert!(matches!(
            poll_in(&t2, &mut w2, &c2.waker()),
            Poll::Ready(Ok(()))
        ));
        assert!(!notify.has_permit(), "permit duplicated");
        assert_eq!(notify.waiters(), 0);
    });
}
