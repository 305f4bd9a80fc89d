//! `sync::Mutex` and `sync::RwLock` on the real runtime: mutual exclusion
//! under contention, owned guards across tasks, a parked lock cancelled
//! (the lock is not lost), a lock handed over racing the waiter's cancel.

use std::sync::Arc;

use quell::cancel::Cause;
use quell::sync::{oneshot, Mutex, RwLock};
use quell::Runtime;

mod sync_util;
use sync_util::{jitter, signal_parked, with_timeout};

#[test]
fn contended_increments_are_exclusive() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let m = Arc::new(Mutex::new(0u64));
            let mut hs = Vec::new();
            for _ in 0..8 {
                let m = m.clone();
                hs.push(quell::spawn(async move {
                    for _ in 0..1000 {
                        let mut g = m.lock().await.unwrap();
                        let v = *g;
                        quell::task::yield_now().await; // hold across a yield
                        *g = v + 1;
                    }
                }));
            }
            for h in hs {
                h.await.unwrap();
            }
            assert_eq!(*m.lock().await.unwrap(), 8000);
        });
    });
}

#[test]
fn owned_guard_moves_to_another_task() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let m = Arc::new(Mutex::new(String::new()));
            let mut g = m.clone().lock_owned().await.unwrap();
            assert!(m.try_lock().is_err());
            quell::spawn(async move { g.push_str("hi") }).await.unwrap();
            assert_eq!(*m.lock().await.unwrap(), "hi");
        });
    });
}

#[test]
fn lock_handed_over_racing_cancel_is_never_lost() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            for i in 0..sync_util::iterations() / 2 {
                let m = Arc::new(Mutex::new(0u32));
                let g = m.clone().lock_owned().await.unwrap();
                let (p1, r1) = oneshot::channel();
                let m1 = m.clone();
                let w1 =
                    quell::spawn(
                        async move { signal_parked(m1.lock(), p1).await.map(|mut g| *g += 1) },
                    );
                r1.await.unwrap();
                let (p2, r2) = oneshot::channel();
                let m2 = m.clone();
                let w2 = quell::spawn(async move {
                    signal_parked(m2.lock(), p2).await.map(|mut g| *g += 10)
                });
                r2.await.unwrap();
                let unlocker = quell::spawn(async move { drop(g) });
                jitter(i);
                w1.cancel(Cause::explicit("race"));
                unlocker.await.unwrap();
                let first = w1.await.unwrap().is_ok();
                // A lost lock = W2 never wakes = the timeout fires.
                w2.await.unwrap().unwrap();
                let v = *m.lock().await.unwrap();
                assert_eq!(v, if first { 11 } else { 10 });
            }
        });
    });
}

#[test]
fn rwlock_readers_share_writer_excludes_and_cancel_keeps_the_lock() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let l = Arc::new(RwLock::new(0u32));
            let r1 = l.read().await.unwrap();
            let r2 = l.read().await.unwrap();
            assert_eq!(*r1 + *r2, 0);
            let l2 = l.clone();
            let (ptx, prx) = oneshot::channel();
            let w =
                quell::spawn(
                    async move { signal_parked(l2.write(), ptx).await.map(|mut g| *g = 1) },
                );
            prx.await.unwrap();
            w.cancel(Cause::explicit("stop"));
            assert!(w.await.unwrap().is_err());
            drop((r1, r2));
            let mut hs = Vec::new();
            for _ in 0..4 {
                let l = l.clone();
                hs.push(quell::spawn(async move {
                    for _ in 0..200 {
                        *l.write().await.unwrap() += 1;
                        let r = l.read().await.unwrap();
                        assert!(*r >= 1);
                    }
                }));
            }
            for h in hs {
                h.await.unwrap();
            }
            assert_eq!(*l.read().await.unwrap(), 800);
        });
    });
}
