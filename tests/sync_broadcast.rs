//! `sync::broadcast` on the real runtime: 1 → 16 fan-out delivers every
//! value to every receiver in order; a slow receiver learns how many it
//! missed; a parked recv cancelled takes nothing.

use quell::cancel::Cause;
use quell::sync::broadcast::{self, RecvError};
use quell::sync::oneshot;
use quell::Runtime;

mod sync_util;
use sync_util::{signal_parked, with_timeout};

#[test]
fn fan_out_to_sixteen_in_order() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, rx) = broadcast::channel::<u32>(1024);
            let mut hs = Vec::new();
            for _ in 0..16 {
                let mut rx = rx.resubscribe();
                hs.push(quell::spawn(async move {
                    let mut n = 0;
                    while let Ok(v) = rx.recv().await {
                        assert_eq!(v, n, "in order, none missed");
                        n += 1;
                    }
                    n
                }));
            }
            drop(rx);
            for i in 0..1000 {
                tx.send(i).unwrap();
            }
            drop(tx);
            for h in hs {
                assert_eq!(h.await.unwrap(), 1000);
            }
        });
    });
}

#[test]
fn lagging_receiver_counts_what_it_missed() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = broadcast::channel::<u32>(4);
            for i in 0..10 {
                tx.send(i).unwrap();
            }
            assert!(matches!(rx.recv().await, Err(RecvError::Lagged(6))));
            for want in 6..10 {
                assert_eq!(rx.recv().await.unwrap(), want);
            }
        });
    });
}

#[test]
fn cancelled_recv_takes_nothing() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = broadcast::channel::<u32>(4);
            let (ptx, prx) = oneshot::channel();
            let h = quell::spawn(async move {
                let r = signal_parked(rx.recv(), ptx).await;
                (r, rx)
            });
            prx.await.unwrap();
            h.cancel(Cause::explicit("stop"));
            let (r, mut rx) = h.await.unwrap();
            tx.send(5).unwrap();
            match r {
                Err(RecvError::Cancelled(_)) => assert_eq!(rx.recv().await.unwrap(), 5),
                other => panic!("unexpected {other:?}"),
            }
        });
    });
}
