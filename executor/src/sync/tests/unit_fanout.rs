//! Unit tests of `watch`, `broadcast` and `Barrier`, polled by hand inside
//! a fake task: cancel first (nothing seen / taken / arrival withdrawn),
//! lagging, close, streams.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::util::{poll_exhausted, poll_in, Counter, FakeTask};
use crate::sync::broadcast::{self, Lagged, TryRecvError};
use crate::sync::{watch, Barrier, RecvError};

#[test]
fn watch_cancelled_changed_marks_nothing_seen() {
    let task = FakeTask::new();
    let (tx, mut rx) = watch::channel(0);
    let w = Counter::new();
    assert!(poll_in(&task, &mut rx.changed(), &w.waker()).is_pending());
    assert_eq!(rx.waiters(), 0, "a dropped changed leaves the list");
    let mut ch = rx.changed();
    assert!(poll_in(&task, &mut ch, &w.waker()).is_pending());
    tx.send(1).unwrap();
    assert_eq!(w.count(), 1);
    task.cancel();
    assert!(matches!(
        poll_in(&task, &mut ch, &w.waker()),
        Poll::Ready(Err(RecvError::Cancelled(_)))
    ));
    drop(ch);
    assert!(rx.has_changed().unwrap(), "the change is still unseen");
    assert_eq!(*rx.borrow_and_update(), 1);
    assert!(!rx.has_changed().unwrap());
    // Budget-Pending sees nothing either.
    tx.send(2).unwrap();
    assert!(poll_exhausted(&FakeTask::new(), &mut rx.changed()).is_pending());
    assert!(rx.has_changed().unwrap());
}

#[test]
fn watch_closed_after_the_last_value_is_seen() {
    let task = FakeTask::new();
    let (tx, mut rx) = watch::channel(0);
    let mut rx2 = rx.clone();
    tx.send(1).unwrap();
    drop(tx);
    let w = Counter::new();
    assert!(matches!(
        poll_in(&task, &mut rx.changed(), &w.waker()),
        Poll::Ready(Ok(()))
    ));
    assert!(matches!(
        poll_in(&task, &mut rx.changed(), &w.waker()),
        Poll::Ready(Err(RecvError::Closed))
    ));
    let waker = w.waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(Pin::new(&mut rx2).poll_next(&mut cx), Poll::Ready(Some(1)));
    assert_eq!(Pin::new(&mut rx2).poll_next(&mut cx), Poll::Ready(None));
}

#[test]
fn watch_send_wakes_every_receiver() {
    let task = FakeTask::new();
    let (tx, rx) = watch::channel(0);
    let mut rxs: Vec<_> = (0..4).map(|_| rx.clone()).collect();
    let ws: Vec<_> = (0..4).map(|_| Counter::new()).collect();
    let mut chs: Vec<_> = rxs.iter_mut().map(|r| r.changed()).collect();
    for (c, w) in chs.iter_mut().zip(&ws) {
        assert!(poll_in(&task, c, &w.waker()).is_pending());
    }
    tx.send(1).unwrap();
    assert!(ws.iter().all(|w| w.count() == 1));
    drop(chs);
    drop(rx);
    drop(rxs);
    assert!(tx.is_closed());
    assert!(tx.send(2).is_err());
}

#[test]
fn broadcast_cancelled_recv_takes_nothing_and_laggards_learn_how_many() {
    let task = FakeTask::new();
    let (tx, mut rx) = broadcast::channel::<u32>(2);
    let w = Counter::new();
    let mut r = rx.recv();
    assert!(poll_in(&task, &mut r, &w.waker()).is_pending());
    tx.send(1).unwrap();
    assert_eq!(w.count(), 1);
    task.cancel();
    assert!(matches!(
        poll_in(&task, &mut r, &w.waker()),
        Poll::Ready(Err(broadcast::RecvError::Cancelled(_)))
    ));
    drop(r);
    assert_eq!(rx.len(), 1, "nothing taken");
    for i in 2..=4 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(2)));
    assert_eq!(rx.try_recv(), Ok(3));
    let waker = w.waker();
    let mut cx = Context::from_waker(&waker);
    tx.send(5).unwrap();
    tx.send(6).unwrap();
    tx.send(7).unwrap();
    assert_eq!(
        Pin::new(&mut rx).poll_next(&mut cx),
        Poll::Ready(Some(Err(Lagged(2)))) // missed 4 and 5
    );
    assert_eq!(
        Pin::new(&mut rx).poll_next(&mut cx),
        Poll::Ready(Some(Ok(6)))
    );
    assert_eq!(rx.try_recv(), Ok(7));
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(None));
}

#[test]
fn broadcast_every_receiver_gets_every_value() {
    let (tx, mut a) = broadcast::channel::<u32>(8);
    let mut b = tx.subscribe();
    assert_eq!(tx.send(1).unwrap(), 2);
    assert_eq!((a.try_recv(), b.try_recv()), (Ok(1), Ok(1)));
    let mut c = b.resubscribe();
    tx.send(2).unwrap();
    assert_eq!(
        (a.try_recv(), b.try_recv(), c.try_recv()),
        (Ok(2), Ok(2), Ok(2))
    );
    drop((a, b, c));
    assert!(tx.send(3).is_err());
}

/// Receivers at different distances behind the sender, over many wraps
/// of a 3-slot ring, against the rule: a receiver gets the value at its
/// position while it is among the last 3 sent, else `Lagged(front - pos)`
/// and continues at the front.
#[test]
fn broadcast_positions_and_lags_across_slot_wraps() {
    const CAP: u64 = 3;
    let (tx, rx) = broadcast::channel::<u64>(CAP as usize);
    // (receiver, its position in the reference model, receives per send)
    let mut rxs: Vec<_> = (0..4).map(|k| (rx.resubscribe(), 0u64, k)).collect();
    drop(rx);
    let mut sent = 0u64;
    for round in 0..40u64 {
        tx.send(sent).unwrap();
        sent += 1;
        for (rx, pos, per_send) in &mut rxs {
            // Receiver k tries k receives per send (0: falls behind, then
            // catches up every 7th round).
            let tries = if round % 7 == 6 { 10 } else { *per_send };
            for _ in 0..tries {
                let front = sent.saturating_sub(CAP);
                let want = if *pos < front {
                    let missed = front - *pos;
                    *pos = front;
                    Err(TryRecvError::Lagged(missed))
                } else if *pos < sent {
                    *pos += 1;
                    Ok(*pos - 1)
                } else {
                    Err(TryRecvError::Empty)
                };
                assert_eq!(rx.try_recv(), want, "round {round}");
                assert_eq!(rx.len() as u64, sent - (*pos).max(sent.saturating_sub(CAP)));
            }
        }
    }
}

/// The slots are allocated by `channel`: a capacity that cannot be
/// allocated is a clear panic there, not an allocator abort.
#[test]
#[should_panic(expected = "broadcast::channel: cannot allocate")]
fn broadcast_capacity_beyond_memory_panics_clearly() {
    let _ = broadcast::channel::<u64>(usize::MAX / 2);
}

#[test]
fn barrier_cancelled_wait_withdraws_unless_tripped() {
    let (t1, t2, t3) = (FakeTask::new(), FakeTask::new(), FakeTask::new());
    let b = Barrier::new(2);
    let w = Counter::new();
    let mut w1 = b.wait();
    assert!(poll_in(&t1, &mut w1, &w.waker()).is_pending());
    assert_eq!(b.arrived(), 1);
    t1.cancel();
    assert!(matches!(
        poll_in(&t1, &mut w1, &w.waker()),
        Poll::Ready(Err(_))
    ));
    assert_eq!(b.arrived(), 0, "arrival withdrawn");
    // Tripped, then cancelled: the wait completed.
    let mut w2 = b.wait();
    assert!(poll_in(&t2, &mut w2, &w.waker()).is_pending());
    match poll_in(&t3, &mut b.wait(), &w.waker()) {
        Poll::Ready(Ok(r)) => assert!(r.is_leader()),
        _ => panic!("second arrival must trip"),
    }
    t2.cancel();
    match poll_in(&t2, &mut w2, &w.waker()) {
        Poll::Ready(Ok(r)) => assert!(!r.is_leader()),
        _ => panic!("a tripped wait completed"),
    }
    // A dropped wait withdraws too.
    let mut w4 = b.wait();
    assert!(poll_in(&FakeTask::new(), &mut w4, &w.waker()).is_pending());
    drop(w4);
    assert_eq!(b.arrived(), 0);
}
