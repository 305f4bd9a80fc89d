//! Loom models: bounded mpsc sends and receives racing the cancel of the
//! task that waits. Property: every value is received exactly once, or is
//! still in the channel, or was given back in `SendError` — never lost, never
//! duplicated; a slot handed to a cancelled sender reaches the next one.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use super::util::{model, poll_in, Counter, FakeTask};
use crate::loom::{thread, Arc};
use crate::sync::mpsc;
use crate::sync::{RecvError, SendError, TryRecvError};

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A `send(v).await` that owns its sender (so it can move between threads).
fn send_fut(tx: mpsc::Sender<u32>, v: u32) -> BoxFut<Result<(), SendError<u32>>> {
    Box::pin(async move { tx.send(v).await })
}

/// The receiver is parked; then try_send ∥ cancel ∥ the woken poll.
#[test]
fn loom_sync_mpsc_send_vs_cancelled_recv() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let task = Arc::new(FakeTask::new());
        let w = Counter::new();
        let mut recv = rx.recv();
        assert!(poll_in(&task, &mut recv, &w.waker()).is_pending());
        let t = task.clone();
        let a = thread::spawn(move || {
            tx.try_send(7).unwrap();
            tx
        });
        let b = thread::spawn(move || t.cancel());
        let mut r = poll_in(&task, &mut recv, &w.waker());
        let _tx = a.join().unwrap();
        b.join().unwrap();
        if r.is_pending() {
            // Parked before the send: the send woke it; the sticky cancel
            // answers the next poll.
            assert_eq!(w.count(), 1, "lost wakeup");
            r = poll_in(&task, &mut recv, &w.waker());
            assert!(matches!(r, Poll::Ready(Err(RecvError::Cancelled(_)))));
        }
        let mut received = 0;
        match r {
            Poll::Ready(Ok(v)) => {
                assert_eq!(v, 7);
                received += 1;
            }
            Poll::Ready(Err(RecvError::Cancelled(c))) => assert!(c.cause().same(task.cause())),
            Poll::Ready(Err(RecvError::Closed)) => panic!("closed with a live sender"),
            Poll::Pending => unreachable!(),
        }
        drop(recv); // completed: its drop does not touch the slot
        assert!(!rx.has_waker(), "finished recv left its waker");
        let mut left = 0;
        while let Ok(v) = rx.try_recv() {
            assert_eq!(v, 7);
            left += 1;
        }
        assert_eq!(received + left, 1, "value lost or duplicated");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

/// A sender is parked on a full channel; then the receiver takes a value ∥
/// the sender's task is cancelled ∥ the sender's woken poll.
#[test]
fn loom_sync_mpsc_recv_vs_cancelled_send() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.try_send(0).unwrap();
        let task = Arc::new(FakeTask::new());
        let w = Counter::new();
        let mut send = send_fut(tx.clone(), 1);
        assert!(poll_in(&task, &mut send, &w.waker()).is_pending());
        assert_eq!(tx.parked_senders(), 1);
        let t = task.clone();
        let a = thread::spawn(move || {
            let got = rx.try_recv().unwrap();
            (got, rx)
        });
        let b = thread::spawn(move || t.cancel());
        let mut r = poll_in(&task, &mut send, &w.waker());
        let (first, mut rx) = a.join().unwrap();
        b.join().unwrap();
        assert_eq!(first, 0);
        if r.is_pending() {
            // Parked again before the slot freed: the free slot woke it.
            assert!(w.count() >= 1, "lost wakeup");
            r = poll_in(&task, &mut send, &w.waker());
        }
        let mut seen = vec![first];
        match r {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(SendError::Cancelled(v, c))) => {
                assert!(c.cause().same(task.cause()));
                seen.push(v);
            }
            other => panic!("unexpected {:?}", other.map(|r| r.is_ok())),
        }
        assert_eq!(tx.parked_senders(), 0, "a finished send stayed parked");
        drop(send);
        while let Ok(v) = rx.try_recv() {
            seen.push(v);
        }
        seen.sort();
        assert_eq!(seen, [0, 1], "value lost or duplicated");
    });
}

/// Two senders parked on a full channel. The receiver frees the slot ∥ the
/// first sender's task is cancelled and polled. The second sender must be
/// woken (the slot was handed to it, directly or passed on) and send.
#[test]
fn loom_sync_mpsc_slot_passed_on() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.try_send(0).unwrap();
        let t1 = Arc::new(FakeTask::new());
        let t2 = FakeTask::new();
        let (w1, w2) = (Counter::new(), Counter::new());
        let mut s1 = send_fut(tx.clone(), 1);
        let mut s2 = send_fut(tx.clone(), 2);
        assert!(poll_in(&t1, &mut s1, &w1.waker()).is_pending());
        assert!(poll_in(&t2, &mut s2, &w2.waker()).is_pending());
        let a = thread::spawn(move || {
            assert_eq!(rx.try_recv(), Ok(0));
            rx
        });
        let t = t1.clone();
        let b = thread::spawn(move || {
            t.cancel();
            let wk = Counter::new();
            match poll_in(&t, &mut s1, &wk.waker()) {
                Poll::Ready(Err(SendError::Cancelled(v, _))) => assert_eq!(v, 1),
                other => panic!("unexpected {:?}", other.map(|r| r.is_ok())),
            }
        });
        let mut rx = a.join().unwrap();
        b.join().unwrap();
        assert_eq!(w2.count(), 1, "free slot not passed on to the next sender");
        assert!(matches!(
            poll_in(&t2, &mut s2, &w2.waker()),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(tx.parked_senders(), 0);
    });
}

/// Rendezvous: a send is parked with its value offered. A receive takes
/// it ∥ the sender's task is cancelled ∥ the sender's poll. The value is
/// received exactly once (and the send answers `Ok`), or given back in
/// `Cancelled` — never both, never neither; the sender is never left
/// asleep after its value was taken.
#[test]
fn loom_sync_mpsc_rendezvous_recv_vs_cancelled_send() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(0);
        let task = Arc::new(FakeTask::new());
        let w = Counter::new();
        let mut send = send_fut(tx.clone(), 7);
        assert!(poll_in(&task, &mut send, &w.waker()).is_pending());
        let a = thread::spawn(move || {
            let got = rx.try_recv().ok();
            (got, rx)
        });
        let t = task.clone();
        let b = thread::spawn(move || t.cancel());
        let mut r = poll_in(&task, &mut send, &w.waker());
        let (got, mut rx) = a.join().unwrap();
        b.join().unwrap();
        if r.is_pending() {
            // Still offered at that poll: the receive took it (the offer
            // stays until withdrawn) and must have woken the sender.
            assert!(got.is_some(), "receive missed an offered value");
            assert_eq!(w.count(), 1, "lost wakeup");
            r = poll_in(&task, &mut send, &w.waker());
        }
        let given_back = match r {
            Poll::Ready(Ok(())) => None,
            Poll::Ready(Err(SendError::Cancelled(v, _))) => Some(v),
            other => panic!("unexpected {:?}", other.map(|r| r.is_ok())),
        };
        match (got, given_back) {
            (Some(7), None) | (None, Some(7)) => {}
            other => panic!("value lost or duplicated: {other:?}"),
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(tx.parked_senders(), 0, "offer left behind");
    });
}

/// A `reserve` and a `send` parked on a full channel. The receiver frees
/// the slot ∥ the reserve's task is cancelled and polled. The send must be
/// woken and succeed: a slot handed to a cancelled reserve passes on.
#[test]
fn loom_sync_mpsc_reserve_slot_passed_on() {
    model(|| {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.try_send(0).unwrap();
        let t1 = Arc::new(FakeTask::new());
        let t2 = FakeTask::new();
        let (w1, w2) = (Counter::new(), Counter::new());
        let tx1 = tx.clone();
        let mut r1: BoxFut<bool> =
            Box::pin(async move { tx1.reserve().await.map(|p| p.send(1)).is_ok() });
        let mut s2 = send_fut(tx.clone(), 2);
        assert!(poll_in(&t1, &mut r1, &w1.waker()).is_pending());
        assert!(poll_in(&t2, &mut s2, &w2.waker()).is_pending());
        let a = thread::spawn(move || {
            assert_eq!(rx.try_recv(), Ok(0));
            rx
        });
        let t = t1.clone();
        let b = thread::spawn(move || {
            t.cancel();
            let wk = Counter::new();
            assert!(matches!(
                poll_in(&t, &mut r1, &wk.waker()),
                Poll::Ready(false)
            ));
        });
        let mut rx = a.join().unwrap();
        b.join().unwrap();
        assert_eq!(w2.count(), 1, "free slot not passed on to the next sender");
        assert!(matches!(
            poll_in(&t2, &mut s2, &w2.waker()),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(tx.parked_senders(), 0);
    });
}

/// Unbounded: the receiver is parked; send ∥ cancel ∥ the woken poll. The
/// value is received exactly once or still in the channel.
#[test]
fn loom_sync_mpsc_unbounded_send_vs_cancelled_recv() {
    model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let task = Arc::new(FakeTask::new());
        let w = Counter::new();
        let mut got = None;
        {
            let mut recv = rx.recv();
            assert!(poll_in(&task, &mut recv, &w.waker()).is_pending());
            let a = thread::spawn(move || {
                tx.send(7).unwrap();
                tx
            });
            let t = task.clone();
            let b = thread::spawn(move || t.cancel());
            let mut r = poll_in(&task, &mut recv, &w.waker());
            let _tx = a.join().unwrap();
            b.join().unwrap();
            if r.is_pending() {
                assert_eq!(w.count(), 1, "lost wakeup");
                r = poll_in(&task, &mut recv, &w.waker());
            }
            match r {
                Poll::Ready(Ok(v)) => got = Some(v),
                Poll::Ready(Err(RecvError::Cancelled(_))) => {}
                other => panic!("unexpected {:?}", other.map(|r| r.is_ok())),
            }
        }
        match (got, rx.try_recv().ok()) {
            (Some(7), None) | (None, Some(7)) => {}
            other => panic!("value lost or duplicated: {other:?}"),
        }
    });
}
