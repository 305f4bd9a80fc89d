//! Cancel racing sends and receives on a bounded `sync::mpsc`, many times:
//! sent == received + left in the channel (+ given back by a cancelled
//! send), zero lost, zero duplicated.

use quell::cancel::Cause;
use quell::sync::{mpsc, RecvError, SendError};
use quell::Runtime;

mod sync_util;
use quell::sync::oneshot;
use sync_util::{jitter, signal_parked, with_timeout};

const PER_ROUND: u32 = 3;

#[test]
fn cancel_racing_recv_loses_nothing() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut outcomes = [0usize; PER_ROUND as usize + 1];
            for i in 0..sync_util::iterations() {
                let (tx, mut rx) = mpsc::channel::<u32>(PER_ROUND as usize + 1);
                let (ptx, prx) = oneshot::channel();
                let reader = quell::spawn(async move {
                    let mut got = Vec::new();
                    let mut parked = Some(ptx);
                    loop {
                        let r = match parked.take() {
                            Some(p) => signal_parked(rx.recv(), p).await,
                            None => rx.recv().await,
                        };
                        match r {
                            Ok(v) => got.push(v),
                            Err(RecvError::Cancelled(_)) => return (got, rx, true),
                            Err(RecvError::Closed) => return (got, rx, false),
                        }
                    }
                });
                prx.await.unwrap(); // the reader is parked in recv
                let writer = quell::spawn(async move {
                    for i in 0..PER_ROUND {
                        tx.send(i).await.unwrap();
                    }
                });
                jitter(i);
                reader.cancel(Cause::explicit("race"));
                writer.await.unwrap();
                let (mut got, mut rx, _cancelled) = reader.await.unwrap();
                outcomes[got.len()] += 1;
                while let Ok(v) = rx.try_recv() {
                    got.push(v);
                }
                assert_eq!(
                    got,
                    (0..PER_ROUND).collect::<Vec<_>>(),
                    "lost or duplicated"
                );
            }
            eprintln!("values received before the cancel (0..={PER_ROUND}): {outcomes:?}");
        });
    });
}

#[test]
fn cancel_racing_send_loses_nothing() {
    with_timeout(|| {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut given_back = 0;
            let mut sent_counts = [0usize; PER_ROUND as usize + 1];
            for i in 0..sync_util::iterations() {
                let (tx, mut rx) = mpsc::channel::<u32>(1);
                let (ptx, prx) = oneshot::channel();
                // The writer parks on its second send (capacity 1, no reader yet).
                let writer = quell::spawn(signal_parked(
                    async move {
                        let mut sent = Vec::new();
                        for i in 0..PER_ROUND {
                            match tx.send(i).await {
                                Ok(()) => sent.push(i),
                                Err(SendError::Cancelled(v, _)) => return (sent, Some(v)),
                                Err(SendError::Closed(_)) => unreachable!("receiver alive"),
                            }
                        }
                        (sent, None)
                    },
                    ptx,
                ));
                prx.await.unwrap();
                let reader = quell::spawn(async move {
                    let mut got = Vec::new();
                    // Not cancelled: reads until the writer's sender is gone.
                    while let Ok(v) = rx.recv().await {
                        got.push(v);
                    }
                    got
                });
                jitter(i);
                writer.cancel(Cause::explicit("race"));
                let (sent, back) = writer.await.unwrap();
                let got = reader.await.unwrap();
                assert_eq!(got, sent, "every sent value received exactly once");
                sent_counts[sent.len()] += 1;
                if let Some(v) = back {
                    given_back += 1;
                    assert_eq!(v, sent.len() as u32, "the unsent value came back");
                }
            }
            eprintln!(
                "a cancelled send gave its value back in {given_back} iterations; \
                 values sent before the cancel (0..={PER_ROUND}): {sent_counts:?}"
            );
        });
    });
}
