//! Time: a hierarchical timer wheel driven by the driver's poll timeout;
//! [`sleep`](fn@sleep), [`timeout`](fn@timeout),
//! [`interval`](fn@interval); and deadline scopes ([`with_timeout`],
//! [`with_deadline`]) on the cancel tree.
//!
//! # The wheel
//!
//! ```text
//!                 1 tick = 1 ms since the wheel's start; deadlines round UP
//! level 5  [ 0 | 1 | 2 | … | 63 ]   64 slots × 64⁵ ms (12.4 d)  ≈ 2.2 years, a ring
//! level 4  [ 0 | 1 | 2 | … | 63 ]   64 slots × 64⁴ ms (4.7 h)   ≈ 12.4 days
//! level 3  [ 0 | 1 | 2 | … | 63 ]   64 slots × 64³ ms (4.4 min) ≈ 4.7 h
//! level 2  [ 0 | 1 | 2 | … | 63 ]   64 slots × 64² ms (4.1 s)   ≈ 4.4 min
//! level 1  [ 0 | 1 | 2 | … | 63 ]   64 slots × 64 ms            ≈ 4.1 s
//! level 0  [ 0 | 1 | 2 | … | 63 ]   64 slots × 1 ms             =  64 ms
//!              │
//!              └─ slot = FIFO doubly linked list of entries (indices into a slab)
//!                 + one `occupied` bit per slot, per level
//! ```
//!
//! A timer due at tick `when` sits at the level of the highest 6-bit group
//! in which `when` differs from the last processed tick; when that slot's
//! time comes its entries either fire or cascade down a level. Insert and
//! cancel are O(1) (append to a list, unlink from it); finding the next
//! deadline is a `trailing_zeros` per level; each timer cascades at most
//! five times. Entries are slab slots addressed by index + generation, so
//! a stale key (for a timer that fired, or was cancelled, and whose slot
//! was reused) can never cancel or fire someone else's timer.
//!
//! The wheel sits behind one mutex in the driver's handle, usable from any
//! thread. The worker parked in the driver sleeps in `epoll_wait` with the
//! next deadline as timeout; inserting an earlier timer interrupts it. The
//! protocol (and why no user code — waking, dropping wakers, cancelling
//! tokens — ever runs under the lock) is documented in `wheel.rs`.
//!
//! **Resolution**: 1 ms. A timer never fires before its deadline: it fires
//! on the first driver turn at or after the deadline rounded up to the next
//! millisecond (so typically up to ~1 ms late, more if every worker is
//! busy until its next maintenance turn of the driver).
//!
//! # Cancellation
//!
//! [`Sleep`] and [`Interval::tick`] are runtime await points: when the
//! current task's cancellation is observed (its own, or its token's, or
//! the enclosing deadline scope's — not inside a `shield`), they remove
//! their timer entry and answer `Err(Cancelled)` with the cause. The
//! executor wakes a cancelled task wherever it is parked, so a task asleep
//! for an hour answers at once. [`Timeout`] is not itself a cancellation
//! point (its inner future's await points are). Dropping any of them
//! removes the timer entry in O(1).
//!
//! Deadline scopes put deadlines on the cancel tree: see [`DeadlineScope`].
//!
//! # Example
//!
//! Drive the wheel by hand (a runtime does this for you):
//!
//! ```
//! use std::future::Future;
//! use std::pin::Pin;
//! use std::task::{Context, Poll, Waker};
//! use std::time::{Duration, Instant};
//! use quell_io_driver::rt_internal::{context, Driver}; // what the executor does
//! use quell_io_driver::time;
//!
//! let mut driver = Driver::new().unwrap();
//! let _enter = context::enter(driver.handle().clone());
//!
//! let start = Instant::now();
//! let mut sleep = time::sleep(Duration::from_millis(5));
//! let mut cx = Context::from_waker(Waker::noop());
//! loop {
//!     match Pin::new(&mut sleep).poll(&mut cx) {
//!         Poll::Ready(r) => break r.unwrap(),
//!         Poll::Pending => driver.park(None), // epoll_wait until the timer
//!     }
//! }
//! assert!(start.elapsed() >= Duration::from_millis(5));
//! assert_eq!(driver.handle().num_timers(), 0);
//! ```

mod alarm;
mod deadline;
mod entry;
mod interval;
mod levels;
pub(crate) mod sleep;
mod timeout;
mod wheel;

#[cfg(all(test, loom))]
mod loom_timer;
#[cfg(all(test, not(loom)))]
mod tests;

pub use deadline::{with_deadline, with_timeout, DeadlineScope, DEFAULT_GRACE};
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

pub(crate) use wheel::Wheel;

impl crate::driver::Handle {
    /// Number of timers scheduled in this driver's wheel (introspection,
    /// leak checks in tests).
    pub fn num_timers(&self) -> usize {
        self.inner.time.len()
    }
}
