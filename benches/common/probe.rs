//! A runtime-agnostic wake probe: how long from "a plain thread wakes a
//! parked task" to "that task is polled and sees the flag".
//!
//! Protocol, for generation `g` = 1, 2, …:
//!
//! 1. The task polls `wait(g)`: the flag is not yet at `g`, so it stores
//!    its waker (under the mutex) and then publishes `armed = g`.
//! 2. The waking thread waits for `armed >= g` (so the waker is stored),
//!    sleeps 200–500 µs so the workers run out of work and park, then
//!    records `t0`, publishes `fired = g` and wakes the stored waker.
//! 3. The task is polled: the first thing `wait` does is read the clock
//!    (`t1`); it sees `fired >= g` and returns `t1 - t0`.
//!
//! No wake-up can be lost: the waking thread only takes the waker after it
//! saw `armed = g`, which the task publishes after storing that waker.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

pub struct Probe {
    base: Instant,
    /// Last generation fired; Release by the waker thread, Acquire by the
    /// task, so the task also sees the `t0` stored before it.
    fired: AtomicU64,
    /// Last generation the task is waiting for (its waker is stored).
    armed: AtomicU64,
    /// `t0` of the last fired generation, in ns since `base`.
    t0: AtomicU64,
    waker: Mutex<Option<Waker>>,
}

impl Default for Probe {
    fn default() -> Self {
        Probe::new()
    }
}

impl Probe {
    pub fn new() -> Probe {
        Probe {
            base: Instant::now(),
            fired: AtomicU64::new(0),
            armed: AtomicU64::new(0),
            t0: AtomicU64::new(0),
            waker: Mutex::new(None),
        }
    }

    /// Task side: waits for generation `gen`; yields the wake latency.
    pub fn wait(&self, gen: u64) -> Wait<'_> {
        Wait { probe: self, gen }
    }

    /// Waker side: waits (sleeping in 20 µs steps) until the task waits
    /// for `gen`. False if `deadline` passed first.
    pub fn wait_armed(&self, gen: u64, deadline: Instant) -> bool {
        // Acquire pairs with the Release store of `armed` in `Wait::poll`:
        // the waker stored before it is then visible under the mutex.
        while self.armed.load(Ordering::Acquire) < gen {
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_micros(20));
        }
        true
    }

    /// Waker side: records `t0`, fires `gen` and wakes the task.
    pub fn fire(&self, gen: u64) {
        let t0 = self.base.elapsed().as_nanos() as u64;
        self.t0.store(t0, Ordering::Relaxed);
        // Release: the task's Acquire load of `fired` then sees `t0`.
        self.fired.store(gen, Ordering::Release);
        let w = self.waker.lock().unwrap().take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

pub struct Wait<'a> {
    probe: &'a Probe,
    gen: u64,
}

impl Future for Wait<'_> {
    type Output = Duration;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Duration> {
        let t1 = self.probe.base.elapsed().as_nanos() as u64;
        let p = self.probe;
        if p.fired.load(Ordering::Acquire) >= self.gen {
            let t0 = p.t0.load(Ordering::Relaxed);
            return Poll::Ready(Duration::from_nanos(t1.saturating_sub(t0)));
        }
        *p.waker.lock().unwrap() = Some(cx.waker().clone());
        // Release: pairs with the Acquire in `wait_armed` (waker is stored).
        p.armed.store(self.gen, Ordering::Release);
        Poll::Pending
    }
}

/// The pause before sample `i`: 200..=500 µs, spread deterministically.
pub fn pause(i: u64) -> Duration {
    Duration::from_micros(200 + (i * 37) % 301)
}
