//! Task-local values: [`task_local!`](crate::task_local) declares a
//! [`LocalKey`], and [`LocalKey::scope`] gives a future its own value.
//!
//! The value lives *in the future* returned by `scope`, not in the task:
//! each poll of that future moves the value into a thread-local slot, polls
//! the inner future, and moves it back out (a drop guard does the move
//! back, so a panic in the inner poll restores the slot too). So:
//!
//! * the value is there across every await point of the scoped future,
//!   whichever worker polls it (it travels with the future);
//! * another task polled on the same worker never sees it: between polls
//!   the slot holds whatever the enclosing code had (nothing, at the top of
//!   a task);
//! * nested scopes of one key stack: the inner poll swaps the outer value
//!   out and back in, unwinding included.
//!
//! Spawned tasks and `spawn_blocking` closures do not inherit task-locals
//! (a task is a new future); pass the value along, or open a scope inside.
//! Dropping a scoped future drops the inner future inside its scope, so
//! destructors see the value.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;

/// Declares task-local keys: `static`s of type [`LocalKey`], each with its
/// own visibility and attributes.
///
/// ```
/// quell_executor::task_local! {
///     /// The request being served.
///     pub static REQUEST_ID: u64;
///     static USER: String;
/// }
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(REQUEST_ID.scope(7, async {
///     quell_executor::task::yield_now().await;
///     assert_eq!(REQUEST_ID.get(), 7); // still there after an await
///     assert!(USER.try_with(|u| u.len()).is_err()); // no scope for USER
/// }));
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::task_local!($(#[$attr])* $vis static $name: $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = $crate::task::LocalKey::__new({
            ::std::thread_local! {
                static __QUELL_TASK_LOCAL: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            __QUELL_TASK_LOCAL
        });
    };
}

/// A key for a task-local value, declared with
/// [`task_local!`](crate::task_local). A value exists only inside
/// [`scope`](LocalKey::scope) (a future) or
/// [`sync_scope`](LocalKey::sync_scope) (a closure); there is no lazy
/// initial value.
///
/// ```
/// quell_executor::task_local! { static DEPTH: u32; }
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(DEPTH.scope(1, async {
///     assert_eq!(DEPTH.get(), 1);
///     DEPTH.scope(2, async { assert_eq!(DEPTH.get(), 2) }).await;
///     assert_eq!(DEPTH.get(), 1); // the outer value is back
/// }));
/// ```
pub struct LocalKey<T: 'static> {
    inner: thread::LocalKey<RefCell<Option<T>>>,
}

impl<T: 'static> LocalKey<T> {
    /// Used by [`task_local!`](crate::task_local); not public API.
    #[doc(hidden)]
    pub const fn __new(inner: thread::LocalKey<RefCell<Option<T>>>) -> LocalKey<T> {
        LocalKey { inner }
    }

    /// Runs `fut` with `value` as this key's value: every poll of the
    /// returned future sees it, across await points. The value is dropped
    /// with the returned future.
    ///
    /// # Panics
    ///
    /// The returned future panics if it is polled inside [`with`] or
    /// [`try_with`] of the same key (the value is borrowed there).
    ///
    /// [`with`]: LocalKey::with
    /// [`try_with`]: LocalKey::try_with
    pub fn scope<F: Future>(&'static self, value: T, fut: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            local: self,
            slot: Some(value),
            future: Some(fut),
        }
    }

    /// Runs the closure `f` with `value` as this key's value.
    ///
    /// ```
    /// quell_executor::task_local! { static NAME: &'static str; }
    ///
    /// let len = NAME.sync_scope("quell", || NAME.with(|n| n.len()));
    /// assert_eq!(len, 5);
    /// ```
    ///
    /// # Panics
    ///
    /// Inside [`with`](LocalKey::with) or [`try_with`](LocalKey::try_with)
    /// of the same key.
    pub fn sync_scope<F, R>(&'static self, value: T, f: F) -> R
    where
        F: FnOnce() -> R,
    {
        let mut slot = Some(value);
        self.enter(&mut slot, f)
    }

    /// Calls `f` with a reference to this key's value.
    ///
    /// # Panics
    ///
    /// Outside a [`scope`](LocalKey::scope) or
    /// [`sync_scope`](LocalKey::sync_scope) of this key; use
    /// [`try_with`](LocalKey::try_with) to get an error instead.
    #[track_caller]
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match self.try_with(f) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    /// Calls `f` with a reference to this key's value, or returns
    /// [`AccessError`] outside a scope of this key.
    ///
    /// ```
    /// quell_executor::task_local! { static TRACE: u64; }
    ///
    /// let err = TRACE.try_with(|t| *t).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "task-local value not set: not inside a `LocalKey::scope` or `sync_scope` of this key",
    /// );
    /// assert_eq!(TRACE.sync_scope(3, || TRACE.try_with(|t| *t)), Ok(3));
    /// ```
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        // `try_with` of the thread-local fails only while this thread is
        // being torn down: no scope can be running then either.
        let r = self.inner.try_with(|cell| {
            // A scope's own swaps never overlap a user borrow (they happen
            // before and after the scoped code), so this borrow succeeds.
            let v = cell.borrow();
            v.as_ref().map(f)
        });
        match r {
            Ok(Some(r)) => Ok(r),
            _ => Err(AccessError { _private: () }),
        }
    }

    /// A copy of this key's value.
    ///
    /// # Panics
    ///
    /// Outside a scope of this key, as [`with`](LocalKey::with).
    #[track_caller]
    pub fn get(&'static self) -> T
    where
        T: Copy,
    {
        self.with(|v| *v)
    }

    /// Runs `f` with `slot`'s value in this key's thread-local slot, and
    /// puts whatever the slot held before back afterwards, on unwind too.
    fn enter<F: FnOnce() -> R, R>(&'static self, slot: &mut Option<T>, f: F) -> R {
        struct Restore<'a, T: 'static> {
            key: &'static LocalKey<T>,
            slot: &'a mut Option<T>,
        }
        impl<T: 'static> Drop for Restore<'_, T> {
            fn drop(&mut self) {
                // Swapping back cannot fail: the swap in `enter` worked, so
                // the thread-local is alive, and `f` has returned or
                // unwound, so no borrow from `with` is left.
                self.key
                    .inner
                    .with(|cell| mem::swap(self.slot, &mut *cell.borrow_mut()));
            }
        }

        let swapped = self.inner.try_with(|cell| {
            cell.try_borrow_mut()
                .map(|mut held| mem::swap(slot, &mut *held))
                .is_ok()
        });
        match swapped {
            Ok(true) => {}
            Ok(false) => panic!(
                "a task-local scope was entered inside `LocalKey::with` or `try_with` \
                 of the same key"
            ),
            Err(_) => panic!("a task-local scope was entered while its thread is exiting"),
        }
        let _restore = Restore { key: self, slot };
        f()
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey").finish_non_exhaustive()
    }
}

/// The future returned by [`LocalKey::scope`].
#[must_use = "futures do nothing unless polled"]
pub struct TaskLocalFuture<T: 'static, F> {
    local: &'static LocalKey<T>,
    /// The value while the inner future is not being polled.
    slot: Option<T>,
    /// `None` once the inner future completed (or was dropped).
    future: Option<F>,
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of
        // a pinned `TaskLocalFuture` (it is only polled in place here and
        // dropped in place, by `Pin::set` here and in `Drop`). `slot` and
        // `local` are not pinned: moving them is fine (we never hand out a
        // `Pin` to them).
        let this = unsafe { self.get_unchecked_mut() };
        let local = this.local;
        let future = &mut this.future;
        local.enter(&mut this.slot, || {
            // SAFETY: see above; `future` stays where it is.
            let mut pinned = unsafe { Pin::new_unchecked(future) };
            let inner = pinned
                .as_mut()
                .as_pin_mut()
                .expect("`TaskLocalFuture` polled after completion");
            let out = inner.poll(cx);
            if out.is_ready() {
                // Drop the finished future in place, inside the scope.
                pinned.set(None);
            }
            out
        })
    }
}

impl<T: 'static, F> Drop for TaskLocalFuture<T, F> {
    fn drop(&mut self) {
        if !mem::needs_drop::<F>() || self.future.is_none() {
            return;
        }
        // SAFETY: `drop` has the last use of the (possibly pinned) future;
        // `Pin::set` drops it in place, it is not moved.
        let mut future = unsafe { Pin::new_unchecked(&mut self.future) };
        let local = self.local;
        // Drop it inside the scope, so its destructors see the value. If
        // the scope cannot be entered (the thread is exiting, or we are
        // inside `with` of this key), drop it outside instead.
        let entered = local.inner.try_with(|cell| cell.try_borrow_mut().is_ok());
        if matches!(entered, Ok(true)) {
            local.enter(&mut self.slot, || future.set(None));
        } else {
            future.set(None);
        }
    }
}

impl<T: 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("completed", &self.future.is_none())
            .finish_non_exhaustive()
    }
}

/// Returned by [`LocalKey::try_with`] outside a scope of the key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccessError {
    _private: (),
}

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessError")
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "task-local value not set: not inside a `LocalKey::scope` or `sync_scope` of this key",
        )
    }
}

impl Error for AccessError {}
