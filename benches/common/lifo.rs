//! Task-to-task wakes, abort → join, and CPU use: the workloads behind the
//! scheduler rows of `compare` (rows in `sched_rows.rs`).
//!
//! # Task-to-task wake ([`wake_then`])
//!
//! Two long-lived tasks, A and B, and two [`Probe`]s (`kick`, `b`). For
//! generation `g` = 1, 2, …:
//!
//! 1. B waits on `b.wait(g)` (its waker stored, `armed = g`); A waits on
//!    `kick.wait(g)`;
//! 2. the bench thread waits until both are armed, sleeps 200–500 µs (the
//!    workers run out of work and park), and fires `kick` (an external
//!    wake: one worker wakes and polls A);
//! 3. A fires `b` (records `t0`, wakes B: B goes to A's worker's LIFO
//!    slot), then either parks at once (`busy = 0`: the task-to-task row)
//!    or spins `busy` first (the busy-waker row), then waits for `g + 1`;
//! 4. B is polled — on A's worker after A's poll, or by the other worker
//!    if it takes B — and `b.wait(g)` returns `t1 − t0`.
//!
//! Same code for both runtimes (the probe is runtime-agnostic), so only
//! the schedulers differ.
//!
//! # Abort → join observed ([`quell_abort_join`], [`tokio_abort_join`])
//!
//! One sample = a fresh victim task parked forever (`pending()`) and a
//! watcher task parked on the victim's `JoinHandle`; once both are parked
//! (see `cancel_lat::samples`) the bench thread sleeps 200–500 µs, takes
//! `t0` and calls `AbortHandle::abort()`; the watcher takes `t1` when the
//! join resolves as aborted (quell `is_aborted()`, tokio `is_cancelled()`).
//!
//! # CPU use ([`cpu_use`])
//!
//! `getrusage(RUSAGE_SELF)` user + system time over a fixed wall window,
//! as CPU-seconds per wall-second, while the runtime runs nothing
//! (`Load::Idle`: must be 0) or one task that spins for the whole window
//! (`Load::OneBusy`: one worker busy, the other idle; ≈ 1.0 unless the
//! idle worker burns CPU).

use std::future::pending;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::cancel_lat::{armed, samples};
use super::probe::{self, Probe};
use super::rt::{Quell, Rt, Tokio};
use super::scenarios::{Failed, TIMEOUT};

fn spin_for(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// The task-to-task wake loop (module docs): `samples` latencies of B.
pub fn wake_then<R: Rt>(rt: &R, samples: usize, busy: Duration) -> Result<Vec<Duration>, Failed> {
    let kick = Arc::new(Probe::new());
    let b = Arc::new(Probe::new());
    let (tx, rx) = mpsc::channel();
    let bp = b.clone();
    drop(rt.spawn_remote(async move {
        let mut lat = Vec::with_capacity(samples);
        for gen in 1..=samples as u64 {
            lat.push(bp.wait(gen).await);
        }
        let _ = tx.send(lat);
    }));
    let (kp, bp) = (kick.clone(), b.clone());
    drop(rt.spawn_remote(async move {
        for gen in 1..=samples as u64 {
            let _ = kp.wait(gen).await;
            bp.fire(gen);
            if !busy.is_zero() {
                spin_for(busy);
            }
        }
    }));
    for gen in 1..=samples as u64 {
        let deadline = Instant::now() + TIMEOUT;
        if !b.wait_armed(gen, deadline) || !kick.wait_armed(gen, deadline) {
            return Err(Failed(format!(
                "wake_then: tasks did not park for sample {gen} within {TIMEOUT:?}"
            )));
        }
        std::thread::sleep(probe::pause(gen));
        kick.fire(gen);
    }
    rx.recv_timeout(TIMEOUT)
        .map_err(|e| Failed(format!("wake_then: no result within {TIMEOUT:?} ({e})")))
}

/// quell: abort a parked task from the bench thread; until a watcher task
/// sees the aborted join.
pub fn quell_abort_join(rt: &Quell, n: usize) -> Result<Vec<Duration>, Failed> {
    samples(
        "abort_join quell",
        n,
        |armed_tx, done| {
            let victim = rt.0.spawn(armed(pending::<()>(), armed_tx.clone()));
            let abort = victim.abort_handle();
            drop(rt.0.spawn(async move {
                let r = armed(victim, armed_tx).await;
                let t1 = Instant::now();
                let _ = done.send(match r {
                    Err(e) if e.is_aborted() => Ok(t1),
                    other => Err(format!("join resolved with {other:?}, not aborted")),
                });
            }));
            Ok((abort, 2))
        },
        |a: &mut quell::task::AbortHandle| a.abort(),
    )
}

/// tokio: the same with tokio's `AbortHandle`.
pub fn tokio_abort_join(rt: &Tokio, n: usize) -> Result<Vec<Duration>, Failed> {
    samples(
        "abort_join tokio",
        n,
        |armed_tx, done| {
            let victim = rt.0.spawn(armed(pending::<()>(), armed_tx.clone()));
            let abort = victim.abort_handle();
            drop(rt.0.spawn(async move {
                let r = armed(victim, armed_tx).await;
                let t1 = Instant::now();
                let _ = done.send(match r {
                    Err(e) if e.is_cancelled() => Ok(t1),
                    other => Err(format!("join resolved with {other:?}, not cancelled")),
                });
            }));
            Ok((abort, 2))
        },
        |a: &mut tokio::task::AbortHandle| a.abort(),
    )
}

/// What runs during a CPU-use window.
#[derive(Clone, Copy, Debug)]
pub enum Load {
    /// Nothing: every worker should be parked.
    Idle,
    /// One task spinning in one poll for the whole window.
    OneBusy,
}

/// Process CPU time (user + system) so far.
fn cpu_time() -> Duration {
    // SAFETY: `getrusage` writes a `rusage` into the zeroed struct we own.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU-seconds per wall-second of the whole process over `window`, with
/// `load` running on `rt` (module docs). The bench thread sleeps meanwhile.
pub fn cpu_use<R: Rt>(rt: &R, load: Load, window: Duration) -> Result<f64, Failed> {
    let stop = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    if let Load::OneBusy = load {
        let stop = stop.clone();
        drop(rt.spawn_remote(async move {
            let _ = started_tx.send(());
            // Relaxed: a stop flag; nothing else is published through it.
            while !stop.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
            let _ = done_tx.send(());
        }));
        started_rx
            .recv_timeout(TIMEOUT)
            .map_err(|e| Failed(format!("cpu_use: busy task did not start ({e})")))?;
    }
    // Let the other worker run out of work and park.
    std::thread::sleep(Duration::from_millis(5));
    let (c0, t0) = (cpu_time(), Instant::now());
    std::thread::sleep(window);
    let (c1, t1) = (cpu_time(), Instant::now());
    stop.store(true, Ordering::Relaxed);
    if let Load::OneBusy = load {
        done_rx
            .recv_timeout(TIMEOUT)
            .map_err(|e| Failed(format!("cpu_use: busy task did not stop ({e})")))?;
    }
    Ok((c1 - c0).as_secs_f64() / (t1 - t0).as_secs_f64())
}
