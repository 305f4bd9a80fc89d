//! Instructions and fences per spawned task, for callgrind
//! (docs/benchmarks.md, "Asymmetric barrier"): the shape of the
//! `spawn_many_local` row (a task spawns `n` tasks, each counts down and
//! the last one signals the main thread).
//!
//! ```sh
//! cargo build --release --example callgrind_spawn
//! valgrind --tool=callgrind target/release/examples/callgrind_spawn quell 2 12000
//! ```
//!
//! Arguments: `quell` or `tokio`, the worker count, the number of tasks.
//! Two runs with different task counts give the per-spawn count as the
//! slope (start-up and shutdown cancel out).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

/// Spawns `n` tasks with `spawn`; the last to finish signals `done`.
async fn spawn_many(n: usize, spawn: fn(Box<dyn FnOnce() + Send>), done: mpsc::Sender<()>) {
    let left = Arc::new(AtomicUsize::new(n));
    for _ in 0..n {
        let (left, done) = (left.clone(), done.clone());
        spawn(Box::new(move || {
            // AcqRel: the last decrement sees every other task's.
            if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                let _ = done.send(());
            }
        }));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: callgrind_spawn <quell|tokio> <workers> <tasks>";
    let (Some(rt), Some(workers), Some(n)) = (
        args.get(1),
        args.get(2).and_then(|s| s.parse().ok()),
        args.get(3).and_then(|s| s.parse::<usize>().ok()),
    ) else {
        panic!("{usage}");
    };
    let (tx, rx) = mpsc::channel();
    match rt.as_str() {
        "quell" => {
            let rt = quell::runtime::Builder::new()
                .worker_threads(workers)
                .build()
                .expect("build quell runtime");
            drop(rt.spawn(spawn_many(
                n,
                |f| drop(quell::spawn(async move { f() })),
                tx,
            )));
            rx.recv().expect("spawn_many did not complete");
        }
        "tokio" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .build()
                .expect("build tokio runtime");
            drop(rt.spawn(spawn_many(
                n,
                |f| drop(tokio::spawn(async move { f() })),
                tx,
            )));
            rx.recv().expect("spawn_many did not complete");
        }
        _ => panic!("{usage}"),
    }
}
