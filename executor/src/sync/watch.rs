//! A single-value, multi-receiver channel: the sender replaces the value,
//! receivers [`borrow`](Receiver::borrow) the latest one and wait for the
//! next with [`changed`](Receiver::changed), a cancel-aware await point.
//!
//! ```
//! use quell_executor::sync::watch;
//!
//! let rt = quell_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let (tx, mut rx) = watch::channel("starting");
//!     let task = quell_executor::spawn(async move {
//!         rx.changed().await.unwrap();
//!         *rx.borrow_and_update()
//!     });
//!     tx.send("ready").unwrap();
//!     assert_eq!(task.await.unwrap(), "ready");
//! });
//! ```
//!
//! # Protocol
//!
//! One `Mutex<State>`: the value, a version bumped by every send, the
//! sender-dropped flag, the receiver count and the waiter list. A receiver
//! remembers the version it has seen. `changed` poll, in order: budget;
//! cancellation → `Cancelled`, leaving the list, **marking nothing seen**
//! (the change stays pending for the next `changed`); under the lock: a
//! version it has not seen → mark it seen, `Ok`; sender gone → `Closed`;
//! else park. A send stores the value, takes every parked waker (woken
//! after unlocking) and bumps the version. There is nothing to pass on:
//! every waiter is woken by every change.
//!
//! The version is also kept in an atomic, stored under the lock, so that
//! `changed` finds a change it has not seen without the lock (step 3 is
//! then: the atomic says unseen → mark it seen, `Ok`; else the lock as
//! above). A receiver woken by a send therefore takes the lock once per
//! change (to read the value), not twice. Leaving the list needs no lock on
//! that path: an entry is parked only at the version its receiver has seen
//! and the send that bumps the version takes every entry in the same
//! critical section, so a receiver that sees another version only forgets
//! its key (whatever entry it named is gone once that section ends).
//!
//! # Stream
//!
//! [`Receiver`] is a `futures_core::Stream` of clones of the value, one
//! item per [`changed`](Receiver::changed) that returned `Ok` (so the
//! current value is not yielded unless it is unseen). It ends when the
//! sender is gone and every change was seen, or when the current task's
//! cancellation is observed (nothing is marked seen then).

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use quell_cancel::rt_internal as context;
use quell_io_driver::rt_internal::coop;

use super::error::{RecvError, SendError};
use super::waiters::{lock, wake_all, WaiterId, WaiterList, Wakers};
use crate::loom::atomic::{AtomicU64, Ordering};
use crate::loom::{Arc, Mutex, MutexGuard};

/// Creates a watch channel holding `init` (seen by the first receiver).
///
/// ```
/// let (tx, rx) = quell_executor::sync::watch::channel(1);
/// assert_eq!(*rx.borrow(), 1);
/// tx.send(2).unwrap();
/// assert_eq!(*rx.borrow(), 2);
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            value: init,
            version: 0,
            sender_gone: false,
            receivers: 1,
            waiters: WaiterList::new(),
        }),
        version: AtomicU64::new(0),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver {
            shared,
            seen: 0,
            waiter: None,
        },
    )
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// `state.version`, stored under the lock after the waiters are taken
    /// (module docs), read without it.
    version: AtomicU64,
}

struct State<T> {
    value: T,
    /// Bumped by every send.
    version: u64,
    sender_gone: bool,
    receivers: usize,
    waiters: WaiterList,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        lock(&self.state)
    }
}

impl<T> State<T> {
    /// Stores `value`, takes the wakers of every parked receiver, then bumps
    /// the version (and its atomic copy); returns the old value and the
    /// wakers.
    fn replace(&mut self, value: T, version: &AtomicU64) -> (T, Wakers) {
        let old = std::mem::replace(&mut self.value, value);
        let ws = self.waiters.take_unnotified();
        self.version += 1;
        // Relaxed: nothing is read through it (the value is read under the
        // lock); see `poll_change` for why the lock-free reader needs no
        // more.
        version.store(self.version, Ordering::Relaxed);
        (old, ws)
    }
}

/// A borrow of the current value; holds the channel's lock (keep it
/// short: a send waits for it).
pub struct Ref<'a, T> {
    guard: MutexGuard<'a, State<T>>,
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The sending half (one; not `Clone`). Dropping it closes the channel:
/// receivers see `Closed` once they have seen the last value.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Replaces the value and wakes every receiver waiting in `changed`.
    /// Never blocks. `Err(SendError::Closed(value))` if no receiver is
    /// left (the value is not stored).
    ///
    /// ```
    /// let (tx, rx) = quell_executor::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// drop(rx);
    /// assert!(tx.send(2).is_err());
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let mut st = self.shared.lock();
        if st.receivers == 0 {
            return Err(SendError::Closed(value));
        }
        let (old, ws) = st.replace(value, &self.shared.version);
        drop(st);
        wake_all(ws);
        drop(old); // user destructor, unlocked
        Ok(())
    }

    /// Replaces the value whether or not a receiver is left, and returns
    /// the old one.
    ///
    /// ```
    /// let (tx, _rx) = quell_executor::sync::watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let (old, ws) = self.shared.lock().replace(value, &self.shared.version);
        wake_all(ws);
        old
    }

    /// The current value.
    ///
    /// ```
    /// let (tx, _rx) = quell_executor::sync::watch::channel('a');
    /// assert_eq!(*tx.borrow(), 'a');
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.lock(),
        }
    }

    /// A new receiver that has seen the current value.
    ///
    /// ```
    /// let (tx, _rx) = quell_executor::sync::watch::channel(0);
    /// let rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// assert!(!rx2.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let mut st = self.shared.lock();
        st.receivers += 1;
        let seen = st.version;
        drop(st);
        Receiver {
            shared: self.shared.clone(),
            seen,
            waiter: None,
        }
    }

    /// Number of live receivers.
    pub fn receiver_count(&self) -> usize {
        self.shared.lock().receivers
    }

    /// Whether every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.sender_gone = true;
        let ws = st.waiters.take_unnotified();
        drop(st);
        wake_all(ws);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender").finish_non_exhaustive()
    }
}

/// A receiving half; clone it for more receivers (the clone has seen what
/// this one has seen).
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver has seen.
    seen: u64,
    /// Its entry in the waiter list while `changed` is parked.
    waiter: Option<WaiterId>,
}

impl<T> Receiver<T> {
    /// The current value, without marking it seen.
    ///
    /// ```
    /// let (tx, rx) = quell_executor::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// assert!(rx.has_changed().unwrap()); // still unseen
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.lock(),
        }
    }

    /// The current value, marking it seen.
    ///
    /// ```
    /// let (tx, mut rx) = quell_executor::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.lock();
        self.seen = guard.version;
        Ref { guard }
    }

    /// Whether a value this receiver has not seen is there. Never blocks
    /// and does not observe cancellation. `Err(RecvError::Closed)` once the
    /// sender is gone and everything was seen.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let st = self.shared.lock();
        match st.version != self.seen {
            true => Ok(true),
            false if st.sender_gone => Err(RecvError::Closed),
            false => Ok(false),
        }
    }

    /// Waits for a value this receiver has not seen, and marks it seen. A
    /// cancel-aware await point: `Err(RecvError::Cancelled)` once the
    /// current task's cancellation is observed, marking nothing seen (the
    /// next `changed` still reports the change). `Err(RecvError::Closed)`
    /// once the sender is gone and every value was seen.
    ///
    /// ```
    /// use quell_cancel::Cause;
    /// use quell_executor::sync::watch;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (tx, mut rx) = watch::channel(0);
    ///     let task = quell_executor::spawn(async move {
    ///         let r = rx.changed().await;
    ///         (r.is_err(), rx)
    ///     });
    ///     task.cancel(Cause::explicit("stop"));
    ///     let (cancelled, mut rx) = task.await.unwrap();
    ///     assert!(cancelled);
    ///     tx.send(1).unwrap();
    ///     rx.changed().await.unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn changed(&mut self) -> Changed<'_, T> {
        Changed {
            receiver: self,
            at: std::panic::Location::caller(),
        }
    }

    /// [`changed`](Self::changed) as a poll function.
    pub fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RecvError>> {
        self.poll_change(cx, None::<fn(&T)>).map_ok(|_| ())
    }

    /// `poll_changed`; with `read`, `Some` of what it returns, reading the
    /// value it marks seen under the same lock (so a send in between cannot
    /// be marked seen without being read).
    fn poll_change<R>(
        &mut self,
        cx: &mut Context<'_>,
        read: Option<impl FnOnce(&T) -> R>,
    ) -> Poll<Result<Option<R>, RecvError>> {
        // Step 1: budget. Step 2: cancellation first, marking nothing seen.
        ready!(coop::poll_proceed(cx));
        if let Some(c) = context::observed() {
            self.leave();
            return Poll::Ready(Err(RecvError::Cancelled(c)));
        }
        // Step 3, without the lock when nothing is to be read. Relaxed: a
        // version we load was stored in some send's critical section, so
        // any lock we take after this load comes after that section (else
        // the load would precede the store), and that send took our entry
        // (we parked at the version we had seen, module docs): forgetting
        // the key loses nothing, and the value is read under the lock.
        if read.is_none() {
            let version = self.shared.version.load(Ordering::Relaxed);
            if version != self.seen {
                self.seen = version;
                self.waiter = None;
                return Poll::Ready(Ok(None));
            }
        }
        // Step 3: under the lock.
        let mut st = self.shared.lock();
        if let Some(id) = self.waiter.take() {
            st.waiters.remove(id);
        }
        if st.version != self.seen {
            self.seen = st.version;
            return Poll::Ready(Ok(read.map(|f| f(&st.value))));
        }
        if st.sender_gone {
            return Poll::Ready(Err(RecvError::Closed));
        }
        st.waiters.park(&mut self.waiter, cx.waker());
        Poll::Pending
    }

    /// Leaves the waiter list if parked. Inlined, the lock out of line:
    /// every finished `changed` future calls this on drop, and mostly has
    /// nothing to do.
    #[inline]
    fn leave(&mut self) {
        if self.waiter.is_some() {
            self.leave_parked();
        }
    }

    #[cold]
    fn leave_parked(&mut self) {
        if let Some(id) = self.waiter.take() {
            self.shared.lock().waiters.remove(id);
        }
    }

    /// Number of entries in the waiter list (test introspection).
    #[cfg(test)]
    pub(crate) fn waiters(&self) -> usize {
        self.shared.lock().waiters.len()
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        self.shared.lock().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
            waiter: None,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.receivers -= 1;
        if let Some(id) = self.waiter.take() {
            st.waiters.remove(id);
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

/// Clones of the value, one per change (see the [module docs](self)).
impl<T: Clone> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let r = ready!(self.get_mut().poll_change(cx, Some(T::clone)));
        Poll::Ready(r.ok().flatten())
    }
}

/// Future returned by [`Receiver::changed`]. Dropping it leaves the
/// waiter list.
#[must_use = "futures do nothing unless polled"]
pub struct Changed<'a, T> {
    /// The caller (task dumps show where a task waits).
    at: &'static std::panic::Location<'static>,
    receiver: &'a mut Receiver<T>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let p = self.as_mut().poll_waiting(cx);
        if p.is_pending() {
            quell_cancel::rt_internal::wait::record(&CHANGED, Some(self.at), 0);
        }
        p
    }
}

/// `watch::Receiver::changed` (a task dump's await point): waits for a new value.
static CHANGED: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "watch::Receiver::changed",
        describe: None,
    };

impl<T> Changed<'_, T> {
    /// The poll, without the dump's record.
    #[inline]
    fn poll_waiting(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), RecvError>> {
        self.get_mut().receiver.poll_changed(cx)
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        self.receiver.leave();
    }
}

impl<T> fmt::Debug for Changed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Changed").finish_non_exhaustive()
    }
}
