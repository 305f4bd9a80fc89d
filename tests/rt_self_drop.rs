//! Contract C9 when the runtime is dropped from one of its own tasks.
//!
//! The dropping worker cannot join itself: it exits after the shutdown
//! drain has run. Tasks still in its local queue (ABORTED by shutdown, their
//! futures dropped, but each allocation still owned by the queue's ref) must
//! be released when it exits. A leaked task keeps the scheduler alive, and
//! with it the I/O driver and its file descriptors — which is what this test
//! observes (it runs alone in its own binary, so the descriptor count is
//! the runtime's).

mod support;

use std::future::pending;
use std::sync::mpsc;

use support::*;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn dropping_the_runtime_from_its_own_task_releases_its_local_queue() {
    const N: usize = 1000;
    let baseline = open_fds();
    for workers in [1, 2] {
        let _dog = watchdog("drop from own task");
        let name = format!("self-drop-{workers}");
        let rt = quell::runtime::Builder::new()
            .worker_threads(workers)
            .thread_name(name.clone())
            .build()
            .unwrap();
        assert!(open_fds() > baseline, "the runtime holds descriptors");
        let drops = DropCount::new();
        let d = drops.clone();
        let (done_tx, done_rx) = mpsc::channel();
        rt.handle().clone().spawn(async move {
            // Spawned from a worker: these go to its local queue, unpolled.
            for _ in 0..N {
                let tag = d.tag();
                quell::spawn(async move {
                    let _t = tag;
                    pending::<()>().await;
                });
            }
            drop(rt);
            done_tx.send(()).unwrap();
        });
        recv(&done_rx);
        // Every future was dropped by shutdown, and once the dropping worker
        // has exited nothing of the runtime is left: no thread, no
        // descriptor (each wait is bounded by HANG: a leak fails, slowly).
        wait_until(|| drops.get() == N);
        wait_until(|| threads_named(&name) == 0);
        wait_until(|| open_fds() == baseline);
    }
}
