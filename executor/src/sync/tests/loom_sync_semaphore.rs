//! Loom models: semaphore (and mutex) permits racing the cancel of a
//! waiter, and the lock-free release racing a waiter that queues.
//! Property: a permit is held by exactly one of: the free count, one
//! waiter, one permit/guard — never lost, never duplicated; a permit handed
//! to a cancelled waiter reaches the next one; no waiter sleeps while a
//! permit it could take is free.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use super::util::{model, poll_in, Counter, FakeTask};
use crate::loom::{thread, Arc};
use crate::sync::{AcquireError, Mutex, Semaphore};

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// An `acquire().await` owning its semaphore handle (it forgets the
/// permit and reports the count, so it can move between threads).
fn acquire(sem: &Arc<Semaphore>) -> BoxFut<Result<usize, AcquireError>> {
    let sem = sem.clone();
    Box::pin(async move {
        let p = sem.acquire().await?;
        let n = p.num_permits();
        p.forget();
        Ok(n)
    })
}

/// Two parked waiters. A permit is released ∥ the first waiter's task is
/// cancelled and polled. The second waiter must be woken and granted (the
/// permit was handed to it, or passed on by the cancelled first).
#[test]
fn loom_sync_semaphore_permit_passed_on() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let t1 = Arc::new(FakeTask::new());
        let t2 = FakeTask::new();
        let (w1, w2) = (Counter::new(), Counter::new());
        let mut a = acquire(&sem);
        let mut b = acquire(&sem);
        assert!(poll_in(&t1, &mut a, &w1.waker()).is_pending());
        assert!(poll_in(&t2, &mut b, &w2.waker()).is_pending());
        let s = sem.clone();
        let rel = thread::spawn(move || s.add_permits(1));
        let t = t1.clone();
        let canc = thread::spawn(move || {
            t.cancel();
            let wk = Counter::new();
            match poll_in(&t, &mut a, &wk.waker()) {
                Poll::Ready(Err(AcquireError::Cancelled(_))) => {}
                other => panic!("unexpected {:?}", other.map(|r| r.is_ok())),
            }
        });
        rel.join().unwrap();
        canc.join().unwrap();
        assert_eq!(w2.count(), 1, "permit not passed on to the next waiter");
        assert!(matches!(
            poll_in(&t2, &mut b, &w2.waker()),
            Poll::Ready(Ok(1))
        ));
        assert_eq!(sem.available_permits(), 0, "permit duplicated");
        assert_eq!(sem.queued(), 0);
    });
}

/// One parked waiter. A permit is released ∥ the waiter's task is
/// cancelled ∥ the waiter's poll. The permit ends with the waiter (`Ok`)
/// or free (`Cancelled`), exactly once.
#[test]
fn loom_sync_semaphore_release_vs_cancelled_acquire() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let task = Arc::new(FakeTask::new());
        let w = Counter::new();
        let mut a = acquire(&sem);
        assert!(poll_in(&task, &mut a, &w.waker()).is_pending());
        let s = sem.clone();
        let rel = thread::spawn(move || s.add_permits(1));
        let t = task.clone();
        let canc = thread::spawn(move || t.cancel());
        let mut r = poll_in(&task, &mut a, &w.waker());
        rel.join().unwrap();
        canc.join().unwrap();
        if r.is_pending() {
            assert_eq!(w.count(), 1, "lost wakeup");
            r = poll_in(&task, &mut a, &w.waker());
        }
        let held = match r {
            Poll::Ready(Ok(n)) => n,
            Poll::Ready(Err(AcquireError::Cancelled(c))) => {
                assert!(c.cause().same(task.cause()));
                0
            }
            other => panic!("unexpected {:?}", other.map(|r| r.is_ok())),
        };
        assert_eq!(
            held + sem.available_permits(),
            1,
            "permit lost or duplicated"
        );
        assert_eq!(sem.queued(), 0);
    });
}

/// The mutex is held; the holder unlocks (lock-free fast path unless a
/// waiter is queued) ∥ a `lock()` is polled (fast path, or queue). The
/// locker gets the lock at once or is woken: invariant W, no sleeper while
/// the lock is free.
#[test]
fn loom_sync_mutex_unlock_vs_queue() {
    model(|| {
        // std `Arc`: the owned guard's type (loom sees the mutex inside).
        let m = std::sync::Arc::new(Mutex::new(0usize));
        let g = m.clone().try_lock_owned().unwrap();
        let holder = thread::spawn(move || {
            let mut g = g;
            *g += 1;
        });
        let task = FakeTask::new();
        let w = Counter::new();
        let m2 = m.clone();
        let mut lock: BoxFut<Result<usize, _>> = Box::pin(async move {
            let mut g = m2.lock().await?;
            *g += 1;
            Ok::<_, quell_cancel::Cancelled>(*g)
        });
        let mut r = poll_in(&task, &mut lock, &w.waker());
        holder.join().unwrap();
        if r.is_pending() {
            assert_eq!(w.count(), 1, "queued locker not woken by the unlock");
            r = poll_in(&task, &mut lock, &w.waker());
        }
        assert!(matches!(r, Poll::Ready(Ok(2))), "lock not granted");
        assert!(m.try_lock().is_ok(), "lock lost");
    });
}

/// The mutex is held, two `lock()`s parked. Unlock ∥ the first locker's
/// task is cancelled and polled. The second locker must get the lock.
#[test]
fn loom_sync_mutex_lock_passed_on_from_cancelled_locker() {
    model(|| {
        let m = std::sync::Arc::new(Mutex::new(0u32));
        let g = m.clone().try_lock_owned().unwrap();
        let t1 = Arc::new(FakeTask::new());
        let t2 = FakeTask::new();
        let (w1, w2) = (Counter::new(), Counter::new());
        let (m1, m2) = (m.clone(), m.clone());
        let mut l1: BoxFut<bool> = Box::pin(async move { m1.lock().await.is_ok() });
        let mut l2: BoxFut<u32> = Box::pin(async move {
            let mut g = m2.lock().await.expect("not cancelled");
            *g += 1;
            *g
        });
        assert!(poll_in(&t1, &mut l1, &w1.waker()).is_pending());
        assert!(poll_in(&t2, &mut l2, &w2.waker()).is_pending());
        let unlock = thread::spawn(move || drop(g));
        let t = t1.clone();
        let canc = thread::spawn(move || {
            t.cancel();
            let wk = Counter::new();
            assert!(matches!(
                poll_in(&t, &mut l1, &wk.waker()),
                Poll::Ready(false)
            ));
        });
        unlock.join().unwrap();
        canc.join().unwrap();
        assert_eq!(w2.count(), 1, "lock not passed on to the next locker");
        assert!(matches!(poll_in(&t2, &mut l2, &w2.waker()), Poll::Ready(1)));
        assert!(m.try_lock().is_ok(), "lock lost");
    });
}

/// A reader holds the lock; a writer and then a reader are parked. The
/// holder unlocks ∥ the writer's task is cancelled and polled. The parked
/// reader must get in (the permits handed to the writer pass on).
#[test]
fn loom_sync_rwlock_cancelled_writer_passes_on() {
    model(|| {
        let l = std::sync::Arc::new(crate::sync::RwLock::new(0u32));
        let t1 = Arc::new(FakeTask::new());
        let t2 = FakeTask::new();
        let (w1, w2) = (Counter::new(), Counter::new());
        let (lw, lr) = (l.clone(), l.clone());
        // This thread holds a read guard and drops it in the race below.
        let g = l.try_read().unwrap();
        let mut wr: BoxFut<bool> = Box::pin(async move { lw.write().await.is_ok() });
        let mut rd: BoxFut<u32> = Box::pin(async move { *lr.read().await.expect("not cancelled") });
        assert!(poll_in(&t1, &mut wr, &w1.waker()).is_pending());
        assert!(poll_in(&t2, &mut rd, &w2.waker()).is_pending());
        let t = t1.clone();
        let canc = thread::spawn(move || {
            t.cancel();
            let wk = Counter::new();
            assert!(matches!(
                poll_in(&t, &mut wr, &wk.waker()),
                Poll::Ready(false)
            ));
        });
        drop(g);
        canc.join().unwrap();
        assert_eq!(
            w2.count(),
            1,
            "reader behind the cancelled writer not woken"
        );
        assert!(matches!(poll_in(&t2, &mut rd, &w2.waker()), Poll::Ready(0)));
        assert!(l.try_write().is_ok(), "permits lost");
    });
}
