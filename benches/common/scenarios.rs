//! The workloads, generic over [`Rt`]. Each function runs the workload once
//! and returns when it completed; the caller times it. Completion is
//! signalled to the calling (non-runtime) thread through a std channel,
//! waited for with a timeout, so a hung runtime is reported, not waited on.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::probe::{self, Probe};
use super::rt::Rt;
use super::slot::Slot;

/// A workload that did not complete (timeout, wrong result).
#[derive(Debug, Clone)]
pub struct Failed(pub String);

/// Generous bound on one workload run: catches hangs, not slowness.
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub const SPAWN_MANY: usize = 10_000;
pub const YIELD_TASKS: usize = 200;
pub const YIELDS: usize = 200;
pub const PING_PONG_PAIRS: usize = 4;
pub const ROUND_TRIPS: usize = 1_000;
pub const CHAIN_DEPTH: usize = 1_000;
/// Work each side does in `busy_waker`.
pub const BUSY: Duration = Duration::from_micros(100);

fn wait_done(rx: &mpsc::Receiver<()>, what: &str) -> Result<(), Failed> {
    rx.recv_timeout(TIMEOUT)
        .map_err(|e| Failed(format!("{what}: no completion within {TIMEOUT:?} ({e})")))
}

/// `n` tasks each decrement the counter; the last one signals.
fn countdown(n: usize) -> (Arc<AtomicUsize>, mpsc::Sender<()>, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    (Arc::new(AtomicUsize::new(n)), tx, rx)
}

fn count_one(rem: &AtomicUsize, tx: &mpsc::Sender<()>) {
    if rem.fetch_sub(1, Relaxed) == 1 {
        let _ = tx.send(());
    }
}

/// A task spawns [`SPAWN_MANY`] tasks that each decrement a counter; the
/// last one signals completion.
pub fn spawn_many_local<R: Rt>(rt: &R) -> Result<(), Failed> {
    let (rem, tx, rx) = countdown(SPAWN_MANY);
    drop(rt.spawn_remote(async move {
        for _ in 0..SPAWN_MANY {
            let rem = rem.clone();
            let tx = tx.clone();
            drop(R::spawn(async move { count_one(&rem, &tx) }));
        }
    }));
    wait_done(&rx, "spawn_many_local")
}

/// [`SPAWN_MANY`] tasks spawned from outside the runtime.
pub fn spawn_many_remote<R: Rt>(rt: &R) -> Result<(), Failed> {
    let (rem, tx, rx) = countdown(SPAWN_MANY);
    for _ in 0..SPAWN_MANY {
        let rem = rem.clone();
        let tx = tx.clone();
        drop(rt.spawn_remote(async move { count_one(&rem, &tx) }));
    }
    wait_done(&rx, "spawn_many_remote")
}

/// [`YIELD_TASKS`] tasks, spawned from a task, each `yield_now()`
/// [`YIELDS`] times.
pub fn yield_many<R: Rt>(rt: &R) -> Result<(), Failed> {
    let (rem, tx, rx) = countdown(YIELD_TASKS);
    drop(rt.spawn_remote(async move {
        for _ in 0..YIELD_TASKS {
            let rem = rem.clone();
            let tx = tx.clone();
            drop(R::spawn(async move {
                for _ in 0..YIELDS {
                    R::yield_now().await;
                }
                count_one(&rem, &tx);
            }));
        }
    }));
    wait_done(&rx, "yield_many")
}

/// [`PING_PONG_PAIRS`] pairs of tasks; in each, a value makes
/// [`ROUND_TRIPS`] round trips through two [`Slot`]s.
pub fn ping_pong<R: Rt>(rt: &R) -> Result<(), Failed> {
    let (rem, tx, rx) = countdown(PING_PONG_PAIRS);
    drop(rt.spawn_remote(async move {
        for _ in 0..PING_PONG_PAIRS {
            let ping = Arc::new(Slot::<usize>::new());
            let pong = Arc::new(Slot::<usize>::new());
            let (ping2, pong2) = (ping.clone(), pong.clone());
            drop(R::spawn(async move {
                for _ in 0..ROUND_TRIPS {
                    let v = ping2.recv().await;
                    pong2.send(v + 1);
                }
            }));
            let rem = rem.clone();
            let tx = tx.clone();
            drop(R::spawn(async move {
                for i in 0..ROUND_TRIPS {
                    ping.send(i);
                    let v = pong.recv().await;
                    assert_eq!(v, i + 1, "ping_pong: wrong value");
                }
                count_one(&rem, &tx);
            }));
        }
    }));
    wait_done(&rx, "ping_pong")
}

fn spin_for(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Busy waker (DESIGN.md: "the LIFO slot must not strand work"): task W
/// wakes task T, which lands in W's worker's LIFO slot, then keeps that
/// worker busy for [`BUSY`]; T has [`BUSY`] of work too. If T runs on the
/// idle worker, a run takes about `BUSY` plus one wake; if T waits in the
/// LIFO slot until W's poll ends, about `2 × BUSY`.
pub fn busy_waker<R: Rt>(rt: &R) -> Result<(), Failed> {
    let (rem, tx, rx) = countdown(2);
    drop(rt.spawn_remote(async move {
        let slot = Arc::new(Slot::<()>::new());
        let parked = Arc::new(AtomicUsize::new(0));
        let (s2, p2, rem2, tx2) = (slot.clone(), parked.clone(), rem.clone(), tx.clone());
        drop(R::spawn(async move {
            p2.store(1, Relaxed);
            s2.recv().await;
            spin_for(BUSY);
            count_one(&rem2, &tx2);
        }));
        // Let T run and park on the slot before waking it.
        while parked.load(Relaxed) == 0 {
            R::yield_now().await;
        }
        R::yield_now().await;
        slot.send(());
        spin_for(BUSY);
        count_one(&rem, &tx);
    }));
    wait_done(&rx, "busy_waker")
}

fn chain<R: Rt>(n: usize, done: mpsc::Sender<()>) {
    if n == 0 {
        let _ = done.send(());
    } else {
        drop(R::spawn(async move { chain::<R>(n - 1, done) }));
    }
}

/// A task spawns a task that spawns a task … [`CHAIN_DEPTH`] deep; the
/// last one signals.
pub fn chained_spawn<R: Rt>(rt: &R) -> Result<(), Failed> {
    let (tx, rx) = mpsc::channel();
    drop(rt.spawn_remote(async move { chain::<R>(CHAIN_DEPTH, tx) }));
    wait_done(&rx, "chained_spawn")
}

/// The machine's floor for [`wake_latency`]: the same samples and pauses,
/// with no runtime. A plain thread parks (`std::thread::park`, a futex
/// wait); the bench thread takes `t0` and unparks it (a futex wake), then
/// waits in 20 µs sleeps as the probe's does; the parked thread takes `t1`
/// when it runs. A wake through a runtime that parks its workers in the
/// kernel cannot be faster than this one syscall pair.
pub fn futex_floor(samples: usize) -> Result<Vec<Duration>, Failed> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let base = Instant::now();
    // The sample to take (0: none yet, `u64::MAX`: stop) and its `t1`.
    let gen = Arc::new(AtomicU64::new(0));
    let t1 = Arc::new(AtomicU64::new(0));
    let (g, t) = (gen.clone(), t1.clone());
    let parked = std::thread::spawn(move || {
        let mut seen = 0;
        loop {
            std::thread::park();
            // Acquire: pairs with the bench thread's Release store of the
            // sample number (its `t0` was taken before it).
            let now = g.load(Ordering::Acquire);
            if now == u64::MAX {
                return;
            }
            if now != seen {
                seen = now;
                // Release: pairs with the bench thread's Acquire load.
                t.store(base.elapsed().as_nanos() as u64 + 1, Ordering::Release);
            }
        }
    });
    let mut lat = Vec::with_capacity(samples);
    for i in 1..=samples as u64 {
        std::thread::sleep(probe::pause(i));
        t1.store(0, Ordering::Relaxed);
        let t0 = base.elapsed().as_nanos() as u64 + 1;
        // Release: pairs with the parked thread's Acquire load.
        gen.store(i, Ordering::Release);
        parked.thread().unpark();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            // Acquire: pairs with the parked thread's Release store.
            let t = t1.load(Ordering::Acquire);
            if t != 0 {
                lat.push(Duration::from_nanos(t.saturating_sub(t0)));
                break;
            }
            if Instant::now() > deadline {
                gen.store(u64::MAX, Ordering::Release);
                parked.thread().unpark();
                return Err(Failed(format!("futex floor: sample {i} not taken")));
            }
            // As the probe's waker thread waits (`Probe::wait_armed`): it
            // leaves its CPU, which moves the figure (a spinning waker
            // keeps the woken thread off its CPU: 5.2–5.9 µs here, against
            // 7.7 µs sleeping).
            std::thread::sleep(Duration::from_micros(20));
        }
    }
    gen.store(u64::MAX, Ordering::Release);
    parked.thread().unpark();
    parked
        .join()
        .map_err(|_| Failed("futex floor: the parked thread panicked".into()))?;
    Ok(lat)
}

/// Wake latency of a parked task, `samples` times: this (plain) thread
/// wakes a task parked on a [`Probe`] after a 200–500 µs pause (the workers
/// park meanwhile); the task measures from `t0` to its poll. See
/// `probe.rs` for the protocol.
pub fn wake_latency<R: Rt>(rt: &R, samples: usize) -> Result<Vec<Duration>, Failed> {
    let probe = Arc::new(Probe::new());
    let (tx, rx) = mpsc::channel();
    let p = probe.clone();
    drop(rt.spawn_remote(async move {
        let mut lat = Vec::with_capacity(samples);
        for gen in 1..=samples as u64 {
            lat.push(p.wait(gen).await);
        }
        let _ = tx.send(lat);
    }));
    for gen in 1..=samples as u64 {
        if !probe.wait_armed(gen, Instant::now() + TIMEOUT) {
            return Err(Failed(format!(
                "wake_latency: task did not park for sample {gen} within {TIMEOUT:?}"
            )));
        }
        std::thread::sleep(probe::pause(gen));
        probe.fire(gen);
    }
    rx.recv_timeout(TIMEOUT)
        .map_err(|e| Failed(format!("wake_latency: no result within {TIMEOUT:?} ({e})")))
}
