//! Cancel racing park, a bounded million times in release: zero lost
//! (every cancelled task finishes). The loom models check the same race
//! exhaustively at small scale; this hammers the real thing.

mod support;

use std::future::pending;
use std::sync::{Arc, Barrier};

use quell::cancel::{CancelToken, CancellableExt, Cause};
use quell::task::SpawnBuilder;
use support::*;

const BATCH: usize = 1_000;

fn rounds() -> usize {
    // 1,000 × 1,000 = one million cancels in release; fewer in debug.
    if cfg!(debug_assertions) {
        20
    } else {
        1_000
    }
}

#[test]
fn cancel_racing_park_loses_nothing() {
    let _dog = watchdog("cancel stress");
    let rt = rt(2);
    let mut finished = 0usize;
    for round in 0..rounds() {
        // Half the batch is cancelled through JoinHandle::cancel, half
        // through a token (the binding path), from a plain thread racing
        // the tasks' first park.
        let token = CancelToken::new();
        let handles: Vec<_> = (0..BATCH)
            .map(|i| {
                let b = if i % 2 == 0 {
                    SpawnBuilder::new().token(token.clone())
                } else {
                    SpawnBuilder::new()
                };
                b.spawn_on(
                    async { pending::<()>().cancellable().await.is_err() },
                    rt.handle(),
                )
            })
            .collect();
        let barrier = Arc::new(Barrier::new(2));
        let b2 = barrier.clone();
        let abort_handles: Vec<_> = handles
            .iter()
            .skip(1)
            .step_by(2)
            .map(|h| h.abort_handle())
            .collect();
        let t = token.clone();
        let canceller = std::thread::spawn(move || {
            b2.wait();
            for (k, ah) in abort_handles.iter().enumerate() {
                ah.cancel(Cause::explicit("stress"));
                if k == abort_handles.len() / 2 {
                    t.cancel(Cause::explicit("stress token"));
                }
            }
        });
        barrier.wait();
        canceller.join().unwrap();
        for h in handles {
            assert!(
                rt.block_on(h).unwrap(),
                "round {round}: a wait returned without Cancelled"
            );
            finished += 1;
        }
    }
    assert_eq!(finished, rounds() * BATCH);
    // A joined task leaves the owned-task list just after its output is
    // published, so wait (bounded) rather than race that last step.
    wait_until(|| rt.handle().num_tasks() == 0);
}
