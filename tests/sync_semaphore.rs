//! `sync::Semaphore` on the real runtime: a bound on concurrency, a parked
//! acquire cancelled, a released permit racing the cancel of the waiter it
//! was handed to (never lost, never duplicated), close.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use quell::cancel::Cause;
use quell::sync::{oneshot, AcquireError, Semaphore};
use quell::Runtime;

mod sync_util;
use sync_util::{jitter, signal_parked, with_timeout};

#[test]
fn bounds_concurrency() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let sem = Arc::new(Semaphore::new(3));
            let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
            let mut hs = Vec::new();
            for _ in 0..32 {
                let (sem, now, peak) = (sem.clone(), now.clone(), peak.clone());
                hs.push(quell::spawn(async move {
                    for _ in 0..50 {
                        let _p = sem.acquire().await.unwrap();
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(n, Ordering::SeqCst);
                        quell::task::yield_now().await;
                        now.fetch_sub(1, Ordering::SeqCst);
                    }
                }));
            }
            for h in hs {
                h.await.unwrap();
            }
            assert!(
                peak.load(Ordering::SeqCst) <= 3,
                "more holders than permits"
            );
            assert_eq!(sem.available_permits(), 3, "permits lost");
        });
    });
}

#[test]
fn parked_acquire_cancelled_holds_nothing() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let sem = Arc::new(Semaphore::new(0));
            let s = sem.clone();
            let (ptx, prx) = oneshot::channel();
            let h =
                quell::spawn(
                    async move { signal_parked(s.acquire(), ptx).await.map(|p| p.forget()) },
                );
            prx.await.unwrap();
            let cause = Cause::explicit("stop");
            h.cancel(cause.clone());
            match h.await.unwrap() {
                Err(AcquireError::Cancelled(c)) => assert!(c.cause().same(&cause)),
                other => panic!("unexpected {other:?}"),
            }
            sem.add_permits(1);
            assert_eq!(sem.available_permits(), 1);
            let _p = sem.acquire().await.unwrap();
        });
    });
}

#[test]
fn permit_racing_cancel_is_never_lost() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut first_won = 0;
            for i in 0..sync_util::iterations() {
                let sem = Arc::new(Semaphore::new(0));
                let (p1, r1) = oneshot::channel();
                let s = sem.clone();
                let w1 = quell::spawn(async move {
                    signal_parked(s.acquire(), p1).await.map(|p| p.forget())
                });
                r1.await.unwrap();
                let (p2, r2) = oneshot::channel();
                let s = sem.clone();
                let w2 = quell::spawn(async move {
                    signal_parked(s.acquire(), p2).await.map(|p| p.forget())
                });
                r2.await.unwrap();
                let s = sem.clone();
                let releaser = quell::spawn(async move { s.add_permits(1) });
                jitter(i);
                w1.cancel(Cause::explicit("race"));
                releaser.await.unwrap();
                if w1.await.unwrap().is_ok() {
                    // W1 took it before it saw the cancel: W2 needs another.
                    first_won += 1;
                    sem.add_permits(1);
                }
                // A lost permit = W2 never wakes = the timeout fires.
                w2.await.unwrap().unwrap();
                assert_eq!(sem.available_permits(), 0, "permit duplicated");
            }
            eprintln!("W1 took the permit before its cancel in {first_won} iterations");
        });
    });
}

#[test]
fn close_fails_parked_and_later_acquires() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let sem = Arc::new(Semaphore::new(0));
            let s = sem.clone();
            let (ptx, prx) = oneshot::channel();
            let h = quell::spawn(async move {
                signal_parked(s.acquire_many(2), ptx)
                    .await
                    .map(|p| p.forget())
            });
            prx.await.unwrap();
            sem.close();
            assert!(matches!(h.await.unwrap(), Err(AcquireError::Closed)));
            assert!(sem.clone().acquire_owned().await.unwrap_err().is_closed());
        });
    });
}
