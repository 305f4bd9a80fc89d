//! Unit tests of the sync primitives polled by hand inside a fake task:
//! budget, stickiness, waker hygiene, panicking wakers, drop paths.

use std::future::Future;
use std::pin::Pin;
use std::task::{Poll, Wake, Waker};

use quell_cancel::shield;

use super::util::{poll_exhausted, poll_in, Counter, FakeTask};
use crate::sync::{mpsc, oneshot, Notify, RecvError, SendError, TryRecvError};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>() {}

#[test]
fn send_sync_bounds() {
    assert_send_sync::<oneshot::Sender<String>>();
    assert_send_sync::<oneshot::Receiver<String>>();
    assert_send_sync::<mpsc::Sender<String>>();
    assert_send_sync::<mpsc::Receiver<String>>();
    assert_send::<mpsc::Send<'static, String>>();
    assert_send::<mpsc::Recv<'static, String>>();
    assert_send_sync::<Notify>();
    assert_send::<crate::sync::Notified<'static>>();
    assert_send_sync::<RecvError>();
    assert_send_sync::<SendError<String>>();
}

#[test]
fn budget_pending_takes_nothing() {
    let task = FakeTask::new();
    // oneshot
    let (tx, mut rx) = oneshot::channel::<u32>();
    tx.send(1).unwrap();
    assert!(poll_exhausted(&task, &mut rx).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    // mpsc recv
    let (tx, mut rx) = mpsc::channel::<u32>(2);
    tx.try_send(1).unwrap();
    assert!(poll_exhausted(&task, &mut rx.recv()).is_pending());
    assert_eq!(rx.len(), 1);
    // mpsc send
    assert!(poll_exhausted(&task, &mut tx.send(2)).is_pending());
    assert_eq!(rx.len(), 1);
    // Notify permit
    let n = Notify::new();
    n.notify_one();
    assert!(poll_exhausted(&task, &mut n.notified()).is_pending());
    assert!(n.has_permit());
}

#[test]
fn cancelled_waits_take_nothing_and_are_sticky() {
    let task = FakeTask::new();
    let w = Counter::new();
    task.cancel();

    let (tx, mut rx) = oneshot::channel::<u32>();
    tx.send(1).unwrap();
    for _ in 0..2 {
        match poll_in(&task, &mut rx, &w.waker()) {
            Poll::Ready(Err(RecvError::Cancelled(c))) => assert!(c.cause().same(task.cause())),
            _ => panic!("expected Cancelled"),
        }
    }
    // Shielded, the same receiver gets the value.
    let mut sh = shield(&mut rx);
    assert!(matches!(
        poll_in(&task, &mut sh, &w.waker()),
        Poll::Ready(Ok(1))
    ));

    let (tx, mut rx) = mpsc::channel::<u32>(2);
    tx.try_send(1).unwrap();
    for _ in 0..2 {
        let r = poll_in(&task, &mut rx.recv(), &w.waker());
        assert!(matches!(r, Poll::Ready(Err(RecvError::Cancelled(_)))));
    }
    match poll_in(&task, &mut tx.send(2), &w.waker()) {
        Poll::Ready(Err(SendError::Cancelled(2, _))) => {}
        _ => panic!("expected the value back"),
    }
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

    let n = Notify::new();
    n.notify_one();
    assert!(matches!(
        poll_in(&task, &mut n.notified(), &w.waker()),
        Poll::Ready(Err(_))
    ));
    assert!(n.has_permit(), "a cancelled wait consumed the permit");
    assert_eq!(w.count(), 0);
}

#[test]
fn cancelled_wait_removes_its_waker() {
    let task = FakeTask::new();
    let w = Counter::new();

    let (_tx, mut rx) = oneshot::channel::<u32>();
    assert!(poll_in(&task, &mut rx, &w.waker()).is_pending());
    assert!(rx.has_waker());

    let (tx, mut mrx) = mpsc::channel::<u32>(1);
    let mut recv = mrx.recv();
    assert!(poll_in(&task, &mut recv, &w.waker()).is_pending());

    tx.try_send(0).unwrap();
    let mut send = tx.send(1);
    assert!(poll_in(&task, &mut send, &w.waker()).is_pending());
    assert_eq!(tx.parked_senders(), 1);

    let n = Notify::new();
    let mut nf = n.notified();
    assert!(poll_in(&task, &mut nf, &w.waker()).is_pending());
    assert_eq!(n.waiters(), 1);

    task.cancel();
    assert!(poll_in(&task, &mut rx, &w.waker()).is_ready());
    assert!(!rx.has_waker());
    assert!(poll_in(&task, &mut send, &w.waker()).is_ready());
    assert_eq!(tx.parked_senders(), 0);
    assert!(poll_in(&task, &mut nf, &w.waker()).is_ready());
    assert_eq!(n.waiters(), 0);
    assert!(poll_in(&task, &mut recv, &w.waker()).is_ready());
    drop(recv);
    assert!(!mrx.has_waker());
}

#[test]
fn dropped_waits_remove_their_wakers() {
    let task = FakeTask::new();
    let w = Counter::new();
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let mut recv = rx.recv();
    assert!(poll_in(&task, &mut recv, &w.waker()).is_pending());
    drop(recv);
    assert!(!rx.has_waker());
    tx.try_send(0).unwrap();
    let mut send = tx.send(1);
    assert!(poll_in(&task, &mut send, &w.waker()).is_pending());
    drop(send);
    assert_eq!(tx.parked_senders(), 0);
    let n = Notify::new();
    let mut nf = n.notified();
    assert!(poll_in(&task, &mut nf, &w.waker()).is_pending());
    drop(nf);
    assert_eq!(n.waiters(), 0);
}

#[test]
fn dropped_notified_waiter_passes_permit_on() {
    let task = FakeTask::new();
    let (c1, c2) = (Counter::new(), Counter::new());
    let n = Notify::new();
    let mut a = n.notified();
    let mut b = n.notified();
    assert!(poll_in(&task, &mut a, &c1.waker()).is_pending());
    assert!(poll_in(&task, &mut b, &c2.waker()).is_pending());
    n.notify_one();
    assert_eq!((c1.count(), c2.count()), (1, 0));
    drop(a); // handed the permit, never polled again
    assert_eq!(c2.count(), 1);
    assert!(matches!(
        poll_in(&task, &mut b, &c2.waker()),
        Poll::Ready(Ok(()))
    ));
    drop(b);
    // With no waiter left, a permit from a dropped waiter is stored.
    let mut c = n.notified();
    assert!(poll_in(&task, &mut c, &c1.waker()).is_pending());
    n.notify_one();
    drop(c);
    assert!(n.has_permit());
}

#[test]
fn notify_waiters_reaches_created_futures_and_stores_nothing() {
    let task = FakeTask::new();
    let w = Counter::new();
    let n = Notify::new();
    let mut parked = n.notified();
    assert!(poll_in(&task, &mut parked, &w.waker()).is_pending());
    let mut unpolled = n.notified();
    n.notify_waiters();
    assert_eq!(w.count(), 1);
    assert!(matches!(
        poll_in(&task, &mut parked, &w.waker()),
        Poll::Ready(Ok(()))
    ));
    assert!(matches!(
        poll_in(&task, &mut unpolled, &w.waker()),
        Poll::Ready(Ok(()))
    ));
    assert!(!n.has_permit());
    assert!(poll_in(&task, &mut n.notified(), &w.waker()).is_pending());
}

#[test]
fn freed_slot_of_dropped_sender_is_passed_on() {
    let task = FakeTask::new();
    let (c1, c2) = (Counter::new(), Counter::new());
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    tx.try_send(0).unwrap();
    let mut s1 = tx.send(1);
    let mut s2 = tx.send(2);
    assert!(poll_in(&task, &mut s1, &c1.waker()).is_pending());
    assert!(poll_in(&task, &mut s2, &c2.waker()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!((c1.count(), c2.count()), (1, 0));
    drop(s1);
    assert_eq!(c2.count(), 1);
    assert!(matches!(
        poll_in(&task, &mut s2, &c2.waker()),
        Poll::Ready(Ok(()))
    ));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn close_wakes_parked_senders_and_keeps_buffer() {
    let task = FakeTask::new();
    let w = Counter::new();
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    tx.try_send(0).unwrap();
    let mut s = tx.send(1);
    assert!(poll_in(&task, &mut s, &w.waker()).is_pending());
    rx.close();
    assert_eq!(w.count(), 1);
    assert!(matches!(
        poll_in(&task, &mut s, &w.waker()),
        Poll::Ready(Err(SendError::Closed(1)))
    ));
    assert!(matches!(
        poll_in(&task, &mut rx.recv(), &w.waker()),
        Poll::Ready(Ok(0))
    ));
    assert!(matches!(
        poll_in(&task, &mut rx.recv(), &w.waker()),
        Poll::Ready(Err(RecvError::Closed))
    ));
}

#[test]
fn last_sender_drop_wakes_receiver() {
    let task = FakeTask::new();
    let w = Counter::new();
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let tx2 = tx.clone();
    let mut recv = rx.recv();
    assert!(poll_in(&task, &mut recv, &w.waker()).is_pending());
    drop(tx);
    assert_eq!(w.count(), 0);
    drop(tx2);
    assert_eq!(w.count(), 1);
    assert!(matches!(
        poll_in(&task, &mut recv, &w.waker()),
        Poll::Ready(Err(RecvError::Closed))
    ));
}

struct Panicky;
impl Wake for Panicky {
    fn wake(self: std::sync::Arc<Self>) {
        panic!("user waker panics");
    }
}

#[test]
fn panicking_waker_is_contained() {
    let task = FakeTask::new();
    let bad = Waker::from(std::sync::Arc::new(Panicky));
    let (tx, mut rx) = mpsc::channel::<u32>(2);
    {
        let mut recv = rx.recv();
        assert!(poll_in(&task, &mut recv, &bad).is_pending());
        tx.try_send(1).unwrap(); // wakes the panicking waker: contained
        assert!(matches!(
            poll_in(&task, &mut recv, &bad),
            Poll::Ready(Ok(1))
        ));
    }
    tx.try_send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));

    let (tx, mut orx) = oneshot::channel::<u32>();
    assert!(poll_in(&task, &mut orx, &bad).is_pending());
    tx.send(3).unwrap();
    assert_eq!(orx.try_recv(), Ok(3));

    let n = Notify::new();
    let mut nf = n.notified();
    assert!(poll_in(&task, &mut nf, &bad).is_pending());
    n.notify_one();
    assert!(matches!(poll_in(&task, &mut nf, &bad), Poll::Ready(Ok(()))));
}

/// A value that owns a sender of its own channel: dropping the receiver
/// drops it, which locks the channel again. Must not deadlock.
struct Msg(#[allow(dead_code)] Option<mpsc::Sender<Msg>>);

#[test]
fn receiver_drop_runs_value_destructors_unlocked() {
    let (tx, rx) = mpsc::channel::<Msg>(2);
    tx.try_send(Msg(Some(tx.clone()))).unwrap();
    drop(rx);
    assert!(tx.is_closed());
}

#[test]
fn outside_a_task_nothing_is_cancelled() {
    let w = Counter::new();
    let waker = w.waker();
    let mut cx = std::task::Context::from_waker(&waker);
    let (tx, mut rx) = oneshot::channel::<u32>();
    assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
    tx.send(9).unwrap();
    assert_eq!(w.count(), 1);
    assert!(matches!(
        Pin::new(&mut rx).poll(&mut cx),
        Poll::Ready(Ok(9))
    ));
}
