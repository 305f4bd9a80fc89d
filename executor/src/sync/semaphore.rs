//! [`Semaphore`]: a fair (FIFO) counting semaphore whose acquire is a
//! cancel-aware await point. [`Mutex`](super::Mutex) and
//! [`RwLock`](super::RwLock) are built on it.
//!
//! # Protocol
//!
//! An atomic state word (bit layout below) holds the permits that are free
//! for anyone, a `WAITERS` bit and a `CLOSED` bit; a `Mutex` holds the FIFO
//! of parked acquirers (the shared waiter list), each entry with the permits
//! it still `need`s and those it already `held`s.
//!
//! * **Invariant W**: `WAITERS` is set exactly while some entry still needs
//!   permits, and then the word holds no free permits. Both change only
//!   under the lock, so a releaser that sees `WAITERS` clear may add its
//!   permits to the word without the lock (fast path), and an acquirer may
//!   take free permits with a CAS without the lock (fast path) — nobody is
//!   queued before it, so it does not barge.
//! * acquire, not yet queued: budget; cancellation (→ `Cancelled`, nothing
//!   taken); CAS the permits out of the word; else, under the lock, take
//!   what is free and queue for the rest, setting `WAITERS` in the same CAS.
//! * release (a permit dropped, `add_permits`): `WAITERS` clear → CAS the
//!   permits into the word. Else under the lock: hand them to the queued
//!   entries in FIFO order (an entry at the front takes what it can; once it
//!   needs nothing more its waker is taken, to be woken after unlocking);
//!   what is left once no entry needs anything goes into the word, clearing
//!   `WAITERS`.
//! * acquire, queued: budget; cancellation → leave; under the lock: the
//!   entry needs nothing more → remove it, `Ok` (the permits it was handed
//!   are the caller's); entry gone → the semaphore was closed; else park.
//! * leave (cancelled, or the future dropped): remove the entry and release
//!   the permits it was handed, exactly as a release would: to the next
//!   entries, or into the word. A permit handed to a waiter that turns out
//!   cancelled therefore passes on; it is never lost nor counted twice.
//! * close: set `CLOSED`, remove every entry, put the permits they held back
//!   into the word, wake them all (they answer `Closed`).
//!
//! Orderings: the word's CAS that takes permits is `Acquire` and the one
//! that adds them `Release`, so what the releaser did before releasing (the
//! data a [`Mutex`](super::Mutex) guards) is visible to the next holder;
//! permits handed over under the lock are ordered by the lock.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{ready, Context, Poll, Waker};

use quell_cancel::rt_internal as context;
use quell_cancel::rt_internal::waiters::{Key, WaiterList};
use quell_io_driver::rt_internal::coop;

pub use super::error::{AcquireError, TryAcquireError};
use super::waiters::{lock, wake_all, Wakers};
use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::Mutex;

/// Bit 0 of the state word: the semaphore is closed.
const CLOSED: usize = 1;
/// Bit 1: some queued entry still needs permits (invariant W).
const WAITERS: usize = 1 << 1;
/// The free permits are the word shifted right by this.
const SHIFT: usize = 2;
/// One free permit in the word.
const ONE: usize = 1 << SHIFT;

/// A fair counting semaphore. Permits are handed out in FIFO order of the
/// acquires that had to wait: a waiter needing many permits is not starved
/// by later waiters needing few. Dropping a permit returns it.
///
/// Every acquire is a runtime await point: once the current task's
/// cancellation is observed it returns [`AcquireError::Cancelled`] holding
/// nothing; permits that had been handed to it while it waited go on to the
/// next waiter.
///
/// ```
/// use std::sync::Arc;
/// use quell_executor::sync::Semaphore;
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let sem = Arc::new(Semaphore::new(2));
///     let mut tasks = Vec::new();
///     for _ in 0..4 {
///         let sem = sem.clone();
///         tasks.push(quell_executor::spawn(async move {
///             let _permit = sem.acquire().await.unwrap();
///             // at most two tasks run here at once
///         }));
///     }
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(sem.available_permits(), 2);
/// });
/// ```
pub struct Semaphore {
    /// `permits << SHIFT | WAITERS | CLOSED`.
    state: AtomicUsize,
    waiters: Mutex<Waiters>,
}

struct Waiters {
    list: WaiterList<Entry>,
    /// Entries with `need > 0` (invariant W: `WAITERS` ⇔ this is non-zero).
    unsatisfied: usize,
}

struct Entry {
    /// Taken when the entry is satisfied (to be woken).
    waker: Option<Waker>,
    /// Permits still missing.
    need: usize,
    /// Permits handed to this entry so far.
    held: usize,
}

impl Semaphore {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = usize::MAX >> (SHIFT + 1);

    /// A semaphore with `permits` free permits.
    ///
    /// ```
    /// let sem = quell_executor::sync::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    pub fn new(permits: usize) -> Semaphore {
        assert!(permits <= Self::MAX_PERMITS, "Semaphore: too many permits");
        Semaphore {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(Waiters {
                list: WaiterList::new(),
                unsatisfied: 0,
            }),
        }
    }

    /// Free permits now (not counting those handed to waiters).
    ///
    /// ```
    /// let sem = quell_executor::sync::Semaphore::new(2);
    /// let p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// drop(p);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.state.load(Ordering::Relaxed) >> SHIFT
    }

    /// Adds `n` permits (to the waiters first, in FIFO order).
    ///
    /// ```
    /// let sem = quell_executor::sync::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    ///
    /// # Panics
    ///
    /// If the total would exceed [`MAX_PERMITS`](Self::MAX_PERMITS).
    pub fn add_permits(&self, n: usize) {
        assert!(
            self.available_permits().saturating_add(n) <= Self::MAX_PERMITS,
            "Semaphore: too many permits"
        );
        self.release(n);
    }

    /// Closes the semaphore: every pending acquire (including one that had
    /// been handed permits but has not returned yet) and every later one
    /// fails with `Closed`. Permits already acquired stay valid and are
    /// returned as usual.
    ///
    /// ```
    /// use quell_executor::sync::{Semaphore, TryAcquireError};
    ///
    /// let sem = Semaphore::new(1);
    /// sem.close();
    /// assert!(sem.is_closed());
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    /// ```
    pub fn close(&self) {
        let mut w = lock(&self.waiters);
        let taken = w.list.take_all();
        w.unsatisfied = 0;
        let mut held = 0;
        let mut wakers = Wakers::default();
        for e in taken {
            held += e.held;
            wakers.extend(e.waker);
        }
        // Release: the permits given back publish like any release (pairs
        // with the acquiring CAS); under the lock, so invariant W holds.
        let _ = self
            .state
            .fetch_update(Ordering::Release, Ordering::Relaxed, |s| {
                Some(((s & !WAITERS) | CLOSED) + held * ONE)
            });
        drop(w);
        wake_all(wakers);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Relaxed) & CLOSED != 0
    }

    /// Acquires one permit, waiting in FIFO order. A cancel-aware await
    /// point: `Err(AcquireError::Cancelled)` once the current task's
    /// cancellation is observed (checked first at every poll, even with
    /// permits free), holding nothing.
    ///
    /// ```
    /// use quell_cancel::Cause;
    /// use std::sync::Arc;
    /// use quell_executor::sync::{AcquireError, Semaphore};
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let sem = Arc::new(Semaphore::new(0));
    ///     let s = sem.clone();
    ///     let task = quell_executor::spawn(async move { s.acquire().await.map(|p| p.forget()) });
    ///     task.cancel(Cause::explicit("stop"));
    ///     assert!(matches!(task.await.unwrap(), Err(AcquireError::Cancelled(_))));
    ///     sem.add_permits(1); // nobody holds a stale claim on it
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    #[track_caller]
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Acquires `n` permits at once (all or nothing), waiting in FIFO
    /// order; see [`acquire`](Self::acquire).
    ///
    /// ```
    /// use quell_executor::sync::Semaphore;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let sem = Semaphore::new(5);
    ///     let p = sem.acquire_many(3).await.unwrap();
    ///     assert_eq!((p.num_permits(), sem.available_permits()), (3, 2));
    /// });
    /// ```
    #[track_caller]
    pub fn acquire_many(&self, n: u32) -> Acquire<'_> {
        Acquire {
            sem: self,
            at: std::panic::Location::caller(),
            n: n as usize,
            waiter: None,
        }
    }

    /// Takes one permit if one is free and nobody waits. Never blocks and
    /// does not observe cancellation.
    ///
    /// ```
    /// use quell_executor::sync::{Semaphore, TryAcquireError};
    ///
    /// let sem = Semaphore::new(1);
    /// let _p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody waits; see
    /// [`try_acquire`](Self::try_acquire).
    ///
    /// ```
    /// let sem = quell_executor::sync::Semaphore::new(4);
    /// assert_eq!(sem.try_acquire_many(3).unwrap().num_permits(), 3);
    /// ```
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        match self.try_take(n as usize) {
            Ok(true) => Ok(SemaphorePermit {
                sem: self,
                permits: n as usize,
            }),
            Ok(false) => Err(TryAcquireError::NoPermits),
            Err(()) => Err(TryAcquireError::Closed),
        }
    }

    /// [`acquire`](Self::acquire) for an `Arc<Semaphore>`: the permit owns
    /// a clone of the `Arc` (it can move into a spawned task).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use quell_executor::sync::Semaphore;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let sem = Arc::new(Semaphore::new(1));
    ///     let permit = sem.clone().acquire_owned().await.unwrap();
    ///     let t = quell_executor::spawn(async move { drop(permit) });
    ///     t.await.unwrap();
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    #[track_caller]
    pub fn acquire_owned(
        self: StdArc<Self>,
    ) -> impl Future<Output = Result<OwnedSemaphorePermit, AcquireError>> {
        self.acquire_many_owned(1)
    }

    /// [`acquire_many`](Self::acquire_many) for an `Arc<Semaphore>`; see
    /// [`acquire_owned`](Self::acquire_owned).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use quell_executor::sync::Semaphore;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let sem = Arc::new(Semaphore::new(3));
    ///     let p = sem.clone().acquire_many_owned(2).await.unwrap();
    ///     assert_eq!((p.num_permits(), sem.available_permits()), (2, 1));
    /// });
    /// ```
    #[track_caller]
    pub fn acquire_many_owned(
        self: StdArc<Self>,
        n: u32,
    ) -> impl Future<Output = Result<OwnedSemaphorePermit, AcquireError>> {
        let at = std::panic::Location::caller();
        let fut = async move {
            self.acquire_many(n).await?.forget();
            Ok(OwnedSemaphorePermit {
                sem: self,
                permits: n as usize,
            })
        };
        quell_cancel::rt_internal::wait::recorded(fut, &ACQUIRE, at, 0)
    }

    /// [`try_acquire`](Self::try_acquire) for an `Arc<Semaphore>`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(quell_executor::sync::Semaphore::new(1));
    /// let p = sem.clone().try_acquire_owned().unwrap();
    /// assert_eq!(p.num_permits(), 1);
    /// ```
    pub fn try_acquire_owned(self: StdArc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Self::try_acquire_many) for an `Arc<Semaphore>`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(quell_executor::sync::Semaphore::new(2));
    /// assert!(sem.clone().try_acquire_many_owned(3).is_err());
    /// assert!(sem.try_acquire_many_owned(2).is_ok());
    /// ```
    pub fn try_acquire_many_owned(
        self: StdArc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many(n)?.forget();
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// The lock-free take: `Ok(true)` took `n`, `Ok(false)` not enough free
    /// (or waiters queued, invariant W), `Err` closed.
    fn try_take(&self, n: usize) -> Result<bool, ()> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & CLOSED != 0 {
                return Err(());
            }
            if s >> SHIFT < n {
                return Ok(false);
            }
            // Acquire pairs with the Release of the CAS/fetch_update that
            // added these permits: the previous holder's writes (under a
            // `Mutex` built on this) happen before ours. Relaxed would let
            // a lock holder read stale data.
            match self.state.compare_exchange_weak(
                s,
                s - n * ONE,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(true),
                Err(now) => s = now,
            }
        }
    }

    /// Returns `n` permits: to the waiters first (FIFO), the rest free.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut s = self.state.load(Ordering::Relaxed);
        while s & WAITERS == 0 {
            // Release pairs with the Acquire CAS of `try_take` (what we did
            // while holding is visible to the next holder). Invariant W:
            // nobody is queued, so free permits go to the word.
            match self.state.compare_exchange_weak(
                s,
                s + n * ONE,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => s = now,
            }
        }
        let mut w = lock(&self.waiters);
        let wakers = self.hand_out(&mut w, n);
        drop(w);
        wake_all(wakers);
    }

    /// Under the lock: hands `n` permits to the entries in FIFO order; the
    /// rest go free once nobody needs any (clearing `WAITERS`, invariant W).
    /// Returns the wakers of the entries now satisfied.
    fn hand_out(&self, w: &mut Waiters, mut n: usize) -> Wakers {
        let mut wakers = Wakers::default();
        while n > 0 && w.unsatisfied > 0 {
            let e = w
                .list
                .find_mut(|e| e.need > 0)
                .expect("`unsatisfied` counts entries with need > 0");
            let give = n.min(e.need);
            e.need -= give;
            e.held += give;
            n -= give;
            if e.need == 0 {
                w.unsatisfied -= 1;
                wakers.extend(e.waker.take());
            }
        }
        if w.unsatisfied == 0 {
            // Release pairs with the Acquire CAS of `try_take` (as in
            // `release`). Under the lock: W stays exact.
            let _ = self
                .state
                .fetch_update(Ordering::Release, Ordering::Relaxed, |s| {
                    Some((s & !WAITERS) + n * ONE)
                });
        } else {
            debug_assert_eq!(n, 0, "permits left over while entries need some");
        }
        wakers
    }

    /// Under the lock: takes what is free and queues an entry for the rest.
    /// `Ok(None)`: all `n` taken. `Ok(Some(key))`: queued. `Err`: closed.
    fn enqueue(&self, w: &mut Waiters, n: usize, waker: &Waker) -> Result<Option<Key>, ()> {
        // Clone (user code, may panic) before touching the state.
        let waker = waker.clone();
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & CLOSED != 0 {
                return Err(());
            }
            let free = s >> SHIFT;
            let (take, next) = if free >= n {
                (n, s - n * ONE)
            } else {
                // Take all that is free and set WAITERS in the same CAS
                // (invariant W); a releaser after it sees WAITERS and
                // waits for our lock, so it finds the entry.
                (free, (s - free * ONE) | WAITERS)
            };
            // Acquire: as in `try_take` (we may take permits released
            // without the lock).
            match self
                .state
                .compare_exchange_weak(s, next, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) if take == n => return Ok(None),
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        let free_taken = s >> SHIFT;
        w.unsatisfied += 1;
        Ok(Some(w.list.push_back(Entry {
            waker: Some(waker),
            need: n - free_taken,
            held: free_taken,
        })))
    }

    /// Under the lock: removes `key`'s entry and passes on what it held.
    fn leave(&self, w: &mut Waiters, key: Key) -> Wakers {
        match w.list.remove(key) {
            Some(e) => {
                if e.need > 0 {
                    w.unsatisfied -= 1;
                }
                // Also clears WAITERS if that was the last entry in need.
                self.hand_out(w, e.held)
            }
            None => Wakers::default(),
        }
    }

    /// Number of queued entries (test introspection).
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        lock(&self.waiters).list.len()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available_permits", &self.available_permits())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// Future returned by [`Semaphore::acquire`] and
/// [`Semaphore::acquire_many`]. Dropping it before it completes leaves the
/// queue and passes on any permits it had been handed.
#[must_use = "futures do nothing unless polled"]
pub struct Acquire<'a> {
    /// The caller (task dumps show where a task waits).
    at: &'static std::panic::Location<'static>,
    sem: &'a Semaphore,
    n: usize,
    waiter: Option<Key>,
}

impl<'a> Acquire<'a> {
    /// Leaves the queue (if in it), passing on what it was handed.
    /// Inlined, the lock out of line: every finished acquire calls this on
    /// drop, and mostly was never queued or has left already.
    #[inline]
    fn leave(&mut self) {
        if self.waiter.is_some() {
            self.leave_queued();
        }
    }

    #[cold]
    fn leave_queued(&mut self) {
        if let Some(key) = self.waiter.take() {
            let mut w = lock(&self.sem.waiters);
            let wakers = self.sem.leave(&mut w, key);
            drop(w);
            wake_all(wakers);
        }
    }

    fn permit(&self) -> SemaphorePermit<'a> {
        SemaphorePermit {
            sem: self.sem,
            permits: self.n,
        }
    }
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let p = self.as_mut().poll_waiting(cx);
        if p.is_pending() {
            quell_cancel::rt_internal::wait::record(&ACQUIRE, Some(self.at), 0);
        }
        p
    }
}

/// `Semaphore::acquire` (a task dump's await point): queued for permits.
static ACQUIRE: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "Semaphore::acquire",
        describe: None,
    };

impl<'a> Acquire<'a> {
    /// The poll, without the dump's record.
    #[inline]
    fn poll_waiting(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<SemaphorePermit<'a>, AcquireError>> {
        let this = self.get_mut();
        // Step 1: budget. Pending here has taken nothing.
        ready!(coop::poll_proceed(cx));
        // Step 2: cancellation first; permits we were handed pass on.
        if let Some(c) = context::observed() {
            this.leave();
            return Poll::Ready(Err(AcquireError::Cancelled(c)));
        }
        // Step 3: the semaphore.
        let Some(key) = this.waiter else {
            match this.sem.try_take(this.n) {
                Ok(true) => return Poll::Ready(Ok(this.permit())),
                Err(()) => return Poll::Ready(Err(AcquireError::Closed)),
                Ok(false) => {}
            }
            let mut w = lock(&this.sem.waiters);
            return match this.sem.enqueue(&mut w, this.n, cx.waker()) {
                Ok(None) => Poll::Ready(Ok(this.permit())),
                Ok(Some(key)) => {
                    this.waiter = Some(key);
                    Poll::Pending
                }
                Err(()) => Poll::Ready(Err(AcquireError::Closed)),
            };
        };
        let mut w = lock(&this.sem.waiters);
        let Some(e) = w.list.get_mut(key) else {
            // Only `close` removes another's entry.
            this.waiter = None;
            return Poll::Ready(Err(AcquireError::Closed));
        };
        if e.need == 0 {
            // The permits it was handed are the caller's now.
            w.list.remove(key);
            this.waiter = None;
            return Poll::Ready(Ok(this.permit()));
        }
        if !e
            .waker
            .as_ref()
            .is_some_and(|old| old.will_wake(cx.waker()))
        {
            let new = cx.waker().clone();
            let old = e.waker.replace(new);
            drop(w);
            drop(old);
        }
        Poll::Pending
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        self.leave();
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("n", &self.n)
            .field("queued", &self.waiter.is_some())
            .finish_non_exhaustive()
    }
}

/// Permits borrowed from a [`Semaphore`]; dropping it returns them.
#[must_use = "dropping a permit returns it at once"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good (they are not
    /// returned on drop).
    ///
    /// ```
    /// let sem = quell_executor::sync::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

/// Permits of an `Arc<Semaphore>` ([`Semaphore::acquire_owned`]); dropping
/// it returns them.
#[must_use = "dropping a permit returns it at once"]
pub struct OwnedSemaphorePermit {
    sem: StdArc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(quell_executor::sync::Semaphore::new(1));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits belong to.
    pub fn semaphore(&self) -> &StdArc<Semaphore> {
        &self.sem
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}
