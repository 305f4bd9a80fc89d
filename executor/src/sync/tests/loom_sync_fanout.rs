//! Loom models: `watch`, `broadcast` and `Barrier` waits racing the cancel
//! of the waiting task. Properties: a cancelled `changed` marks nothing
//! seen; `borrow_and_update` marks seen the version of the value it read;
//! a cancelled broadcast `recv` takes nothing (the value comes next); a
//! broadcast receiver's slot fast path racing a send that replaces its
//! value receives each position once or counts it lagged; a cancelled
//! barrier wait either withdrew its arrival (the barrier did not trip on
//! it) or completed with the trip — never both, never neither.

use std::task::Poll;

use super::util::{model, poll_in, Counter, FakeTask};
use crate::loom::{thread, Arc};
use crate::sync::{broadcast, watch, Barrier, RecvError};

/// A parked `changed`; send ∥ cancel ∥ the woken poll.
#[test]
fn loom_sync_watch_send_vs_cancelled_changed() {
    model(|| {
        let (tx, mut rx) = watch::channel(0u32);
        let task = Arc::new(FakeTask::new());
        let w = Counter::new();
        let mut seen_ok = false;
        let _tx = {
            let mut ch = rx.changed();
            assert!(poll_in(&task, &mut ch, &w.waker()).is_pending());
            let a = thread::spawn(move || {
                tx.send(1).unwrap();
                tx
            });
            let t = task.clone();
            let b = thread::spawn(move || t.cancel());
            let mut r = poll_in(&task, &mut ch, &w.waker());
            let _tx = a.join().unwrap();
            b.join().unwrap();
            if r.is_pending() {
                assert_eq!(w.count(), 1, "lost wakeup");
                r = poll_in(&task, &mut ch, &w.waker());
            }
            match r {
                Poll::Ready(Ok(())) => seen_ok = true,
                Poll::Ready(Err(RecvError::Cancelled(c))) => assert!(c.cause().same(task.cause())),
                other => panic!("unexpected {:?}", other.map(|r| r.is_ok())),
            }
            drop(ch);
            _tx
        };
        assert_eq!(rx.waiters(), 0, "finished changed left its entry");
        // `Ok` saw the change; `Cancelled` left it unseen.
        assert_eq!(
            rx.has_changed().unwrap(),
            !seen_ok,
            "change lost or seen twice"
        );
        assert_eq!(*rx.borrow(), 1);
    });
}

/// A parked `changed` ∥ a send: a poll that answers `Ok` has left the
/// waiter list at once, even on the lock-free path (which forgets its key
/// without removing anything: the send must have taken the entry before
/// the new version could be seen).
#[test]
fn loom_sync_watch_lock_free_change_leaves_no_entry() {
    model(|| {
        let (tx, mut rx) = watch::channel(0u32);
        let task = FakeTask::new();
        let w = Counter::new();
        let mut ch = rx.changed();
        assert!(poll_in(&task, &mut ch, &w.waker()).is_pending());
        let a = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        let r = poll_in(&task, &mut ch, &w.waker());
        drop(ch);
        if r.is_ready() {
            assert!(matches!(r, Poll::Ready(Ok(()))));
            assert_eq!(rx.waiters(), 0, "an Ok changed left its entry");
        }
        let _tx = a.join().unwrap();
        assert_eq!(rx.waiters(), 0);
        assert_eq!(rx.has_changed().unwrap(), r.is_pending());
    });
}

/// `borrow_and_update` ∥ a send: the version it marks seen is the version
/// of the value it read (protocol step 3: loaded under the value's lock),
/// so a value read before the send leaves the change pending and one read
/// after it does not.
#[test]
fn loom_sync_watch_borrow_and_update_vs_send() {
    model(|| {
        let (tx, mut rx) = watch::channel(0u32);
        let a = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        let v = *rx.borrow_and_update();
        let _tx = a.join().unwrap();
        assert_eq!(
            rx.has_changed().unwrap(),
            v == 0,
            "the version marked seen is not the read value's"
        );
    });
}

/// A parked broadcast `recv`; send ∥ cancel ∥ the woken poll.
#[test]
fn loom_sync_broadcast_send_vs_cancelled_recv() {
    model(|| {
        let (tx, mut rx) = broadcast::channel::<u32>(1);
        let task = Arc::new(FakeTask::new());
        let w = Counter::new();
        let mut got = None;
        {
            let mut r = rx.recv();
            assert!(poll_in(&task, &mut r, &w.waker()).is_pending());
            let a = thread::spawn(move || {
                tx.send(7).unwrap();
                tx
            });
            let t = task.clone();
            let b = thread::spawn(move || t.cancel());
            let mut out = poll_in(&task, &mut r, &w.waker());
            let _tx = a.join().unwrap();
            b.join().unwrap();
            if out.is_pending() {
                assert_eq!(w.count(), 1, "lost wakeup");
                out = poll_in(&task, &mut r, &w.waker());
            }
            match out {
                Poll::Ready(Ok(v)) => got = Some(v),
                Poll::Ready(Err(broadcast::RecvError::Cancelled(_))) => {}
                other => panic!("unexpected {:?}", other.map(|r| r.is_ok())),
            }
        }
        let left = rx.try_recv().ok();
        match (got, left) {
            (Some(7), None) | (None, Some(7)) => {}
            other => panic!("value lost or duplicated: {other:?}"),
        }
    });
}

/// Capacity 1: a receiver's `try_recv`s (its slot's fast path) ∥ a send
/// that replaces the value it is about to take. Every position is accounted
/// for exactly once, in order: received (the value sent at it) or counted
/// in a `Lagged`.
#[test]
fn loom_sync_broadcast_fast_path_vs_replacing_send() {
    model(|| {
        let (tx, mut rx) = broadcast::channel::<u64>(1);
        tx.send(0).unwrap();
        let a = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        let mut pos = 0u64;
        let mut account = |r: Result<u64, broadcast::TryRecvError>| match r {
            Ok(v) => {
                assert_eq!(v, pos, "value of another position");
                pos += 1;
            }
            Err(broadcast::TryRecvError::Lagged(n)) => pos += n,
            Err(broadcast::TryRecvError::Empty | broadcast::TryRecvError::Closed) => {}
        };
        account(rx.try_recv());
        account(rx.try_recv());
        a.join().unwrap();
        loop {
            match rx.try_recv() {
                Err(broadcast::TryRecvError::Closed) => break,
                r => account(r),
            }
        }
        assert_eq!(pos, 2, "a position lost or counted twice");
    });
}

/// A barrier for 2 with one parked wait. The second arrival ∥ the first
/// wait's task is cancelled and polled. Either the trip counted the first
/// (second is leader, first answers `Ok`) or the first withdrew (second
/// waits, one arrival counted, and a third arrival releases it).
#[test]
fn loom_sync_barrier_arrival_vs_cancelled_wait() {
    model(|| {
        let b = Arc::new(Barrier::new(2));
        let t1 = Arc::new(FakeTask::new());
        let t2 = Arc::new(FakeTask::new());
        let w1 = Counter::new();
        let b1 = b.clone();
        let mut first: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>> =
            Box::pin(async move { b1.wait().await.map(|r| r.is_leader()) });
        assert!(poll_in(&t1, &mut first, &w1.waker()).is_pending());
        let (b2, tt2) = (b.clone(), t2.clone());
        let second = thread::spawn(move || {
            let w2 = Counter::new();
            let mut f: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>> =
                Box::pin(async move { b2.wait().await.map(|r| r.is_leader()) });
            let r = poll_in(&tt2, &mut f, &w2.waker());
            (r, f, w2)
        });
        let t = t1.clone();
        let canc = thread::spawn(move || {
            t.cancel();
            let wk = Counter::new();
            poll_in(&t, &mut first, &wk.waker())
        });
        let (r2, mut f2, w2) = second.join().unwrap();
        let r1 = canc.join().unwrap();
        match (r1, r2) {
            (Poll::Ready(Ok(false)), Poll::Ready(Ok(true))) => assert_eq!(b.arrived(), 0),
            (Poll::Ready(Err(_)), Poll::Pending) => {
                assert_eq!(b.arrived(), 1, "withdrawn arrival still counted");
                let w3 = Counter::new();
                let mut third = b.wait();
                let r3 = poll_in(&FakeTask::new(), &mut third, &w3.waker());
                assert!(matches!(r3, Poll::Ready(Ok(r)) if r.is_leader()));
                assert_eq!(w2.count(), 1, "second wait stranded");
                assert!(matches!(
                    poll_in(&t2, &mut f2, &w2.waker()),
                    Poll::Ready(Ok(false))
                ));
            }
            (r1, r2) => panic!(
                "inconsistent: first {:?}, second {:?}",
                r1.map(|r| r.ok()),
                r2.map(|r| r.ok())
            ),
        }
    });
}
