//! The concurrency facade: `std` normally, `loom` under `cfg(loom)`.
//!
//! Code that loom must see imports atomics, locks, cells and threads from
//! here, never from `std` directly (CONVENTIONS.md, "Concurrency code").
//! Under loom, randomness and the CPU count are deterministic.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::{atomic, Arc, Condvar, Mutex, MutexGuard};
    pub(crate) use std::thread;

    /// `UnsafeCell` with loom's closure API, so the same code checks under loom.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(data: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(data))
        }
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    /// Number of CPUs, for the default worker count.
    pub(crate) fn num_cpus() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::{atomic, Arc, Condvar, Mutex, MutexGuard};
    pub(crate) use loom::thread;

    /// Deterministic under loom.
    pub(crate) fn num_cpus() -> usize {
        2
    }
}

pub(crate) use imp::*;

/// A small xorshift generator for victim selection (deterministic under loom:
/// the seed is fixed there, so loom explores schedules, not random choices).
#[derive(Debug)]
pub(crate) struct FastRand(u32);

impl FastRand {
    pub(crate) fn new(seed: u64) -> FastRand {
        #[cfg(loom)]
        let seed = {
            let _ = seed;
            1
        };
        FastRand((seed as u32) | 1)
    }
    pub(crate) fn next(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        ((x as u64 * n as u64) >> 32) as usize
    }
}

#[cfg(not(loom))]
pub(crate) use std::thread_local;

#[cfg(loom)]
pub(crate) use loom::thread_local;
