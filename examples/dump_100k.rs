//! How long `Handle::dump()` takes with 100 000 parked tasks, and how long
//! it holds up a spawn meanwhile (a spawn takes the lock of one shard of
//! the task list, which the dump holds only while it takes refs of a
//! chunk of tasks).
//!
//! ```text
//! cargo run --release --example dump_100k
//! ```
//!
//! Prints the dump's time (fastest and median of 5) and the longest
//! spawn seen while dumps ran. Wall-clock figures: take them on a quiet
//! machine.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use quell::runtime::{Builder, TaskState};

const TASKS: usize = 100_000;

fn main() {
    let rt = Builder::new().worker_threads(2).build().unwrap();
    let h = rt.handle().clone();
    // Parked in different ways: sleeps, foreign futures, channel receives.
    let mut keep = Vec::new();
    let mut handles = Vec::with_capacity(TASKS);
    for i in 0..TASKS {
        handles.push(match i % 3 {
            0 => h.spawn(async {
                let _ = quell::time::sleep(Duration::from_secs(3600)).await;
            }),
            1 => h.spawn(std::future::pending::<()>()),
            _ => {
                let (tx, mut rx) = quell::sync::mpsc::channel::<()>(1);
                keep.push(tx);
                h.spawn(async move {
                    let _ = rx.recv().await;
                })
            }
        });
    }
    // Until every task has parked.
    loop {
        let d = h.dump();
        if d.tasks
            .iter()
            .filter(|t| t.state == TaskState::Parked)
            .count()
            == TASKS
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }

    // A thread that spawns (and lets go of) tasks all the while, timing each
    // spawn: the longest one bounds how long a dump held a shard's lock.
    let stop = Arc::new(AtomicBool::new(false));
    let prober = {
        let (h, stop) = (h.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut worst = Duration::ZERO;
            while !stop.load(SeqCst) {
                let t = Instant::now();
                drop(h.spawn(async {}));
                worst = worst.max(t.elapsed());
            }
            worst
        })
    };
    let mut took: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let d = h.dump();
            let el = t.elapsed();
            assert!(d.tasks.len() >= TASKS);
            el
        })
        .collect();
    stop.store(true, SeqCst);
    let worst_spawn = prober.join().unwrap();
    took.sort();
    println!(
        "dump of {TASKS} parked tasks: fastest {:?}, median {:?}; longest spawn during the dumps {:?}",
        took[0], took[2], worst_spawn
    );
    let text = h.dump().to_string();
    println!(
        "text form: {} bytes, {} lines",
        text.len(),
        text.lines().count()
    );
    drop(handles);
    drop(keep);
}
