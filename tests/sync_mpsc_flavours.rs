//! The rendezvous (capacity 0), unbounded and reserve/permit parts of
//! `sync::mpsc` on the real runtime: a rendezvous send completes only when
//! received; a rendezvous send racing its cancel is delivered exactly once
//! or given back; unbounded producers lose nothing; a cancelled reserve
//! holds no slot.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use quell::cancel::Cause;
use quell::sync::{mpsc, oneshot, SendError};
use quell::Runtime;

mod sync_util;
use sync_util::{jitter, signal_parked, with_timeout};

#[test]
fn rendezvous_send_returns_after_the_receive() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<usize>(0);
            let received = Arc::new(AtomicUsize::new(0));
            let r = received.clone();
            let consumer = quell::spawn(async move {
                while let Ok(v) = rx.recv().await {
                    r.fetch_add(1, Ordering::SeqCst);
                    assert_eq!(r.load(Ordering::SeqCst), v + 1);
                }
            });
            for i in 0..2000 {
                tx.send(i).await.unwrap();
                // The receive took value i before this send returned, so
                // the consumer had finished with i - 1 (a buffered channel
                // would let the sender run ahead).
                assert!(received.load(Ordering::SeqCst) >= i);
            }
            drop(tx);
            consumer.await.unwrap();
        });
    });
}

#[test]
fn rendezvous_send_racing_cancel_is_delivered_once_or_given_back() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (mut delivered, mut given_back) = (0, 0);
            for i in 0..sync_util::iterations() {
                let (tx, mut rx) = mpsc::channel::<usize>(0);
                let (ptx, prx) = oneshot::channel();
                let sender = quell::spawn(async move { signal_parked(tx.send(i), ptx).await });
                prx.await.unwrap();
                let receiver = quell::spawn(async move { rx.try_recv().ok() });
                jitter(i);
                sender.cancel(Cause::explicit("race"));
                let got = receiver.await.unwrap();
                match (sender.await.unwrap(), got) {
                    (Ok(()), Some(v)) => {
                        assert_eq!(v, i);
                        delivered += 1;
                    }
                    (Err(SendError::Cancelled(v, _)), None) => {
                        assert_eq!(v, i);
                        given_back += 1;
                    }
                    (r, got) => panic!("lost or duplicated: send ok={} got={got:?}", r.is_ok()),
                }
            }
            eprintln!("delivered {delivered}, given back {given_back}");
        });
    });
}

#[test]
fn unbounded_many_producers_lose_nothing() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
            for p in 0..8u64 {
                let tx = tx.clone();
                quell::spawn(async move {
                    for i in 0..10_000 {
                        tx.send(p * 1_000_000 + i).unwrap();
                    }
                });
            }
            drop(tx);
            let (mut n, mut sum) = (0u64, 0u64);
            while let Ok(v) = rx.recv().await {
                n += 1;
                sum += v;
            }
            assert_eq!(n, 80_000);
            let want: u64 = (0..8u64)
                .map(|p| p * 1_000_000 * 10_000 + (0..10_000u64).sum::<u64>())
                .sum();
            assert_eq!(sum, want);
        });
    });
}

#[test]
fn cancelled_reserve_holds_no_slot() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            tx.send(0).await.unwrap();
            let tx2 = tx.clone();
            let (ptx, prx) = oneshot::channel();
            let h = quell::spawn(async move {
                signal_parked(tx2.reserve(), ptx)
                    .await
                    .map(|p| p.send(1))
                    .is_ok()
            });
            prx.await.unwrap();
            h.cancel(Cause::explicit("stop"));
            assert!(!h.await.unwrap());
            assert_eq!(rx.recv().await.unwrap(), 0);
            // The slot is free: nobody holds a stale reservation.
            tx.try_reserve().unwrap().send(2);
            assert_eq!(rx.recv().await.unwrap(), 2);
        });
    });
}
