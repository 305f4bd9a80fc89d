//! `sync::Notify` on the real runtime: a parked `notified()` cancelled, and
//! a `notify_one` permit racing the cancel of the waiter it was handed to.

use std::sync::Arc;

use quell::cancel::Cause;
use quell::sync::{oneshot, Notify};
use quell::Runtime;

mod sync_util;
use sync_util::{jitter, signal_parked, with_timeout};

#[test]
fn parked_notified_cancelled_keeps_the_next_permit() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let notify = Arc::new(Notify::new());
            let n = notify.clone();
            let (ptx, prx) = oneshot::channel();
            let h = quell::spawn(async move {
                let first = signal_parked(n.notified(), ptx).await;
                let second = n.notified().await;
                (first, second)
            });
            prx.await.unwrap();
            let cause = Cause::explicit("stop");
            h.cancel(cause.clone());
            let (first, second) = h.await.unwrap();
            assert!(first.unwrap_err().cause().same(&cause));
            assert!(second.is_err(), "sticky");
            // The cancelled waiter left the list: this permit is stored...
            notify.notify_one();
            // ...and consumed at once by the next waiter.
            notify.notified().await.unwrap();
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
                let notify = Arc::new(Notify::new());
                // W1 parks first, then W2: W1 is first in line.
                let (p1, r1) = oneshot::channel();
                let n = notify.clone();
                let w1 = quell::spawn(async move { signal_parked(n.notified(), p1).await });
                r1.await.unwrap();
                let (p2, r2) = oneshot::channel();
                let n = notify.clone();
                let w2 = quell::spawn(async move { signal_parked(n.notified(), p2).await });
                r2.await.unwrap();
                // notify_one (on a worker) races the cancel of W1.
                let n = notify.clone();
                let notifier = quell::spawn(async move { n.notify_one() });
                jitter(i);
                w1.cancel(Cause::explicit("race"));
                notifier.await.unwrap();
                if w1.await.unwrap().is_ok() {
                    // W1 consumed it before it saw the cancel: W2 needs another.
                    first_won += 1;
                    notify.notify_one();
                }
                // Lost permit = W2 never wakes = the timeout fires.
                w2.await.unwrap().unwrap();
            }
            eprintln!("W1 consumed the permit before its cancel in {first_won} iterations");
        });
    });
}
