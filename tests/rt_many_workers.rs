//! A runtime with the maximum number of workers (4096) builds, runs a task
//! and shuts down. A smoke test with a hang bound: start-up must be linear
//! in the worker count (it was quadratic: 17 s for 4096 workers).

mod support;

use support::*;

#[test]
fn a_runtime_with_4096_workers_builds_runs_and_shuts_down() {
    let _dog = watchdog("4096 workers");
    for n in [256, 1024, 4096] {
        let start = std::time::Instant::now();
        let rt = quell::runtime::Builder::new()
            .worker_threads(n)
            .build()
            .unwrap();
        let built = start.elapsed();
        assert_eq!(rt.block_on(rt.spawn(async { 6 * 7 })).unwrap(), 42);
        drop(rt);
        // Reported, not asserted (timing is the benchmarks' business).
        eprintln!(
            "{n} workers: built in {built:?}, total {:?}",
            start.elapsed()
        );
    }
}
