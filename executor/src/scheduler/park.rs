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

#[cfg(loom)]
pub(crate) use loom_driver::{IoDriver, IoUnpark};
/// The I/O driver a worker parks in: quell-io-driver's (epoll via mio, with
/// the next timer as the timeout) and the handle that interrupts its wait.
/// Under loom, a stand-in (`loom_driver`): mio is invisible to loom.
#[cfg(not(loom))]
pub(crate) use quell_io_driver::rt_internal::{Driver as IoDriver, Handle as IoUnpark};

/// The driver shared by all workers of a runtime (one parks in it at a time).
pub(crate) struct SharedDriver {
    driver: Mutex<Option<IoDriver>>,
    unpark: Option<IoUnpark>,
}

impl SharedDriver {
    /// `None`: no driver (loom models of thread parking only); every runtime
    /// has one.
    pub(crate) fn new(driver: Option<(IoDriver, IoUnpark)>) -> SharedDriver {
        let (driver, unpark) = driver.unzip();
        SharedDriver {
            driver: Mutex::new(driver),
            unpark,
        }
    }
}

impl SharedDriver {
    /// Wakes `waker` once at `deadline` from the driver's timer wheel;
    /// `Err` with the waker when there is no driver (or its timer shut
    /// down).
    pub(crate) fn wake_at(
        &self,
        deadline: std::time::Instant,
        waker: std::task::Waker,
    ) -> Result<(), std::task::Waker> {
        match &self.unpark {
            Some(u) => u.wake_at(deadline, waker),
            None => Err(waker),
        }
    }

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
                    // Must make the current or next `park` return, even if
                    // that park has not started yet (both drivers do).
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

/// The loom stand-in for the I/O driver: parks on a loom condvar until
/// unparked; an unpark before the park is remembered, as the real driver's
/// mio waker does. A non-blocking turn (`Some(ZERO)`) dispatches nothing.
#[cfg(loom)]
mod loom_driver {
    use std::time::Duration;

    use loom::sync::Condvar;

    use crate::loom::{Arc, Mutex};

    /// The parking side.
    pub(crate) struct IoDriver(Arc<(Mutex<bool>, Condvar)>);

    /// The unparking side.
    pub(crate) struct IoUnpark(Arc<(Mutex<bool>, Condvar)>);

    /// A connected driver and unparker.
    pub(crate) fn pair() -> (IoDriver, IoUnpark) {
        let shared = Arc::new((Mutex::new(false), Condvar::new()));
        (IoDriver(shared.clone()), IoUnpark(shared))
    }

    impl IoDriver {
        pub(crate) fn park(&mut self, timeout: Option<Duration>) {
            if timeout == Some(Duration::ZERO) {
                return;
            }
            let (lock, cv) = &*self.0;
            let mut unparked = lock.lock().unwrap();
            while !*unparked {
                unparked = cv.wait(unparked).unwrap();
            }
            *unparked = false;
        }
    }

    impl IoUnpark {
        pub(crate) fn unpark(&self) {
            let (lock, cv) = &*self.0;
            *lock.lock().unwrap() = true;
            cv.notify_one();
        }

        /// No timer wheel in the stand-in: the waker is handed back.
        pub(crate) fn wake_at(
            &self,
            deadline: std::time::Instant,
            waker: std::task::Waker,
        ) -> Result<(), std::task::Waker> {
            let _ = deadline;
            Err(waker)
        }

        pub(crate) fn has_sources(&self) -> bool {
            true
        }
    }
}

#[cfg(loom)]
pub(crate) use loom_driver::pair as loom_driver_pair;
