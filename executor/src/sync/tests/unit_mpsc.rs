//! Unit tests of the newer `mpsc` pieces, polled by hand inside a fake
//! task: the rendezvous channel's cancel rule, reserve/permits, the
//! unbounded flavour, `poll_recv` and the `Stream` impls.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::util::{poll_in, Counter, FakeTask};
use crate::sync::{mpsc, SendError, TryRecvError, TrySendError};

#[test]
fn rendezvous_send_completes_only_when_received() {
    let task = FakeTask::new();
    let (tx, mut rx) = mpsc::channel::<u32>(0);
    assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let ws = Counter::new();
    let mut send = tx.send(5);
    assert!(poll_in(&task, &mut send, &ws.waker()).is_pending());
    assert!(
        poll_in(&task, &mut send, &ws.waker()).is_pending(),
        "not taken yet"
    );
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(ws.count(), 1, "the taking receive wakes the sender");
    assert!(matches!(
        poll_in(&task, &mut send, &ws.waker()),
        Poll::Ready(Ok(()))
    ));
    assert_eq!(tx.parked_senders(), 0);
}

#[test]
fn rendezvous_cancel_gives_the_value_back_unless_taken() {
    // Cancelled while offered: withdrawn, given back.
    let task = FakeTask::new();
    let (tx, mut rx) = mpsc::channel::<u32>(0);
    let w = Counter::new();
    let mut send = tx.send(1);
    assert!(poll_in(&task, &mut send, &w.waker()).is_pending());
    task.cancel();
    match poll_in(&task, &mut send, &w.waker()) {
        Poll::Ready(Err(SendError::Cancelled(v, _))) => assert_eq!(v, 1),
        _ => panic!("not given back"),
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "withdrawn");
    // Taken, then cancelled before the poll: the send completed.
    let task = FakeTask::new();
    let mut send = tx.send(2);
    assert!(poll_in(&task, &mut send, &w.waker()).is_pending());
    assert_eq!(rx.try_recv(), Ok(2));
    task.cancel();
    assert!(matches!(
        poll_in(&task, &mut send, &w.waker()),
        Poll::Ready(Ok(()))
    ));
    // A cancelled receive takes no offered value.
    let (t2, rtask) = (FakeTask::new(), FakeTask::new());
    let mut send = tx.send(3);
    assert!(poll_in(&t2, &mut send, &w.waker()).is_pending());
    rtask.cancel();
    assert!(poll_in(&rtask, &mut rx.recv(), &w.waker()).is_ready());
    assert_eq!(rx.len(), 1);
    // Closing gives it back as Closed.
    rx.close();
    match poll_in(&t2, &mut send, &w.waker()) {
        Poll::Ready(Err(SendError::Closed(v))) => assert_eq!(v, 3),
        _ => panic!("not closed"),
    }
}

#[test]
fn rendezvous_offers_are_fifo_and_a_dropped_send_withdraws() {
    let task = FakeTask::new();
    let (tx, mut rx) = mpsc::channel::<u32>(0);
    let w = Counter::new();
    let mut a = tx.send(1);
    let mut b = tx.send(2);
    let mut c = tx.send(3);
    for f in [&mut a, &mut b, &mut c] {
        assert!(poll_in(&task, f, &w.waker()).is_pending());
    }
    drop(b);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop((a, c));
    assert_eq!(tx.parked_senders(), 0);
}

#[test]
fn permits_hold_a_slot_and_give_it_back() {
    let task = FakeTask::new();
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let p = tx.try_reserve().unwrap();
    assert!(matches!(tx.try_send(0), Err(TrySendError::Full(0))));
    let w = Counter::new();
    let mut r2 = tx.reserve();
    assert!(poll_in(&task, &mut r2, &w.waker()).is_pending());
    drop(p); // the slot goes to the parked reserve
    assert_eq!(w.count(), 1);
    let p2 = match poll_in(&task, &mut r2, &w.waker()) {
        Poll::Ready(Ok(p)) => p,
        _ => panic!("slot not handed over"),
    };
    p2.send(4);
    assert_eq!(rx.try_recv(), Ok(4));
    // A permit taken before close still sends; after the receiver is
    // dropped its value is dropped.
    let p = tx.try_reserve().unwrap();
    rx.close();
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Closed(()))));
    p.send(5);
    assert_eq!(rx.try_recv(), Ok(5));
}

#[test]
fn slot_handed_to_a_cancelled_reserve_passes_on() {
    let (t1, t2) = (FakeTask::new(), FakeTask::new());
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    tx.try_send(0).unwrap();
    let (w1, w2) = (Counter::new(), Counter::new());
    let mut r1 = tx.reserve();
    let mut s2 = tx.send(2);
    assert!(poll_in(&t1, &mut r1, &w1.waker()).is_pending());
    assert!(poll_in(&t2, &mut s2, &w2.waker()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // slot handed to r1
    assert_eq!(w1.count(), 1);
    t1.cancel();
    assert!(matches!(
        poll_in(&t1, &mut r1, &w1.waker()),
        Poll::Ready(Err(SendError::Cancelled((), _)))
    ));
    assert_eq!(w2.count(), 1, "slot passed on");
    assert!(matches!(
        poll_in(&t2, &mut s2, &w2.waker()),
        Poll::Ready(Ok(()))
    ));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn unbounded_never_waits_and_keeps_the_recv_rules() {
    let task = FakeTask::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
    for i in 0..100 {
        tx.send(i).unwrap();
    }
    task.cancel();
    let w = Counter::new();
    assert!(poll_in(&task, &mut rx.recv(), &w.waker()).is_ready());
    assert_eq!(rx.len(), 100, "a cancelled recv took nothing");
    assert_eq!(rx.try_recv(), Ok(0));
    rx.close();
    assert!(matches!(tx.send(7), Err(SendError::Closed(7))));
    assert!(tx.is_closed());
}

#[test]
fn streams_end_on_close_and_on_cancel_taking_nothing() {
    let w = Counter::new();
    let waker = w.waker();
    let mut cx = Context::from_waker(&waker);
    let (tx, mut rx) = mpsc::channel::<u32>(2);
    tx.try_send(1).unwrap();
    let task = FakeTask::new();
    task.cancel();
    let r = quell_cancel::rt_internal::enter(&task, || Pin::new(&mut rx).poll_next(&mut cx));
    assert_eq!(r, Poll::Ready(None), "ends on cancel");
    assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(Some(1)));
    assert!(Pin::new(&mut rx).poll_next(&mut cx).is_pending());
    drop(tx);
    assert_eq!(w.count(), 1);
    assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(None));
    let (utx, mut urx) = mpsc::unbounded_channel::<u32>();
    utx.send(3).unwrap();
    assert_eq!(urx.poll_recv(&mut cx).map(Result::ok), Poll::Ready(Some(3)));
    drop(utx);
    assert_eq!(Pin::new(&mut urx).poll_next(&mut cx), Poll::Ready(None));
}
