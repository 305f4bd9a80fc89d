//! [`Notify`]: wake one waiter or all, with `notified().await` as a
//! cancel-aware await point.
//!
//! # Protocol
//!
//! One `Mutex<State>`: a stored permit (at most one), a generation counter
//! bumped by every `notify_waiters`, and the waiter list (`waiters.rs`).
//!
//! * `notify_one`: notify the first waiter that is not notified yet (its
//!   entry is marked, its waker taken and woken after unlocking); with none,
//!   store the permit.
//! * `notify_waiters`: bump the generation and wake every waiter that is not
//!   notified (a notified one already holds a `notify_one` permit). No
//!   permit is stored.
//! * `notified()` records the generation when it is created. Its poll, in
//!   order: (1) budget; (2) cancellation: leave, return `Err(Cancelled)`;
//!   (3) under the lock: its entry is notified, or the generation moved, or
//!   a permit is stored (taken) → `Ok`; else park → `Pending`.
//! * Leaving (cancelled, or dropped before completing) removes the entry; if
//!   it was notified, the `notify_one` permit it held is passed on exactly as
//!   `notify_one` would: to the next waiter, or stored.
//!
//! # Invariants
//!
//! * A `notify_one` permit is held by exactly one of: the stored flag, one
//!   notified entry, or the `Ok` of the poll that consumed it. A cancelled
//!   waiter returns `Err` and never consumes one (it passes it on).
//! * A waiter parks only under the lock after seeing no permit; a notify
//!   after that finds its entry. No lost wakeup.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use quell_cancel::{rt_internal as context, Cancelled};
use quell_io_driver::rt_internal::coop;

use super::waiters::{lock, wake_all, WaiterId, WaiterList};
use crate::loom::Mutex;

/// Notifies tasks: [`notify_one`](Self::notify_one) wakes one waiter (or
/// stores one permit for the next `notified().await`),
/// [`notify_waiters`](Self::notify_waiters) wakes every current waiter.
///
/// `notified().await` returns `Err(Cancelled)` when the current task's
/// cancellation is observed (checked at every poll, before the permit, so a
/// cancelled waiter never consumes a permit: it stays stored or goes to the
/// next waiter).
///
/// ```
/// use std::sync::Arc;
/// use quell_executor::sync::Notify;
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let notify = Arc::new(Notify::new());
///     let n = notify.clone();
///     let waiter = quell_executor::spawn(async move { n.notified().await });
///     notify.notify_one(); // wakes the waiter, or stores the permit for it
///     assert!(waiter.await.unwrap().is_ok());
/// });
/// ```
pub struct Notify {
    state: Mutex<State>,
}

struct State {
    /// A `notify_one` that found no waiter.
    permit: bool,
    /// Bumped by every `notify_waiters`.
    generation: u64,
    waiters: WaiterList,
}

impl State {
    /// `notify_one` under the lock: a waker to wake after unlocking.
    fn notify_one(&mut self) -> Option<std::task::Waker> {
        let w = self.waiters.notify_one();
        if w.is_none() {
            self.permit = true;
        }
        w
    }
}

impl Notify {
    /// A `Notify` with no permit and no waiter.
    ///
    /// ```
    /// let n = quell_executor::sync::Notify::new();
    /// n.notify_one();
    /// ```
    pub fn new() -> Notify {
        Notify {
            state: Mutex::new(State {
                permit: false,
                generation: 0,
                waiters: WaiterList::new(),
            }),
        }
    }

    /// Wakes the first waiting task, or, if none waits, stores a permit (at
    /// most one) that the next `notified().await` consumes at once. Never
    /// blocks.
    ///
    /// ```
    /// use quell_executor::sync::Notify;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let n = Notify::new();
    ///     n.notify_one(); // stored
    ///     n.notified().await.unwrap(); // consumed without waiting
    /// });
    /// ```
    pub fn notify_one(&self) {
        let w = lock(&self.state).notify_one();
        wake_all(w);
    }

    /// Wakes every task waiting now, including `Notified` futures created
    /// before this call and not yet polled. Stores no permit.
    ///
    /// ```
    /// use quell_executor::sync::Notify;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let n = Notify::new();
    ///     let a = n.notified();
    ///     let b = n.notified();
    ///     n.notify_waiters();
    ///     a.await.unwrap();
    ///     b.await.unwrap();
    /// });
    /// ```
    pub fn notify_waiters(&self) {
        let mut st = lock(&self.state);
        st.generation = st.generation.wrapping_add(1);
        let ws = st.waiters.take_unnotified();
        drop(st);
        wake_all(ws);
    }

    /// A future that completes on a notification. A cancel-aware await
    /// point: `Err(Cancelled)` once the current task's cancellation is
    /// observed, without consuming any permit.
    ///
    /// ```
    /// use quell_cancel::Cause;
    /// use std::sync::Arc;
    /// use quell_executor::sync::Notify;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let n = Arc::new(Notify::new());
    ///     let n2 = n.clone();
    ///     let task = quell_executor::spawn(async move { n2.notified().await });
    ///     task.cancel(Cause::explicit("stop"));
    ///     assert!(task.await.unwrap().is_err());
    /// });
    /// ```
    #[track_caller]
    pub fn notified(&self) -> Notified<'_> {
        let generation = lock(&self.state).generation;
        Notified {
            at: std::panic::Location::caller(),
            notify: self,
            generation,
            waiter: None,
            done: false,
        }
    }

    /// Whether a permit is stored (test introspection).
    #[cfg(test)]
    pub(crate) fn has_permit(&self) -> bool {
        lock(&self.state).permit
    }

    /// Number of entries in the waiter list (test introspection).
    #[cfg(test)]
    pub(crate) fn waiters(&self) -> usize {
        lock(&self.state).waiters.len()
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify").finish_non_exhaustive()
    }
}

/// Future returned by [`Notify::notified`]. Dropping it before it completes
/// removes its waker and passes on a `notify_one` permit it was handed.
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    /// The caller (task dumps show where a task waits).
    at: &'static std::panic::Location<'static>,
    notify: &'a Notify,
    /// `Notify`'s generation when this future was created.
    generation: u64,
    waiter: Option<WaiterId>,
    done: bool,
}

impl Notified<'_> {
    /// Leaves the waiter list, passing on a permit it was handed.
    fn leave(&mut self) {
        if let Some(id) = self.waiter.take() {
            let mut st = lock(&self.notify.state);
            let w = if st.waiters.remove(id) {
                st.notify_one()
            } else {
                None
            };
            drop(st);
            wake_all(w);
        }
    }
}

impl Future for Notified<'_> {
    type Output = Result<(), Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let p = self.as_mut().poll_waiting(cx);
        if p.is_pending() {
            quell_cancel::rt_internal::wait::record(&NOTIFIED, Some(self.at), 0);
        }
        p
    }
}

/// `Notify::notified` (a task dump's await point): waits for a notification.
static NOTIFIED: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "Notify::notified",
        describe: None,
    };

impl Notified<'_> {
    /// The poll, without the dump's record.
    #[inline]
    fn poll_waiting(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Cancelled>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(Ok(()));
        }
        // Step 1: budget. Pending here has consumed nothing.
        ready!(coop::poll_proceed(cx));
        // Step 2: cancellation first; a permit we were handed is passed on.
        if let Some(c) = context::observed() {
            this.leave();
            return Poll::Ready(Err(c));
        }
        // Step 3: under the lock.
        let mut st = lock(&this.notify.state);
        let notified = match this.waiter {
            Some(id) if st.waiters.is_notified(id) => true,
            _ if st.generation != this.generation => true,
            _ if st.permit => {
                st.permit = false;
                true
            }
            _ => false,
        };
        if notified {
            if let Some(id) = this.waiter.take() {
                // A `notify_one` permit it held is consumed by this `Ok`.
                st.waiters.remove(id);
            }
            this.done = true;
            return Poll::Ready(Ok(()));
        }
        st.waiters.park(&mut this.waiter, cx.waker());
        Poll::Pending
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        self.leave();
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("waiter", &self.waiter)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
