//! The cooperative budget (an always-ready task cannot monopolise a
//! worker) and the blocking pool (bounded; idle threads retire).

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use support::*;

#[test]
fn an_always_ready_task_yields_to_others_on_one_worker() {
    let _dog = watchdog("coop budget");
    let rt = rt(1);
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let spinner = rt.spawn(async move {
        // Every await here is always ready: without the budget this loop
        // would never return Pending and the other task would never run.
        let (tx, mut rx) = quell::sync::mpsc::channel::<u32>(1);
        let mut rounds = 0u64;
        while !s.load(SeqCst) {
            tx.send(1).await.unwrap();
            rx.recv().await.unwrap();
            rounds += 1;
        }
        rounds
    });
    let s = stop.clone();
    let stopper = rt.spawn(async move { s.store(true, SeqCst) });
    rt.block_on(stopper).unwrap();
    let rounds = rt.block_on(spinner).unwrap();
    assert!(rounds > 0);
}

#[test]
fn the_blocking_pool_is_bounded() {
    let _dog = watchdog("blocking bound");
    let rt = quell::runtime::Builder::new()
        .worker_threads(1)
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..8)
        .map(|_| {
            let (r, m) = (running.clone(), max.clone());
            rt.spawn_blocking(move || {
                let now = r.fetch_add(1, SeqCst) + 1;
                m.fetch_max(now, SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                r.fetch_sub(1, SeqCst);
            })
        })
        .collect();
    for h in hs {
        rt.block_on(h).unwrap();
    }
    assert!(
        max.load(SeqCst) <= 2,
        "at most 2 blocking threads ran at once"
    );
}

#[test]
fn idle_blocking_threads_retire() {
    let _dog = watchdog("blocking retire");
    let name = "retire-t";
    let rt = quell::runtime::Builder::new()
        .worker_threads(1)
        .thread_name(name)
        .blocking_keep_alive(Duration::from_millis(20))
        .build()
        .unwrap();
    let blocking_threads = || {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
            .filter(|c| c.trim_end().starts_with("retire-t-blocki"))
            .count()
    };
    let ran_on = rt
        .block_on(rt.spawn_blocking(|| std::thread::current().name().map(str::to_owned)))
        .unwrap();
    assert_eq!(ran_on.as_deref(), Some("retire-t-blocking-0"));
    // Nothing more to do: the thread retires after its keep-alive.
    wait_until(|| blocking_threads() == 0);
    // And the pool grows again on demand.
    assert_eq!(rt.block_on(rt.spawn_blocking(|| 5)).unwrap(), 5);
}
