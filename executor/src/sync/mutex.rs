//! [`Mutex`]: an async mutual-exclusion lock whose `lock` is a cancel-aware
//! await point.
//!
//! It is a [`Semaphore`] with one permit plus the data: `lock` acquires the
//! permit (fair FIFO, lock-free when uncontended), the guard's drop returns
//! it. Everything the semaphore guarantees carries over: a cancelled `lock`
//! holds nothing, and a lock handed to a waiter that turns out cancelled (or
//! whose future is dropped) goes to the next waiter, never lost.
//!
//! The semaphore's `Acquire`/`Release` permit hand-over orders a holder's
//! writes before the next holder's reads, which is what makes the `Sync`
//! impl sound.

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{ready, Context, Poll};

use quell_cancel::Cancelled;

use super::error::AcquireError;
use super::semaphore::{Acquire, Semaphore};
use crate::loom::UnsafeCell;

/// An async mutex. `lock().await` waits (fairly, FIFO) for the lock and
/// returns `Err(Cancelled)` once the current task's cancellation is
/// observed, holding nothing.
///
/// ```
/// use std::sync::Arc;
/// use quell_executor::sync::Mutex;
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let m = Arc::new(Mutex::new(0));
///     let mut tasks = Vec::new();
///     for _ in 0..4 {
///         let m = m.clone();
///         tasks.push(quell_executor::spawn(async move {
///             *m.lock().await.unwrap() += 1;
///         }));
///     }
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(*m.lock().await.unwrap(), 4);
/// });
/// ```
pub struct Mutex<T> {
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the data moves with the mutex (`T: Send`).
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: `&Mutex` gives access to `T` only through a guard, and one guard
// exists at a time (one permit); the guard may be made on one thread and
// dropped on another, so `T: Send` is needed, not `T: Sync`.
unsafe impl<T: Send> Sync for Mutex<T> {}

/// Why [`Mutex::try_lock`] failed: the lock is held (or waited for).
///
/// ```
/// let m = quell_executor::sync::Mutex::new(());
/// let _g = m.try_lock().unwrap();
/// assert!(m.try_lock().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lock is held")
    }
}

impl std::error::Error for TryLockError {}

impl TryLockError {
    pub(crate) fn new() -> TryLockError {
        TryLockError(())
    }
}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    ///
    /// ```
    /// let m = quell_executor::sync::Mutex::new(5);
    /// assert_eq!(m.into_inner(), 5);
    /// ```
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            sem: Semaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Locks, waiting (FIFO) while another guard exists. A cancel-aware
    /// await point: `Err(Cancelled)` once the current task's cancellation
    /// is observed (checked first at every poll, even when unlocked).
    ///
    /// ```
    /// use quell_cancel::Cause;
    /// use std::sync::Arc;
    /// use quell_executor::sync::Mutex;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let m = Arc::new(Mutex::new(()));
    ///     let held = m.lock().await.unwrap();
    ///     let m2 = m.clone();
    ///     let task = quell_executor::spawn(async move { m2.lock().await.is_ok() });
    ///     task.cancel(Cause::explicit("stop"));
    ///     assert!(!task.await.unwrap());
    ///     drop(held);
    ///     assert!(m.try_lock().is_ok()); // the lock was not lost
    /// });
    /// ```
    #[track_caller]
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            acquire: self.sem.acquire(),
            at: std::panic::Location::caller(),
        }
    }

    /// Locks if the lock is free now (and nobody waits). Never blocks and
    /// does not observe cancellation.
    ///
    /// ```
    /// let m = quell_executor::sync::Mutex::new(1);
    /// *m.try_lock().unwrap() += 1;
    /// assert_eq!(*m.try_lock().unwrap(), 2);
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire() {
            Ok(p) => {
                p.forget();
                Ok(MutexGuard { mutex: self })
            }
            Err(_) => Err(TryLockError::new()),
        }
    }

    /// [`lock`](Self::lock) for an `Arc<Mutex>`: the guard owns a clone of
    /// the `Arc` (it can move into a spawned task).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use quell_executor::sync::Mutex;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let m = Arc::new(Mutex::new(vec![1]));
    ///     let mut g = m.clone().lock_owned().await.unwrap();
    ///     quell_executor::spawn(async move { g.push(2) }).await.unwrap();
    ///     assert_eq!(*m.lock().await.unwrap(), [1, 2]);
    /// });
    /// ```
    pub async fn lock_owned(self: StdArc<Self>) -> Result<OwnedMutexGuard<T>, Cancelled> {
        self.lock().await?.forget_permit();
        Ok(OwnedMutexGuard { mutex: self })
    }

    /// [`try_lock`](Self::try_lock) for an `Arc<Mutex>`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(quell_executor::sync::Mutex::new(0));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(g);
    /// ```
    pub fn try_lock_owned(self: StdArc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        self.try_lock()?.forget_permit();
        Ok(OwnedMutexGuard { mutex: self })
    }

    /// The data, through `&mut` (no locking needed).
    ///
    /// ```
    /// let mut m = quell_executor::sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self`: no guard exists.
        self.data.with_mut(|p| unsafe { &mut *p })
    }

    /// Consumes the mutex, returning the data.
    pub fn into_inner(self) -> T {
        let Mutex { data, .. } = self;
        data.into_inner()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex")
            .field("locked", &(self.sem.available_permits() == 0))
            .finish_non_exhaustive()
    }
}

/// Future returned by [`Mutex::lock`]. Dropping it before it completes
/// leaves the queue (passing on the lock if it had been handed it).
#[must_use = "futures do nothing unless polled"]
pub struct Lock<'a, T> {
    mutex: &'a Mutex<T>,
    acquire: Acquire<'a>,
    /// The caller of `lock` (task dumps show where a task waits).
    at: &'static std::panic::Location<'static>,
}

/// The await point of a task queued for a [`Mutex`] (task dumps).
static LOCK: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "Mutex::lock",
        describe: None,
    };

impl<'a, T> Future for Lock<'a, T> {
    type Output = Result<MutexGuard<'a, T>, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let p = Pin::new(&mut this.acquire).poll(cx);
        if p.is_pending() {
            quell_cancel::rt_internal::wait::record(&LOCK, Some(this.at), 0);
        }
        Poll::Ready(match ready!(p) {
            Ok(p) => {
                p.forget(); // the guard returns it
                Ok(MutexGuard { mutex: this.mutex })
            }
            Err(AcquireError::Cancelled(c)) => Err(c),
            Err(AcquireError::Closed) => unreachable!("a mutex's semaphore is never closed"),
        })
    }
}

impl<T> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock").finish_non_exhaustive()
    }
}

/// Holds the lock of a [`Mutex`]; dropping it unlocks.
#[must_use = "dropping a guard unlocks at once"]
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> MutexGuard<'_, T> {
    /// Drops the guard without unlocking (its owned form takes over).
    fn forget_permit(self) {
        std::mem::forget(self);
    }
}

// SAFETY: `&MutexGuard` gives `&T` only (the auto impl would ask only
// `T: Send`, through `&Mutex<T>`).
unsafe impl<T: Send + Sync> Sync for MutexGuard<'_, T> {}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the one permit: no other guard exists,
        // and the permit's Acquire ordered the last holder's writes.
        self.mutex.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` excludes other borrows.
        self.mutex.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.sem.release(1);
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Holds the lock of an `Arc<Mutex>` ([`Mutex::lock_owned`]); dropping it
/// unlocks.
#[must_use = "dropping a guard unlocks at once"]
pub struct OwnedMutexGuard<T> {
    mutex: StdArc<Mutex<T>>,
}

impl<T> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(&self) -> &StdArc<Mutex<T>> {
        &self.mutex
    }
}

// SAFETY: `&OwnedMutexGuard` gives `&T` and `&Arc<Mutex<T>>` only.
unsafe impl<T: Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: as in `MutexGuard::deref`: the guard holds the permit.
        self.mutex.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `MutexGuard::deref_mut`.
        self.mutex.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.sem.release(1);
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
