//! `sync::oneshot` on the real runtime: a parked receive cancelled by
//! `JoinHandle::cancel` or a token; the value survives the cancel.

use quell::cancel::{shield, CancelToken, Cause};
use quell::sync::{oneshot, RecvError, TryRecvError};
use quell::Runtime;

mod sync_util;
use sync_util::{jitter, signal_parked, with_timeout};

#[test]
fn parked_receive_cancelled_then_value_kept_for_shielded_cleanup() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = oneshot::channel::<u32>();
            let (ptx, prx) = oneshot::channel();
            let (sent_tx, sent_rx) = oneshot::channel::<()>();
            let h = quell::spawn(async move {
                let first = signal_parked(&mut rx, ptx).await;
                let second = (&mut rx).await; // sticky
                                              // Wait (shielded) until the value was sent after the cancel.
                shield(sent_rx).await.unwrap();
                let cleanup = shield(&mut rx).await;
                (first, second, cleanup)
            });
            prx.await.unwrap();
            let cause = Cause::explicit("stop");
            assert!(h.cancel(cause.clone()));
            tx.send(42).unwrap(); // arrives after the cancel: kept
            sent_tx.send(()).unwrap();
            let (first, second, cleanup) = h.await.unwrap();
            match first {
                Err(RecvError::Cancelled(c)) => {
                    assert!(c.cause().same(&cause));
                    assert!(!c.is_inherited());
                }
                other => panic!("expected Cancelled, got {other:?}"),
            }
            assert!(matches!(second, Err(RecvError::Cancelled(_))));
            assert_eq!(cleanup.unwrap(), 42);
        });
    });
}

#[test]
fn value_racing_cancel_is_returned_or_left() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut returned = 0;
            for i in 0..sync_util::iterations() as u32 {
                let (tx, mut rx) = oneshot::channel::<u32>();
                let (ptx, prx) = oneshot::channel();
                let h = quell::spawn(async move {
                    let r = signal_parked(&mut rx, ptx).await;
                    (r, rx)
                });
                prx.await.unwrap();
                let s = quell::spawn(async move { tx.send(i).unwrap() });
                jitter(i as usize);
                h.cancel(Cause::explicit("race"));
                s.await.unwrap();
                let (r, mut rx) = h.await.unwrap();
                match r {
                    Ok(v) => {
                        assert_eq!(v, i);
                        returned += 1;
                        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
                    }
                    Err(RecvError::Cancelled(_)) => assert_eq!(rx.try_recv(), Ok(i), "value lost"),
                    Err(RecvError::Closed) => panic!("closed although sent"),
                }
            }
            eprintln!("value returned in {returned} iterations, left in the channel otherwise");
        });
    });
}

#[test]
fn token_cancel_reaches_parked_receiver() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        let parent = CancelToken::new();
        let (_tx, rx) = oneshot::channel::<u32>();
        let (ptx, prx) = oneshot::channel();
        let h = quell::task::SpawnBuilder::new()
            .token(parent.child())
            .spawn_on(signal_parked(rx, ptx), rt.handle());
        rt.block_on(async {
            prx.await.unwrap();
            let cause = Cause::deadline_exceeded();
            parent.cancel(cause.clone());
            match h.await.unwrap() {
                Err(RecvError::Cancelled(c)) => {
                    assert!(c.cause().same(&cause));
                    assert!(c.is_inherited());
                }
                other => panic!("expected Cancelled, got {other:?}"),
            }
        });
    });
}

#[test]
fn sender_dropped_is_closed() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let h = quell::spawn(rx);
            drop(tx);
            assert!(matches!(h.await.unwrap(), Err(RecvError::Closed)));
        });
    });
}
