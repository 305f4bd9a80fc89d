//! Timer churn: insert + cancel a million timers (release; fewer in debug)
//! through `Sleep` on the real runtime, from two tasks at once; the wheel
//! is empty afterwards. Prints the rate (a figure, not an assertion).

mod support;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use quell::time;
use support::*;

const TOTAL: u64 = if cfg!(debug_assertions) {
    100_000
} else {
    1_000_000
};

#[test]
fn insert_and_cancel_a_million_timers() {
    let _dog = watchdog("timer churn");
    let rt = rt(2);
    let io = rt.handle().io().clone();
    let start = Instant::now();
    let tasks: Vec<_> = (0..2u64)
        .map(|t| {
            let io = io.clone();
            rt.spawn(async move {
                for i in 0..TOTAL / 2 {
                    // Spread over every level: 1 ms .. ~17 min.
                    let d = Duration::from_millis(1 + ((i * 7919 + t) % 1_000_000));
                    if i % 64 == 0 {
                        // A fresh cooperative budget, so every poll inserts.
                        quell::task::yield_now().await;
                    }
                    let mut s = time::sleep(d);
                    poll_fn(|cx| {
                        assert!(Pin::new(&mut s).poll(cx).is_pending());
                        Poll::Ready(())
                    })
                    .await;
                    if i % 4096 == 0 {
                        assert!(io.num_timers() >= 1, "the poll armed the timer");
                    }
                    drop(s); // O(1) cancel
                }
            })
        })
        .collect();
    for h in tasks {
        rt.block_on(h).unwrap();
    }
    let took = start.elapsed();
    assert_eq!(io.num_timers(), 0, "churn left entries in the wheel");
    eprintln!(
        "timer churn: {TOTAL} insert+cancel in {took:?} = {:.2} M/s (2 tasks, 2 workers)",
        TOTAL as f64 / took.as_secs_f64() / 1e6
    );
}
