//! `sync::watch` on the real runtime: every receiver sees the last value,
//! a parked `changed` cancelled leaves the change unseen, the stream ends
//! when the sender goes.

use quell::cancel::Cause;
use quell::sync::{oneshot, watch};
use quell::Runtime;

mod sync_util;
use sync_util::{signal_parked, with_timeout};

#[test]
fn receivers_converge_on_the_last_value() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, rx) = watch::channel(0u32);
            let mut hs = Vec::new();
            for _ in 0..8 {
                let mut rx = rx.clone();
                hs.push(quell::spawn(async move {
                    let mut last = 0;
                    while rx.changed().await.is_ok() {
                        let v = *rx.borrow_and_update();
                        assert!(v > last, "values go forward");
                        last = v;
                    }
                    last
                }));
            }
            drop(rx);
            for i in 1..=1000 {
                tx.send(i).unwrap();
                if i % 100 == 0 {
                    quell::task::yield_now().await;
                }
            }
            drop(tx);
            for h in hs {
                assert_eq!(h.await.unwrap(), 1000, "the last value reached everyone");
            }
        });
    });
}

#[test]
fn cancelled_changed_leaves_the_change_unseen() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = watch::channel(0u32);
            let (ptx, prx) = oneshot::channel();
            let h = quell::spawn(async move {
                let r = signal_parked(rx.changed(), ptx).await;
                (r.is_err(), rx)
            });
            prx.await.unwrap();
            h.cancel(Cause::explicit("stop"));
            let (cancelled, mut rx) = h.await.unwrap();
            tx.send(1).unwrap();
            assert!(cancelled, "nothing was sent before the cancel");
            assert!(rx.has_changed().unwrap(), "the change is unseen");
            rx.changed().await.unwrap();
            assert_eq!(*rx.borrow(), 1);
        });
    });
}
