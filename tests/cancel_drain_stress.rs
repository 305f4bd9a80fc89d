//! Drain racing park, and drain racing cancel racing a child's creation,
//! hammered on real threads a bounded number of times in release. The loom
//! models (quell-cancel, `loom_drain_*`) check the same races exhaustively
//! at small scale.

mod support;

use std::sync::{Arc, Barrier};

use quell::cancel::{self, CancelToken, Cause};
use quell::task::SpawnBuilder;
use support::*;

const BATCH: usize = 500;

fn rounds() -> usize {
    if cfg!(debug_assertions) {
        10
    } else {
        200
    }
}

/// Every task waiting in `cancel::draining()` finishes when a plain thread
/// drains its token while the tasks are still reaching their first park: no
/// drain wake is lost, and no task sees `Cancelled`.
#[test]
fn drain_racing_park_loses_nothing() {
    let _dog = watchdog("drain stress");
    let rt = rt(2);
    for _ in 0..rounds() {
        let token = CancelToken::new();
        let handles: Vec<_> = (0..BATCH)
            .map(|_| {
                SpawnBuilder::new().token(token.clone()).spawn_on(
                    async {
                        let cause = cancel::draining().await;
                        (cause, cancel::is_cancelled())
                    },
                    rt.handle(),
                )
            })
            .collect();
        let t = token.clone();
        let drainer = std::thread::spawn(move || t.drain(Cause::shutdown()));
        assert!(drainer.join().unwrap());
        for h in handles {
            let (cause, cancelled) = rt.block_on(h).unwrap();
            assert!(cause.same(&token.drain_cause().unwrap()));
            assert!(!cancelled, "a drain is not a cancel");
        }
    }
}

/// Three threads per round: a drain and a cancel of the root race a new
/// grandchild. Every node ends draining and cancelled with one drain cause.
#[test]
fn drain_racing_cancel_racing_a_child() {
    let _dog = watchdog("drain vs cancel vs child");
    let rounds = rounds() * 50;
    let barrier = Arc::new(Barrier::new(3));
    let (to_drainer, drainer_rx) = std::sync::mpsc::channel::<(CancelToken, Cause)>();
    let (to_canceller, canceller_rx) = std::sync::mpsc::channel::<(CancelToken, Cause)>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<bool>();
    let b = barrier.clone();
    let done = done_tx.clone();
    let drainer = std::thread::spawn(move || {
        for (t, c) in drainer_rx {
            b.wait();
            done.send(t.drain(c)).unwrap();
        }
    });
    let b = barrier.clone();
    let canceller = std::thread::spawn(move || {
        for (t, c) in canceller_rx {
            b.wait();
            t.cancel(c);
            done_tx.send(true).unwrap();
        }
    });
    for _ in 0..rounds {
        let root = CancelToken::new();
        let mid = root.child();
        let (d, c) = (Cause::explicit("drain"), Cause::explicit("cancel"));
        to_drainer.send((root.clone(), d.clone())).unwrap();
        to_canceller.send((root.clone(), c.clone())).unwrap();
        barrier.wait();
        let child = mid.child();
        // The drainer reports whether its drain won; the canceller `true`.
        // (`&`, not `&&`: both replies are received.)
        let drain_won = recv(&done_rx) & recv(&done_rx);
        let winner = if drain_won { &d } else { &c };
        for t in [&root, &mid, &child] {
            assert!(t.is_draining() && t.is_cancelled());
            assert!(t.drain_cause().unwrap().same(winner), "one drain cause");
        }
    }
    drop((to_drainer, to_canceller));
    drainer.join().unwrap();
    canceller.join().unwrap();
}
