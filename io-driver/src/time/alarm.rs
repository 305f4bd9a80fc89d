//! [`Handle::wake_at`]: a one-shot timer with no future around it, for
//! runtime policies that act on a task from outside it (the executor's
//! abort-after-grace).

use std::task::Waker;
use std::time::Instant;

use super::entry::Action;
use super::wheel::Insert;
use quell_cancel::rt_internal::waiters;

use crate::driver::Handle;

impl Handle {
    /// Wakes `waker` once at `deadline` (rounded up to the wheel's 1 ms
    /// tick; at once if it has passed), from the driver's next turn at or
    /// after it. O(1); no thread, no task.
    ///
    /// Returns the waker, unwoken, if the driver has shut down: the caller
    /// decides what a timer that can never fire means for it. An entry still
    /// pending when the driver shuts down is woken then (as every sleeper).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use std::task::{Wake, Waker};
    /// use std::time::{Duration, Instant};
    ///
    /// struct Flag(AtomicBool);
    /// impl Wake for Flag {
    ///     fn wake(self: Arc<Self>) { self.0.store(true, Ordering::SeqCst) }
    /// }
    /// let mut driver = quell_io_driver::rt_internal::Driver::new().unwrap();
    /// let flag = Arc::new(Flag(AtomicBool::new(false)));
    /// let at = Instant::now() + Duration::from_millis(2);
    /// assert!(driver.handle().wake_at(at, Waker::from(flag.clone())).is_ok());
    /// while !flag.0.load(Ordering::SeqCst) {
    ///     driver.park(None); // returns when the timer is due
    /// }
    /// assert!(Instant::now() >= at);
    /// ```
    pub fn wake_at(&self, deadline: Instant, waker: Waker) -> Result<(), Waker> {
        match self.inner.time.insert(deadline, Action::Wake(waker)) {
            Insert::Armed { unpark, .. } => {
                if unpark {
                    self.unpark();
                }
                Ok(())
            }
            Insert::Expired(action) => {
                if let Action::Wake(w) = action {
                    waiters::wake(w);
                }
                Ok(())
            }
            Insert::Shutdown(Action::Wake(w)) => Err(w),
            Insert::Shutdown(Action::Cancel(_)) => unreachable!("inserted a Wake action"),
        }
    }
}
