//! `sync::Barrier` on the real runtime: generations trip with one leader
//! each; a cancelled wait withdraws its arrival so the barrier does not
//! trip short.

use std::sync::Arc;

use quell::cancel::Cause;
use quell::sync::{oneshot, Barrier};
use quell::Runtime;

mod sync_util;
use sync_util::{signal_parked, with_timeout};

#[test]
fn generations_trip_with_one_leader_each() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let b = Arc::new(Barrier::new(4));
            let mut hs = Vec::new();
            for _ in 0..4 {
                let b = b.clone();
                hs.push(quell::spawn(async move {
                    let mut leads = 0;
                    for _ in 0..100 {
                        leads += b.wait().await.unwrap().is_leader() as usize;
                    }
                    leads
                }));
            }
            let mut leaders = 0;
            for h in hs {
                leaders += h.await.unwrap();
            }
            assert_eq!(leaders, 100, "one leader per generation");
        });
    });
}

#[test]
fn cancelled_wait_withdraws_its_arrival() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let b = Arc::new(Barrier::new(2));
            let b1 = b.clone();
            let (ptx, prx) = oneshot::channel();
            let h = quell::spawn(async move { signal_parked(b1.wait(), ptx).await.is_ok() });
            prx.await.unwrap();
            assert_eq!(b.arrived(), 1);
            h.cancel(Cause::explicit("stop"));
            assert!(!h.await.unwrap());
            assert_eq!(b.arrived(), 0);
            // Two fresh arrivals trip it.
            let b2 = b.clone();
            let other = quell::spawn(async move { b2.wait().await.unwrap().is_leader() });
            let me = b.wait().await.unwrap().is_leader();
            assert!(me ^ other.await.unwrap());
        });
    });
}
