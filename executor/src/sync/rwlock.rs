//! [`RwLock`]: an async reader-writer lock whose `read` and `write` are
//! cancel-aware await points.
//!
//! It is a [`Semaphore`] with [`MAX_READS`] permits plus the data: a reader
//! acquires one permit, a writer all of them. The semaphore is fair (FIFO),
//! so the lock is **fair**: a writer waits for the readers ahead of it and
//! readers that come after a waiting writer wait for it — neither readers
//! nor writers starve, and a steady stream of readers cannot lock a writer
//! out. A cancelled `read`/`write` holds nothing; permits handed to it while
//! it waited go on to the next waiter.

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use quell_cancel::Cancelled;

use super::error::AcquireError;
use super::mutex::TryLockError;
use super::semaphore::{Acquire, SemaphorePermit};
use super::Semaphore;
use crate::loom::UnsafeCell;

/// The most readers that may hold an [`RwLock`] at once.
pub const MAX_READS: u32 = u32::MAX >> 3;

/// A fair async reader-writer lock: readers share, a writer excludes
/// everyone, and waiters are served in FIFO order (a waiting writer blocks
/// readers that come after it; neither side starves). A cancelled
/// `read`/`write` holds nothing, and permits handed to it pass on.
///
/// ```
/// use quell_executor::sync::RwLock;
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let lock = RwLock::new(1);
///     {
///         let a = lock.read().await.unwrap();
///         let b = lock.read().await.unwrap(); // readers share
///         assert_eq!(*a + *b, 2);
///     }
///     *lock.write().await.unwrap() += 1;
///     assert_eq!(*lock.read().await.unwrap(), 2);
/// });
/// ```
pub struct RwLock<T> {
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the data moves with the lock.
unsafe impl<T: Send> Send for RwLock<T> {}
// SAFETY: readers share `&T` across threads (`T: Sync`); a writer may take
// `&mut T` on any thread (`T: Send`). The semaphore excludes a writer from
// everyone else, and its Acquire/Release hand-over orders the accesses.
unsafe impl<T: Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    ///
    /// ```
    /// let l = quell_executor::sync::RwLock::new('x');
    /// assert_eq!(l.into_inner(), 'x');
    /// ```
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            sem: Semaphore::new(MAX_READS as usize),
            data: UnsafeCell::new(value),
        }
    }

    /// Locks for reading, waiting (FIFO) while a writer holds the lock or
    /// waits ahead of us. A cancel-aware await point: `Err(Cancelled)`
    /// once the current task's cancellation is observed, holding nothing.
    ///
    /// ```
    /// use quell_cancel::Cause;
    /// use std::sync::Arc;
    /// use quell_executor::sync::RwLock;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let l = Arc::new(RwLock::new(0));
    ///     let w = l.write().await.unwrap();
    ///     let l2 = l.clone();
    ///     let task = quell_executor::spawn(async move { l2.read().await.is_ok() });
    ///     task.cancel(Cause::explicit("stop"));
    ///     assert!(!task.await.unwrap());
    ///     drop(w);
    ///     assert!(l.try_write().is_ok());
    /// });
    /// ```
    #[track_caller]
    pub fn read(&self) -> Read<'_, T> {
        Read {
            at: std::panic::Location::caller(),
            lock: self,
            acquire: self.sem.acquire(),
        }
    }

    /// Locks for writing, waiting (FIFO) for every holder ahead of us. A
    /// cancel-aware await point, like [`read`](Self::read).
    ///
    /// ```
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let l = quell_executor::sync::RwLock::new(vec![]);
    ///     l.write().await.unwrap().push(1);
    ///     assert_eq!(l.read().await.unwrap().len(), 1);
    /// });
    /// ```
    #[track_caller]
    pub fn write(&self) -> Write<'_, T> {
        Write {
            at: std::panic::Location::caller(),
            lock: self,
            acquire: self.sem.acquire_many(MAX_READS),
        }
    }

    /// Locks for reading if possible now. Never blocks and does not
    /// observe cancellation.
    ///
    /// ```
    /// let l = quell_executor::sync::RwLock::new(0);
    /// let r = l.try_read().unwrap();
    /// assert!(l.try_read().is_ok());
    /// assert!(l.try_write().is_err());
    /// drop(r);
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        let p = self.sem.try_acquire().map_err(|_| TryLockError::new())?;
        p.forget();
        Ok(RwLockReadGuard { lock: self })
    }

    /// Locks for writing if possible now. Never blocks and does not
    /// observe cancellation.
    ///
    /// ```
    /// let l = quell_executor::sync::RwLock::new(0);
    /// *l.try_write().unwrap() = 3;
    /// assert_eq!(*l.try_read().unwrap(), 3);
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        let p = self
            .sem
            .try_acquire_many(MAX_READS)
            .map_err(|_| TryLockError::new())?;
        p.forget();
        Ok(RwLockWriteGuard { lock: self })
    }

    /// The data, through `&mut` (no locking needed).
    ///
    /// ```
    /// let mut l = quell_executor::sync::RwLock::new(1);
    /// *l.get_mut() += 1;
    /// assert_eq!(l.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self`: no guard exists.
        self.data.with_mut(|p| unsafe { &mut *p })
    }

    /// Consumes the lock, returning the data.
    pub fn into_inner(self) -> T {
        let RwLock { data, .. } = self;
        data.into_inner()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").finish_non_exhaustive()
    }
}

/// The permit of a successful acquire, or the cancellation.
fn granted(r: Result<SemaphorePermit<'_>, AcquireError>) -> Result<(), Cancelled> {
    match r {
        Ok(p) => {
            p.forget(); // the guard returns it
            Ok(())
        }
        Err(AcquireError::Cancelled(c)) => Err(c),
        Err(AcquireError::Closed) => unreachable!("an RwLock's semaphore is never closed"),
    }
}

/// Future returned by [`RwLock::read`]; dropping it leaves the queue.
#[must_use = "futures do nothing unless polled"]
pub struct Read<'a, T> {
    /// The caller (task dumps show where a task waits).
    at: &'static std::panic::Location<'static>,
    lock: &'a RwLock<T>,
    acquire: Acquire<'a>,
}

impl<'a, T> Future for Read<'a, T> {
    type Output = Result<RwLockReadGuard<'a, T>, Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let p = self.as_mut().poll_waiting(cx);
        if p.is_pending() {
            quell_cancel::rt_internal::wait::record(&READ, Some(self.at), 0);
        }
        p
    }
}

/// `RwLock::read` (a task dump's await point): queued for a read lock.
static READ: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "RwLock::read",
        describe: None,
    };

impl<'a, T> Read<'a, T> {
    /// The poll, without the dump's record.
    #[inline]
    fn poll_waiting(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<RwLockReadGuard<'a, T>, Cancelled>> {
        let this = self.get_mut();
        let r = ready!(Pin::new(&mut this.acquire).poll(cx));
        Poll::Ready(granted(r).map(|()| RwLockReadGuard { lock: this.lock }))
    }
}

impl<T> fmt::Debug for Read<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Read").finish_non_exhaustive()
    }
}

/// Future returned by [`RwLock::write`]; dropping it leaves the queue.
#[must_use = "futures do nothing unless polled"]
pub struct Write<'a, T> {
    /// The caller (task dumps show where a task waits).
    at: &'static std::panic::Location<'static>,
    lock: &'a RwLock<T>,
    acquire: Acquire<'a>,
}

impl<'a, T> Future for Write<'a, T> {
    type Output = Result<RwLockWriteGuard<'a, T>, Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let p = self.as_mut().poll_waiting(cx);
        if p.is_pending() {
            quell_cancel::rt_internal::wait::record(&WRITE, Some(self.at), 0);
        }
        p
    }
}

/// `RwLock::write` (a task dump's await point): queued for the write lock.
static WRITE: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "RwLock::write",
        describe: None,
    };

impl<'a, T> Write<'a, T> {
    /// The poll, without the dump's record.
    #[inline]
    fn poll_waiting(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<RwLockWriteGuard<'a, T>, Cancelled>> {
        let this = self.get_mut();
        let r = ready!(Pin::new(&mut this.acquire).poll(cx));
        Poll::Ready(granted(r).map(|()| RwLockWriteGuard { lock: this.lock }))
    }
}

impl<T> fmt::Debug for Write<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Write").finish_non_exhaustive()
    }
}

/// Shared access to an [`RwLock`]'s data; dropping it unlocks.
#[must_use = "dropping a guard unlocks at once"]
pub struct RwLockReadGuard<'a, T> {
    lock: &'a RwLock<T>,
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read permit excludes writers (a writer holds all).
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to an [`RwLock`]'s data; dropping it unlocks.
#[must_use = "dropping a guard unlocks at once"]
pub struct RwLockWriteGuard<'a, T> {
    lock: &'a RwLock<T>,
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the writer holds every permit: no other guard exists.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` excludes other borrows.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(MAX_READS as usize);
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
