//! Parking a worker thread: on its own thread parker, or in the I/O driver.
//!
//! Each worker has a [`Parker`]; others hold its [`Unparker`]. Only one
//! worker at a time can park *in the driver* (it holds the driver's
//! try-lock); the rest park on their thread. An unpark reads who is where:
//!
//! ```text
//! state: EMPTY ──park──▶ PARKED_THREAD ──unpark──▶ NOTIFIED (thread unpark)
//!          │   ──park──▶ PARKED_DRIVER ──unpark──▶ NOTIFIED (driver unpark)
//!          └─────────────unpark (no one parked)───▶ NOTIFIED (next park returns at once)
//! ```
//!
//! The thread parker is `std::thread::park` (a futex on Linux: one syscall
//! to wake), which loom models natively, so no stand-in is needed here.
//! Spurious wakeups are absorbed by looping until the state says NOTIFIED.

use std::time::Duration;

use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::thread::{self, Thread};
use crate::loom::{Arc, Mutex};

const EMPTY: usize = 0;
const PARKED_THREAD: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// What the executor needs of an I/O driver to park a worker in it.
///
/// Implemented by the I/O driver (epoll via mio, with the next timer as
/// the timeout). `park` must return when [`DriverUnpark::unpark`] is
/// called, even if that call happened before `park` started.
pub trait Driver: Send + 'static {
    /// Blocks until events arrive, the driver is unparked, or `timeout`
    /// elapses; dispatches the events (wakes the tasks waiting on them).
    fn park(&mut self, timeout: Option<Duration>);
}

/// Interrupts a [`Driver::park`] from another thread.
pub trait DriverUnpark: Send + Sync + 'static {
    /// Makes the current or next `park` return.
    fn unpark(&self);

    /// A cheap hint: could a non-blocking turn find I/O events? (False when
    /// no source is registered.) Workers skip the turn before searching
    /// when it says no.
    fn has_sources(&self) -> bool {
        true
    }
}

/// The driver shared by all workers of a runtime (one parks in it at a time).
pub(crate) struct SharedDriver {
    driver: Mutex<Option<Box<dyn Driver>>>,
    unpark: Option<Arc<dyn DriverUnpark>>,
}

impl SharedDriver {
    pub(crate) fn new(driver: Option<(Box<dyn Driver>, Arc<dyn DriverUnpark>)>) -> SharedDriver {
        match driver {
            Some((d, u)) => SharedDriver {
                driver: Mutex::new(Some(d)),
                unpark: Some(u),
            },
            None => SharedDriver {
                driver: Mutex::new(None),
                unpark: None,
            },
        }
    }
}

impl SharedDriver {
    /// Whether a driver exists and may have I/O to dispatch.
    pub(crate) fn has_sources(&self) -> bool {
        self.unpark.as_ref().is_some_and(|u| u.has_sources())
    }

    /// A non-blocking turn of the driver (dispatch ready I/O and expired
    /// timers), if no other worker is using it. Returns whether it ran.
    pub(crate) fn try_turn(&self) -> bool {
        match self.driver.try_lock() {
            Ok(mut guard) => match guard.as_mut() {
                Some(d) => {
                    d.park(Some(Duration::ZERO));
                    true
                }
                None => false,
            },
            Err(_) => false,
        }
    }
}

struct Inner {
    state: AtomicUsize,
    thread: Thread,
    shared: Arc<SharedDriver>,
}

/// A worker's parker (owned by the worker thread).
pub(crate) struct Parker {
    inner: Arc<Inner>,
}

/// Wakes one worker's parker; cloneable, usable from any thread.
#[derive(Clone)]
pub(crate) struct Unparker {
    inner: Arc<Inner>,
}

impl Parker {
    /// Must be created on the thread that will park.
    pub(crate) fn new(shared: Arc<SharedDriver>) -> Parker {
        Parker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                thread: thread::current(),
                shared,
            }),
        }
    }

    pub(crate) fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.inner.clone(),
        }
    }

    /// Parks until unparked (or, in the driver, until I/O or `timeout`).
    pub(crate) fn park(&mut self, timeout: Option<Duration>) {
        let inner = &*self.inner;
        // Acquire pairs with the AcqRel swap in `unpark`: what the unparker
        // did before unparking (queue a task) is visible to us.
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, Acquire, Relaxed)
            .is_ok()
        {
            return;
        }
        if let Ok(mut guard) = inner.shared.driver.try_lock() {
            if let Some(driver) = guard.as_mut() {
                // AcqRel/Acquire: publish "in the driver" to the unparker,
                // and on failure (NOTIFIED) see its writes.
                match inner
                    .state
                    .compare_exchange(EMPTY, PARKED_DRIVER, AcqRel, Acquire)
                {
                    Ok(_) => {}
                    Err(NOTIFIED) => {
                        inner.state.store(EMPTY, Relaxed);
                        return;
                    }
                    Err(s) => unreachable!("parker state {s}"),
                }
                driver.park(timeout);
                // Acquire pairs with `unpark`'s swap (NOTIFIED) if it came.
                inner.state.swap(EMPTY, Acquire);
                return;
            }
        }
        self.park_thread(timeout);
    }

    fn park_thread(&self, timeout: Option<Duration>) {
        let inner = &*self.inner;
        // AcqRel: Release publishes PARKED_THREAD to the unparker's AcqRel
        // swap (it must then `thread.unpark()` us); on failure, Acquire sees
        // what the unparker wrote before its NOTIFIED (a queued task).
        match inner
            .state
            .compare_exchange(EMPTY, PARKED_THREAD, AcqRel, Acquire)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                inner.state.store(EMPTY, Relaxed);
                return;
            }
            Err(s) => unreachable!("parker state {s}"),
        }
        match timeout {
            None => loop {
                thread::park();
                // Acquire pairs with `unpark`'s AcqRel swap.
                if inner
                    .state
                    .compare_exchange(NOTIFIED, EMPTY, Acquire, Relaxed)
                    .is_ok()
                {
                    return;
                }
                // Spurious wakeup: park again.
            },
            Some(d) => {
                park_timeout(d);
                // Either way we are done; Acquire as above.
                inner.state.swap(EMPTY, Acquire);
            }
        }
    }
}

#[cfg(not(loom))]
fn park_timeout(d: Duration) {
    std::thread::park_timeout(d);
}

#[cfg(loom)]
fn park_timeout(_d: Duration) {
    // loom has no timeouts: treat as an immediate (spurious) return.
}

impl Unparker {
    pub(crate) fn unpark(&self) {
        let inner = &*self.inner;
        // AcqRel: Release publishes what we did before (queued a task) to
        // the parker's Acquire; Acquire reads where it parked.
        match inner.state.swap(NOTIFIED, AcqRel) {
            EMPTY | NOTIFIED => {}
            PARKED_THREAD => inner.thread.unpark(),
            PARKED_DRIVER => {
                if let Some(u) = &inner.shared.unpark {
                    u.unpark();
                }
            }
            s => unreachable!("parker state {s}"),
        }
    }

    /// Whether this worker is parked in the driver right now (a hint).
    pub(crate) fn is_in_driver(&self) -> bool {
        self.inner.state.load(Relaxed) == PARKED_DRIVER
    }
}
