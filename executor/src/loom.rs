//! The concurrency facade: `std` normally, `loom` under `cfg(loom)`.
//!
//! Code that loom must see imports atomics, locks, cells and threads from
//! here, never from `std` directly (CONVENTIONS.md, "Concurrency code").
//! Under loom, randomness and the CPU count are deterministic.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::{atomic, Arc, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard};
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
        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
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
    pub(crate) use loom::sync::{atomic, Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
    pub(crate) use loom::thread;

    /// Deterministic under loom.
    pub(crate) fn num_cpus() -> usize {
        2
    }

    /// loom has no `OnceLock`, and `std`'s is invisible to it (a value
    /// published through it would look unsynchronised). This stand-in
    /// publishes a boxed value with a loom `AtomicPtr`: the same
    /// Release/Acquire edge as `std`'s, which loom can see.
    pub(crate) struct OnceLock<T> {
        ptr: atomic::AtomicPtr<T>,
    }

    impl<T> OnceLock<T> {
        pub(crate) fn new() -> OnceLock<T> {
            OnceLock {
                ptr: atomic::AtomicPtr::new(std::ptr::null_mut()),
            }
        }

        pub(crate) fn get(&self) -> Option<&T> {
            // Acquire pairs with the AcqRel CAS in `set`: the value is
            // fully written before we dereference it.
            let p = self.ptr.load(atomic::Ordering::Acquire);
            // SAFETY: non-null only once `set` stored a leaked Box, which
            // is freed only by `drop` (`&mut self`, so no `&T` is alive).
            unsafe { p.as_ref() }
        }

        pub(crate) fn set(&self, value: T) -> Result<(), T> {
            let p = Box::into_raw(Box::new(value));
            // AcqRel: Release publishes the value to `get`'s Acquire.
            match self.ptr.compare_exchange(
                std::ptr::null_mut(),
                p,
                atomic::Ordering::AcqRel,
                atomic::Ordering::Acquire,
            ) {
                Ok(_) => Ok(()),
                // SAFETY: `p` came from `Box::into_raw` above and was not
                // published.
                Err(_) => Err(*unsafe { Box::from_raw(p) }),
            }
        }
    }

    impl<T> Drop for OnceLock<T> {
        fn drop(&mut self) {
            let p = self.ptr.with_mut(|p| *p);
            if !p.is_null() {
                // SAFETY: a non-null pointer is the Box leaked by `set`;
                // `&mut self` means no reference from `get` is alive.
                drop(unsafe { Box::from_raw(p) });
            }
        }
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
