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
//! The value sits in an `RwLock` of its own (borrows read it in parallel);
//! the waiter list and the sender-dropped flag in a `Mutex`; the version
//! (bumped by every send) and the receiver count are atomics. A receiver
//! remembers the version it has seen. So a change reaches its receivers
//! without them queueing behind each other on one lock: each takes the
//! value's read lock once (to read it) and the waiter lock once (to park
//! again).
//!
//! 1. A send holds the value's write lock while it stores the value, then,
//!    inside it, the waiter lock while it takes every parked waker and
//!    bumps the version; the wakers are woken after both are released.
//!    (Lock order: value, then waiters. Nothing takes the value lock while
//!    holding the waiter lock.)
//! 2. `changed` poll, in order: budget; cancellation → `Cancelled`,
//!    leaving the list, **marking nothing seen** (the change stays pending
//!    for the next `changed`); the version, without a lock: one it has not
//!    seen → mark it seen, `Ok` (its entry is gone: the send that stored
//!    that version took every entry in the critical section that stored
//!    it, so the receiver only forgets its key); else, under the waiter
//!    lock, the version again (a send that took the lock first has bumped
//!    it, one that takes it after sees our entry: no lost wakeup), then
//!    sender gone → `Closed`, else park.
//! 3. A read of the value (`borrow`, `borrow_and_update`, the stream's
//!    clone) takes the read lock; the version it marks seen is loaded
//!    under it, so it is the version of the value read (a send bumps it
//!    only while holding the write lock).
//!
//! There is nothing to pass on: every waiter is woken by every change.
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
use crate::loom::atomic::{AtomicU64, AtomicUsize, Ordering};
use crate::loom::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

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
        value: RwLock::new(init),
        version: AtomicU64::new(0),
        receivers: AtomicUsize::new(1),
        waiters: Mutex::new(Waiters {
            list: WaiterList::new(),
            sender_gone: false,
        }),
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
    value: RwLock<T>,
    /// Bumped by every send, stored while it holds both locks (protocol
    /// step 1); read without a lock.
    version: AtomicU64,
    /// Live receivers.
    receivers: AtomicUsize,
    waiters: Mutex<Waiters>,
}

struct Waiters {
    list: WaiterList,
    sender_gone: bool,
}

impl<T> Shared<T> {
    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        lock(&self.waiters)
    }

    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Protocol step 1: stores `value`, takes the wakers of every parked
    /// receiver and bumps the version; returns the old value and the
    /// wakers (to wake, and drop, unlocked).
    fn replace(&self, value: T) -> (T, Wakers) {
        let mut v = self.value.write().unwrap_or_else(|e| e.into_inner());
        let old = std::mem::replace(&mut *v, value);
        let mut w = self.waiters();
        let ws = w.list.take_unnotified();
        // Relaxed: only stored here, under both locks, so the load sees the
        // last store. A lock-free reader that loads the new version knows
        // this section (and its take) is over (protocol step 2); readers of
        // the value load it under the read lock (step 3).
        let next = self.version.load(Ordering::Relaxed) + 1;
        self.version.store(next, Ordering::Relaxed);
        drop(w);
        drop(v);
        (old, ws)
    }

    /// The current version, read where the value cannot change (under the
    /// value's lock, protocol step 3).
    fn version_under(&self, _value: &RwLockReadGuard<'_, T>) -> u64 {
        // Relaxed: sends store it only while holding the write lock, and
        // our read lock's acquire follows the last one's release.
        self.version.load(Ordering::Relaxed)
    }
}

/// A borrow of the current value; holds the value's read lock (keep it
/// short: a send waits for it; other borrows do not).
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
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
        // Relaxed: a count, nothing is read through it; a receiver dropped
        // during the send simply misses the value.
        if self.shared.receivers.load(Ordering::Relaxed) == 0 {
            return Err(SendError::Closed(value));
        }
        let (old, ws) = self.shared.replace(value);
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
        let (old, ws) = self.shared.replace(value);
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
            guard: self.shared.read(),
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
        // Relaxed: a count (see `send`).
        self.shared.receivers.fetch_add(1, Ordering::Relaxed);
        let seen = self.shared.version_under(&self.shared.read());
        Receiver {
            shared: self.shared.clone(),
            seen,
            waiter: None,
        }
    }

    /// Number of live receivers.
    pub fn receiver_count(&self) -> usize {
        // Relaxed: a count (see `send`).
        self.shared.receivers.load(Ordering::Relaxed)
    }

    /// Whether every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut w = self.shared.waiters();
        w.sender_gone = true;
        let ws = w.list.take_unnotified();
        drop(w);
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
            guard: self.shared.read(),
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
        let guard = self.shared.read();
        self.seen = self.shared.version_under(&guard);
        Ref { guard }
    }

    /// Whether a value this receiver has not seen is there. Never blocks
    /// and does not observe cancellation. `Err(RecvError::Closed)` once the
    /// sender is gone and everything was seen.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let w = self.shared.waiters();
        // Relaxed, under the waiter lock: a send's bump is stored in a
        // waiter-lock section, so the last send before the sender's drop
        // (whose flag we read in the same section) is seen.
        match self.shared.version.load(Ordering::Relaxed) != self.seen {
            true => Ok(true),
            false if w.sender_gone => Err(RecvError::Closed),
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
        // Step 2, without a lock. Relaxed: a version we load was stored in
        // some send's waiter-lock section, so any lock we take after this
        // load comes after that section (else the load would precede the
        // store), and that send took our entry (we parked at the version we
        // had seen): forgetting the key loses nothing.
        let version = self.shared.version.load(Ordering::Relaxed);
        if version != self.seen {
            self.waiter = None;
            return Poll::Ready(Ok(self.mark_seen(version, read)));
        }
        // Step 2: under the waiter lock.
        let mut w = self.shared.waiters();
        if let Some(id) = self.waiter.take() {
            w.list.remove(id);
        }
        // Relaxed, under the lock: a send that held it before us stored its
        // bump inside it; one that takes it after us takes our entry.
        let version = self.shared.version.load(Ordering::Relaxed);
        if version != self.seen {
            drop(w); // lock order: never the value's lock under this one
            return Poll::Ready(Ok(self.mark_seen(version, read)));
        }
        if w.sender_gone {
            return Poll::Ready(Err(RecvError::Closed));
        }
        w.list.park(&mut self.waiter, cx.waker());
        Poll::Pending
    }

    /// A change to `version` was found: marks it seen; with `read`, reads
    /// the value instead and marks its version seen (protocol step 3: a
    /// send since then makes that a later one).
    fn mark_seen<R>(&mut self, version: u64, read: Option<impl FnOnce(&T) -> R>) -> Option<R> {
        match read {
            None => {
                self.seen = version;
                None
            }
            Some(f) => {
                let v = self.shared.read();
                self.seen = self.shared.version_under(&v);
                Some(f(&v))
            }
        }
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
            self.shared.waiters().list.remove(id);
        }
    }

    /// Number of entries in the waiter list (test introspection).
    #[cfg(test)]
    pub(crate) fn waiters(&self) -> usize {
        self.shared.waiters().list.len()
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        // Relaxed: a count (see `Sender::send`).
        self.shared.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
            waiter: None,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Relaxed: a count (see `Sender::send`).
        self.shared.receivers.fetch_sub(1, Ordering::Relaxed);
        self.leave();
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
