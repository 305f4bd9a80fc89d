//! Unit tests of `Semaphore`, `Mutex` and `RwLock`, polled by hand inside a
//! fake task: FIFO fairness, permits handed to a cancelled or dropped waiter
//! passing on, close, budget, cancel-first.

use std::sync::Arc;
use std::task::Poll;

use super::util::{poll_exhausted, poll_in, Counter, FakeTask};
use crate::sync::{AcquireError, Mutex, RwLock, Semaphore, TryAcquireError};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn send_sync_bounds() {
    assert_send_sync::<Semaphore>();
    assert_send_sync::<crate::sync::Acquire<'static>>();
    assert_send_sync::<crate::sync::OwnedSemaphorePermit>();
    assert_send_sync::<Mutex<String>>();
    assert_send_sync::<crate::sync::MutexGuard<'static, String>>();
    assert_send_sync::<crate::sync::OwnedMutexGuard<String>>();
    assert_send_sync::<RwLock<String>>();
    assert_send_sync::<crate::sync::RwLockWriteGuard<'static, String>>();
}

#[test]
fn waiters_are_served_in_fifo_order_and_nobody_barges() {
    let task = FakeTask::new();
    let sem = Semaphore::new(0);
    let (wa, wb) = (Counter::new(), Counter::new());
    let mut a = sem.acquire_many(2);
    let mut b = sem.acquire();
    assert!(poll_in(&task, &mut a, &wa.waker()).is_pending());
    assert!(poll_in(&task, &mut b, &wb.waker()).is_pending());
    sem.add_permits(1);
    // `a` is first and needs 2: the one permit is handed to it, not to `b`.
    assert_eq!((wa.count(), wb.count()), (0, 0));
    assert!(poll_in(&task, &mut b, &wb.waker()).is_pending());
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    sem.add_permits(1);
    assert_eq!(wa.count(), 1);
    let pa = match poll_in(&task, &mut a, &wa.waker()) {
        Poll::Ready(Ok(p)) => p,
        _ => panic!("a not granted"),
    };
    assert_eq!(pa.num_permits(), 2);
    assert!(poll_in(&task, &mut b, &wb.waker()).is_pending());
    drop(pa);
    assert_eq!(wb.count(), 1);
    assert!(matches!(
        poll_in(&task, &mut b, &wb.waker()),
        Poll::Ready(Ok(_))
    ));
    assert_eq!(
        sem.available_permits(),
        2,
        "b's permit dropped, a's leftover free"
    );
    assert_eq!(sem.queued(), 0);
}

#[test]
fn permit_handed_to_a_cancelled_waiter_passes_on() {
    let (t1, t2) = (FakeTask::new(), FakeTask::new());
    let sem = Semaphore::new(0);
    let (w1, w2) = (Counter::new(), Counter::new());
    let mut a = sem.acquire();
    let mut b = sem.acquire();
    assert!(poll_in(&t1, &mut a, &w1.waker()).is_pending());
    assert!(poll_in(&t2, &mut b, &w2.waker()).is_pending());
    sem.add_permits(1); // handed to `a`
    assert_eq!((w1.count(), w2.count()), (1, 0));
    t1.cancel();
    match poll_in(&t1, &mut a, &w1.waker()) {
        Poll::Ready(Err(AcquireError::Cancelled(c))) => assert!(c.cause().same(t1.cause())),
        _ => panic!("not cancelled"),
    }
    assert_eq!(w2.count(), 1, "the permit went on to b");
    let p = match poll_in(&t2, &mut b, &w2.waker()) {
        Poll::Ready(Ok(p)) => p,
        _ => panic!("b not granted"),
    };
    assert_eq!(sem.available_permits(), 0, "not duplicated");
    drop(p);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn partial_permits_of_a_dropped_waiter_pass_on() {
    let task = FakeTask::new();
    let sem = Semaphore::new(1);
    let (wa, wb) = (Counter::new(), Counter::new());
    let mut a = sem.acquire_many(3);
    assert!(poll_in(&task, &mut a, &wa.waker()).is_pending());
    assert_eq!(sem.available_permits(), 0, "a holds the free one");
    let mut b = sem.acquire();
    assert!(poll_in(&task, &mut b, &wb.waker()).is_pending());
    drop(a);
    assert_eq!(wb.count(), 1);
    assert!(matches!(
        poll_in(&task, &mut b, &wb.waker()),
        Poll::Ready(Ok(_))
    ));
    drop(b);
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(sem.queued(), 0);
}

#[test]
fn cancel_first_even_with_permits_free_and_budget_takes_nothing() {
    let task = FakeTask::new();
    let sem = Semaphore::new(1);
    assert!(poll_exhausted(&task, &mut sem.acquire()).is_pending());
    assert_eq!(sem.available_permits(), 1);
    task.cancel();
    let w = Counter::new();
    assert!(matches!(
        poll_in(&task, &mut sem.acquire(), &w.waker()),
        Poll::Ready(Err(AcquireError::Cancelled(_)))
    ));
    assert_eq!(sem.available_permits(), 1);
    // try_acquire does not observe cancellation.
    assert!(sem.try_acquire().is_ok());
}

#[test]
fn close_fails_waiters_and_returns_their_permits() {
    let task = FakeTask::new();
    let sem = Semaphore::new(1);
    let (wa, wb) = (Counter::new(), Counter::new());
    let mut a = sem.acquire_many(2);
    let mut b = sem.acquire();
    assert!(poll_in(&task, &mut a, &wa.waker()).is_pending());
    assert!(poll_in(&task, &mut b, &wb.waker()).is_pending());
    sem.close();
    assert_eq!((wa.count(), wb.count()), (1, 1));
    for f in [&mut a, &mut b] {
        assert!(matches!(
            poll_in(&task, f, &Counter::new().waker()),
            Poll::Ready(Err(AcquireError::Closed))
        ));
    }
    assert_eq!(sem.available_permits(), 1, "a's partial permit went back");
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert_eq!(sem.queued(), 0);
}

#[test]
fn owned_permits_and_forget() {
    let sem = Arc::new(Semaphore::new(2));
    let p = sem.clone().try_acquire_many_owned(2).unwrap();
    assert!(sem.clone().try_acquire_owned().is_err());
    assert!(Arc::ptr_eq(p.semaphore(), &sem));
    drop(p);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn acquire_zero_permits_is_immediate() {
    let sem = Semaphore::new(0);
    let w = Counter::new();
    let p = match poll_in(&FakeTask::new(), &mut sem.acquire_many(0), &w.waker()) {
        Poll::Ready(Ok(p)) => p,
        _ => panic!("zero permits must be granted at once"),
    };
    assert_eq!(p.num_permits(), 0);
}

#[test]
fn mutex_lock_handed_to_a_dropped_waiter_passes_on() {
    let task = FakeTask::new();
    let m = Mutex::new(0);
    let g = m.try_lock().unwrap();
    assert!(m.try_lock().is_err());
    let (w1, w2) = (Counter::new(), Counter::new());
    let mut l1 = m.lock();
    let mut l2 = m.lock();
    assert!(poll_in(&task, &mut l1, &w1.waker()).is_pending());
    assert!(poll_in(&task, &mut l2, &w2.waker()).is_pending());
    drop(g); // the lock is handed to l1 ...
    assert_eq!(w1.count(), 1);
    drop(l1); // ... which goes away without taking it
    assert_eq!(w2.count(), 1);
    let mut g2 = match poll_in(&task, &mut l2, &w2.waker()) {
        Poll::Ready(Ok(g)) => g,
        _ => panic!("l2 not granted"),
    };
    *g2 += 1;
    drop(g2);
    drop(l2);
    assert_eq!(m.into_inner(), 1);
}

#[test]
fn mutex_cancelled_lock_holds_nothing() {
    let task = FakeTask::new();
    task.cancel();
    let m = Mutex::new(());
    let w = Counter::new();
    assert!(matches!(
        poll_in(&task, &mut m.lock(), &w.waker()),
        Poll::Ready(Err(_))
    ));
    assert!(m.try_lock().is_ok());
}

#[test]
fn rwlock_is_fair_a_waiting_writer_blocks_later_readers() {
    let task = FakeTask::new();
    let l = RwLock::new(0);
    let r1 = l.try_read().unwrap();
    let (ww, wr) = (Counter::new(), Counter::new());
    let mut w = l.write();
    assert!(poll_in(&task, &mut w, &ww.waker()).is_pending());
    // A reader after the queued writer waits for it.
    assert!(l.try_read().is_err());
    let mut r2 = l.read();
    assert!(poll_in(&task, &mut r2, &wr.waker()).is_pending());
    drop(r1);
    assert_eq!((ww.count(), wr.count()), (1, 0));
    let mut g = match poll_in(&task, &mut w, &ww.waker()) {
        Poll::Ready(Ok(g)) => g,
        _ => panic!("writer not granted"),
    };
    *g = 5;
    drop(g);
    assert_eq!(wr.count(), 1);
    match poll_in(&task, &mut r2, &wr.waker()) {
        Poll::Ready(Ok(r)) => assert_eq!(*r, 5),
        _ => panic!("reader not granted"),
    };
}

#[test]
fn rwlock_cancelled_writer_lets_readers_in() {
    let (t1, t2) = (FakeTask::new(), FakeTask::new());
    let l = RwLock::new(());
    let r1 = l.try_read().unwrap();
    let (ww, wr) = (Counter::new(), Counter::new());
    let mut w = l.write();
    assert!(poll_in(&t1, &mut w, &ww.waker()).is_pending());
    let mut r2 = l.read();
    assert!(poll_in(&t2, &mut r2, &wr.waker()).is_pending());
    t1.cancel();
    assert!(matches!(
        poll_in(&t1, &mut w, &ww.waker()),
        Poll::Ready(Err(_))
    ));
    // The writer held the permits it had been handed; they went on.
    assert_eq!(wr.count(), 1);
    assert!(matches!(
        poll_in(&t2, &mut r2, &wr.waker()),
        Poll::Ready(Ok(_))
    ));
    drop(r1);
    assert!(l.try_read().is_ok());
}
