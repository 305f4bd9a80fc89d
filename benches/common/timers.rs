//! Timer workloads, the same code for both runtimes.
//!
//! * **Churn** (insert + cancel): a task creates `sleep(10 s)`, polls it
//!   once with the task's own context (the timer is inserted in the wheel
//!   with the task's waker; the poll must return `Pending`) and drops it
//!   (the timer is removed), `n` times. It yields every [`CHUNK`] timers:
//!   both runtimes charge a timer poll to a cooperative budget of 128 per
//!   task poll, and a poll over budget returns `Pending` *without*
//!   inserting, which would measure nothing. The task times itself (from
//!   its first poll to its last), after an untimed warm-up of `n / 10`.
//! * **Overshoot**: a task sleeps 1 ms, `n` times, and records
//!   `elapsed − 1 ms` for each. Before each sleep it spins 0–999 µs
//!   (varied per sample) so the sleeps start at every phase of the
//!   runtimes' 1 ms timer tick, not locked to it.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::mpsc;
use std::task::Poll;
use std::time::{Duration, Instant};

use super::rt::{Quell, Rt, Tokio};
use super::scenarios::{Failed, TIMEOUT};

/// Timers created and dropped per task poll in the churn.
pub const CHUNK: usize = 32;
/// The sleep of the overshoot workload.
pub const OVERSHOOT_SLEEP: Duration = Duration::from_millis(1);

/// The timer operations the workloads need.
pub trait TimeRt: Rt {
    type Sleep: Future + Send + 'static;

    /// The runtime's `sleep(d)` (call on the runtime).
    fn sleep(d: Duration) -> Self::Sleep;

    /// Whether a sleep completed normally.
    fn sleep_ok(out: &<Self::Sleep as Future>::Output) -> bool;
}

impl TimeRt for Quell {
    type Sleep = quell::time::Sleep;

    fn sleep(d: Duration) -> Self::Sleep {
        quell::time::sleep(d)
    }

    fn sleep_ok(out: &Result<(), quell::cancel::Cancelled>) -> bool {
        out.is_ok()
    }
}

impl TimeRt for Tokio {
    type Sleep = tokio::time::Sleep;

    fn sleep(d: Duration) -> Self::Sleep {
        tokio::time::sleep(d)
    }

    fn sleep_ok(_: &()) -> bool {
        true
    }
}

/// `n` timers inserted and removed, in chunks of [`CHUNK`] per poll.
async fn churn_n<R: TimeRt>(n: usize) -> Result<(), String> {
    let mut left = n;
    while left > 0 {
        let k = left.min(CHUNK);
        poll_fn(|cx| {
            for _ in 0..k {
                let s = pin!(R::sleep(Duration::from_secs(10)));
                if s.poll(cx).is_ready() {
                    return Poll::Ready(Err("a 10 s sleep was ready".to_string()));
                }
            }
            Poll::Ready(Ok(()))
        })
        .await?;
        left -= k;
        R::yield_now().await;
    }
    Ok(())
}

/// Time (ns) to insert and cancel `n` timers, after a warm-up of `n / 10`.
pub fn churn<R: TimeRt>(rt: &R, n: usize) -> Result<f64, Failed> {
    let (tx, rx) = mpsc::channel();
    drop(rt.spawn_remote(async move {
        let r = async {
            churn_n::<R>(n / 10).await?;
            let t = Instant::now();
            churn_n::<R>(n).await?;
            Ok(t.elapsed().as_nanos() as f64)
        }
        .await;
        let _ = tx.send(r);
    }));
    rx.recv_timeout(TIMEOUT)
        .map_err(|e| Failed(format!("timer_churn: no result within {TIMEOUT:?} ({e})")))?
        .map_err(|e: String| Failed(format!("timer_churn: {e}")))
}

/// The pause before overshoot sample `i`: 0..=999 µs, spread
/// deterministically.
fn phase(i: usize) -> Duration {
    Duration::from_micros((i as u64 * 379) % 1000)
}

/// `n` samples of `sleep(1 ms)`'s overshoot (actual − requested).
pub fn overshoot<R: TimeRt>(rt: &R, n: usize) -> Result<Vec<Duration>, Failed> {
    let (tx, rx) = mpsc::channel();
    drop(rt.spawn_remote(async move {
        let r = async {
            let mut lat = Vec::with_capacity(n);
            for i in 0..n {
                let spin = Instant::now();
                while spin.elapsed() < phase(i) {
                    std::hint::spin_loop();
                }
                let t = Instant::now();
                let out = R::sleep(OVERSHOOT_SLEEP).await;
                let took = t.elapsed();
                if !R::sleep_ok(&out) {
                    return Err("sleep returned an error".to_string());
                }
                if took < OVERSHOOT_SLEEP {
                    return Err(format!("sleep(1 ms) returned after {took:?}"));
                }
                lat.push(took - OVERSHOOT_SLEEP);
            }
            Ok(lat)
        }
        .await;
        let _ = tx.send(r);
    }));
    rx.recv_timeout(TIMEOUT)
        .map_err(|e| {
            Failed(format!(
                "sleep_overshoot: no result within {TIMEOUT:?} ({e})"
            ))
        })?
        .map_err(|e| Failed(format!("sleep_overshoot: {e}")))
}
