//! Instructions per ping-pong hop, quell against tokio, for callgrind
//! (docs/benchmarks.md, "Ping-pong hop in instructions"):
//!
//! ```sh
//! cargo build --release --example callgrind_hop
//! valgrind --tool=callgrind target/release/examples/callgrind_hop quell 1 12000
//! ```
//!
//! Arguments: `quell`, `quell-unbound` (cancel binding off, for its cost)
//! or `tokio`, the worker count, the round trips, and
//! optionally the number of pairs (default 1; the `ping_pong` row runs 4).
//! A pair of tasks passes a value back and forth through two single-slot
//! channels (`benches/common/slot.rs`, the channel of the `ping_pong` row,
//! the same for both runtimes, so only the schedulers differ): each hop is
//! a same-worker wake into the LIFO slot and the next poll. Two runs with
//! different round-trip counts give the per-hop count as the slope
//! (start-up and shutdown cancel out).

#[path = "../benches/common/slot.rs"]
// Only `Slot::{new, send, recv}` are used here.
#[allow(dead_code)]
mod slot;

use std::future::Future;
use std::pin::Pin;
use std::sync::{mpsc, Arc};

use slot::Slot;

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Spawns the pairs (from inside the runtime); the second task of each
/// signals `done` after `round_trips`.
async fn pairs(n: usize, round_trips: usize, spawn: fn(BoxFuture), done: mpsc::Sender<()>) {
    for _ in 0..n {
        pair(round_trips, spawn, done.clone());
    }
}

fn pair(round_trips: usize, spawn: fn(BoxFuture), done: mpsc::Sender<()>) {
    let ping = Arc::new(Slot::<usize>::new());
    let pong = Arc::new(Slot::<usize>::new());
    let (ping2, pong2) = (ping.clone(), pong.clone());
    spawn(Box::pin(async move {
        for _ in 0..round_trips {
            let v = ping2.recv().await;
            pong2.send(v + 1);
        }
    }));
    spawn(Box::pin(async move {
        for i in 0..round_trips {
            ping.send(i);
            let v = pong.recv().await;
            assert_eq!(v, i + 1, "ping-pong: wrong value");
        }
        let _ = done.send(());
    }));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: callgrind_hop <quell|quell-unbound|tokio> <workers> <round_trips> [pairs]";
    let (Some(rt), Some(workers), Some(round_trips)) = (
        args.get(1),
        args.get(2).and_then(|s| s.parse().ok()),
        args.get(3).and_then(|s| s.parse().ok()),
    ) else {
        panic!("{usage}");
    };
    let n: usize = args.get(4).map_or(1, |s| s.parse().expect("pairs"));
    let (tx, rx) = mpsc::channel();
    match rt.as_str() {
        "quell" | "quell-unbound" => {
            let rt = quell::runtime::Builder::new()
                .worker_threads(workers)
                .cancel_binding(rt == "quell")
                .build()
                .expect("build quell runtime");
            drop(rt.spawn(pairs(n, round_trips, |f| drop(quell::spawn(f)), tx)));
            for _ in 0..n {
                rx.recv().expect("ping-pong did not complete");
            }
        }
        "tokio" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .build()
                .expect("build tokio runtime");
            drop(rt.spawn(pairs(n, round_trips, |f| drop(tokio::spawn(f)), tx)));
            for _ in 0..n {
                rx.recv().expect("ping-pong did not complete");
            }
        }
        _ => panic!("{usage}"),
    }
}
