//! Instructions per spawn, cancel binding on against off, for callgrind
//! (docs/benchmarks.md, "The chain hop without a node per hop"):
//!
//! ```sh
//! cargo build --release --example callgrind_spawn
//! valgrind --tool=callgrind target/release/examples/callgrind_spawn bound chain 20
//! ```
//!
//! Arguments: `bound` or `unbound` (`cancel_binding(false)`), the shape,
//! the repetitions, and optionally the worker count (default 1). `chain`: the `chained_spawn` row, a task spawns a
//! task that spawns a task … 1 000 deep and ends; the last one signals.
//! `fanout`: the `spawn_many_local` row, one task spawns 10 000 tasks that
//! each count down; the last one signals. With one worker the count does
//! not depend on which worker ran what. Two runs with different repetition
//! counts give the per-task count as the slope (start-up and shutdown
//! cancel out).

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc};

/// The `chained_spawn` row's depth.
const DEPTH: usize = 1_000;
/// The `spawn_many_local` row's count.
const FAN_OUT: usize = 10_000;

fn chain(n: usize, done: mpsc::Sender<()>) {
    if n == 0 {
        let _ = done.send(());
    } else {
        drop(quell::spawn(async move { chain(n - 1, done) }));
    }
}

fn fan_out(done: mpsc::Sender<()>) {
    let rem = Arc::new(AtomicUsize::new(FAN_OUT));
    for _ in 0..FAN_OUT {
        let (rem, done) = (rem.clone(), done.clone());
        drop(quell::spawn(async move {
            if rem.fetch_sub(1, Relaxed) == 1 {
                let _ = done.send(());
            }
        }));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: callgrind_spawn <bound|unbound> <chain|fanout> <repetitions> [workers]";
    let (Some(binding), Some(shape), Some(reps)) = (
        args.get(1),
        args.get(2),
        args.get(3).and_then(|s| s.parse::<usize>().ok()),
    ) else {
        panic!("{usage}");
    };
    let bound = match binding.as_str() {
        "bound" => true,
        "unbound" => false,
        _ => panic!("{usage}"),
    };
    let shape: fn(mpsc::Sender<()>) = match shape.as_str() {
        "chain" => |done| chain(DEPTH, done),
        "fanout" => fan_out,
        _ => panic!("{usage}"),
    };
    let workers = args.get(4).map_or(1, |s| s.parse().expect("workers"));
    let rt = quell::runtime::Builder::new()
        .worker_threads(workers)
        .cancel_binding(bound)
        .build()
        .expect("build quell runtime");
    for _ in 0..reps {
        let (tx, rx) = mpsc::channel();
        drop(rt.spawn(async move { shape(tx) }));
        rx.recv().expect("the spawns did not complete");
    }
}
