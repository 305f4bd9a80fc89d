//! `cancel_with_grace` arms the task's runtime's timer wheel: 5000 calls,
//! from outside the runtime and from inside it, start no thread, and every
//! task that ignores the cancel is aborted (its future dropped) after the
//! grace. One test per binary: the thread count must not see other tests.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use quell::cancel::{shield, Cause};
use quell::time;
use support::*;

const N: usize = 5000;

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Spawns `N` tasks that ignore cancellation (a shielded hour-long sleep)
/// and waits until every one is parked in it.
fn stubborn(rt: &quell::Runtime, drops: &DropCount) -> Vec<quell::JoinHandle<()>> {
    let (tx, rx) = mpsc::channel();
    let hs: Vec<_> = (0..N)
        .map(|_| {
            let tag = drops.tag();
            let tx = tx.clone();
            rt.spawn(async move {
                let _tag = tag;
                tx.send(()).unwrap();
                let _ = shield(time::sleep(Duration::from_secs(3600))).await;
            })
        })
        .collect();
    for _ in 0..N {
        recv(&rx);
    }
    hs
}

#[test]
fn five_thousand_graces_start_no_thread_and_every_task_is_aborted() {
    let rt = rt(2);
    let _dog = watchdog("grace threads");
    rt.block_on(async {}); // the runtime's own threads are up
    let before = threads();

    // Outside the runtime: from the thread that owns it.
    let drops = DropCount::new();
    let hs = stubborn(&rt, &drops);
    for h in &hs {
        h.cancel_with_grace(Cause::explicit("stop"), Duration::from_millis(20));
    }
    assert_eq!(threads(), before, "a grace started a thread");
    for h in hs {
        assert!(rt.block_on(h).unwrap_err().is_aborted());
    }
    assert_eq!(drops.get(), N);

    // Inside: from a task of the runtime.
    let drops = DropCount::new();
    let hs = stubborn(&rt, &drops);
    let hs = rt
        .block_on(rt.spawn(async move {
            for h in &hs {
                h.cancel_with_grace(Cause::explicit("stop"), Duration::from_millis(20));
            }
            hs
        }))
        .unwrap();
    assert_eq!(threads(), before, "a grace started a thread");
    for h in hs {
        assert!(rt.block_on(h).unwrap_err().is_aborted());
    }
    assert_eq!(drops.get(), N);
    wait_until(|| rt.handle().num_tasks() == 0);
}
