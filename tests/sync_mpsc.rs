//! `sync::mpsc` on the real runtime: receives and sends parked in tasks that
//! are cancelled through `JoinHandle::cancel` or an ancestor token.

use quell::cancel::{shield, CancelToken, Cause};
use quell::sync::{mpsc, oneshot, RecvError, SendError, TryRecvError};
use quell::task::SpawnBuilder;
use quell::Runtime;

mod sync_util;
use sync_util::{signal_parked, with_timeout};

#[test]
fn parked_recv_cancelled_by_join_handle() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(4);
            let (ptx, prx) = oneshot::channel();
            let h = quell::spawn(async move {
                let first = signal_parked(rx.recv(), ptx).await;
                let second = rx.recv().await; // sticky
                (first, second, rx)
            });
            prx.await.unwrap();
            let cause = Cause::explicit("stop the reader");
            assert!(h.cancel(cause.clone()));
            let (first, second, mut rx) = h.await.unwrap();
            match first {
                Err(RecvError::Cancelled(c)) => {
                    assert!(c.cause().same(&cause));
                    assert!(!c.is_inherited());
                }
                other => panic!("expected Cancelled, got {other:?}"),
            }
            assert!(matches!(second, Err(RecvError::Cancelled(_))));
            // The channel still works, for the next receiving task.
            tx.send(11).await.unwrap();
            let h2 = quell::spawn(async move { rx.recv().await });
            assert_eq!(h2.await.unwrap().unwrap(), 11);
        });
    });
}

#[test]
fn grandchild_sees_root_token_cancel() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        let root = CancelToken::new();
        let (tx, rx) = mpsc::channel::<u32>(1);
        let (ptx, prx) = oneshot::channel();
        let (res_tx, res_rx) = oneshot::channel();
        let outer = SpawnBuilder::new().token(root.child()).spawn_on(
            async move {
                let child = quell::spawn(async move {
                    let grandchild = quell::spawn(async move {
                        let mut rx = rx;
                        let r = signal_parked(rx.recv(), ptx).await;
                        let _ = res_tx.send(r);
                    });
                    grandchild.await.unwrap();
                });
                child.await.unwrap();
            },
            rt.handle(),
        );
        rt.block_on(async {
            prx.await.unwrap();
            let cause = Cause::shutdown();
            assert!(root.cancel(cause.clone()));
            match res_rx.await.unwrap() {
                Err(RecvError::Cancelled(c)) => {
                    assert!(
                        c.cause().same(&cause),
                        "root's cause reaches the grandchild"
                    );
                    assert!(c.is_inherited(), "observed through a child token");
                }
                other => panic!("expected Cancelled, got {other:?}"),
            }
            outer.await.unwrap();
            // The cancelled wait took nothing and left nothing behind.
            assert!(tx.is_closed(), "receiver dropped with its task");
        });
    });
}

#[test]
fn shielded_recv_still_receives() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(2);
            let (ptx, prx) = oneshot::channel();
            let (gate_tx, gate_rx) = oneshot::channel::<()>();
            let h = quell::spawn(async move {
                let shielded = signal_parked(shield(rx.recv()), ptx).await;
                // Hold the receiver until the second value is buffered.
                shield(gate_rx).await.unwrap();
                let after = rx.recv().await; // a value (6) is buffered
                (shielded, after)
            });
            prx.await.unwrap();
            h.cancel(Cause::explicit("stop"));
            tx.send(5).await.unwrap();
            tx.send(6).await.unwrap(); // buffered (cap 2): the task waits at the gate
            gate_tx.send(()).unwrap();
            let (shielded, after) = h.await.unwrap();
            assert_eq!(shielded.unwrap(), 5);
            assert!(
                matches!(after, Err(RecvError::Cancelled(_))),
                "sticky after the shield"
            );
        });
    });
}

#[test]
fn cancel_is_sticky_and_leaves_buffered_values() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(4);
            tx.send(1).await.unwrap();
            tx.send(2).await.unwrap();
            let (gate_tx, gate_rx) = oneshot::channel::<()>();
            let h = quell::spawn(async move {
                let _ = gate_rx.await; // returns once cancelled (gate_tx kept)
                let a = rx.recv().await;
                let b = rx.recv().await;
                let left: Vec<u32> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
                (a, b, left, rx.try_recv())
            });
            h.cancel(Cause::explicit("stop"));
            let (a, b, left, end) = h.await.unwrap();
            drop(gate_tx);
            assert!(matches!(a, Err(RecvError::Cancelled(_))));
            assert!(matches!(b, Err(RecvError::Cancelled(_))));
            assert_eq!(left, [1, 2], "cancelled receives took nothing");
            assert_eq!(end, Err(TryRecvError::Empty));
        });
    });
}

#[test]
fn parked_send_cancelled_gives_value_back() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<String>(1);
            tx.send("first".into()).await.unwrap();
            let (ptx, prx) = oneshot::channel();
            let tx2 = tx.clone();
            let h =
                quell::spawn(async move { signal_parked(tx2.send("second".into()), ptx).await });
            prx.await.unwrap();
            let cause = Cause::explicit("stop the writer");
            h.cancel(cause.clone());
            match h.await.unwrap() {
                Err(SendError::Cancelled(v, c)) => {
                    assert_eq!(v, "second");
                    assert!(c.cause().same(&cause));
                }
                other => panic!("expected Cancelled, got {other:?}"),
            }
            assert_eq!(rx.try_recv().unwrap(), "first");
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            // A waiter that left did not block the channel.
            tx.send("third".into()).await.unwrap();
            assert_eq!(rx.recv().await.unwrap(), "third");
        });
    });
}

#[test]
fn closed_after_senders_drop_and_buffer_drains() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(2);
            let h = quell::spawn(async move {
                for i in 0..100 {
                    tx.send(i).await.unwrap();
                }
            });
            let mut got = Vec::new();
            loop {
                match rx.recv().await {
                    Ok(v) => got.push(v),
                    Err(RecvError::Closed) => break,
                    Err(e) => panic!("{e}"),
                }
            }
            h.await.unwrap();
            assert_eq!(got, (0..100).collect::<Vec<_>>());
        });
    });
}
