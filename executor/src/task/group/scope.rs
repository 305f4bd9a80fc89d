//! [`scope`]: a fallible group awaited in place (Trio's nursery, Kotlin's
//! `coroutineScope`): it returns only after every member has finished.

use std::error::Error;
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::task::Poll;

use quell_cancel::{rt_internal as cancel_cx, CancelToken, Cause, WaiterKey};

use super::error::GroupError;
use super::try_group::TryTaskGroup;
use crate::loom::{Arc, Mutex};
use crate::runtime::Handle;

/// Runs `body` with a [`Scope`] to spawn members into, and returns only
/// once the body *and every member* have finished.
///
/// * The body and the members run under the scope's token, a child of the
///   current scope: cancelling the caller cancels them all.
/// * The first failure — the body's `Err`, a member's `Err`, a member's
///   panic or abort — cancels the body and every member with one
///   `GroupFailure` cause carrying that error, and `scope` returns it as a
///   [`GroupError`] after everyone finished. Otherwise it returns the body's
///   value.
/// * Members still running when the body returns are joined (after a body
///   error: cancelled, then joined).
/// * If the `scope` future itself is dropped before it finished, its
///   members are cancelled (cause "task group dropped") and aborted after
///   the group's drop grace; a [`Scope`] that outlived it spawns nothing.
///
/// Members are `'static`: they cannot borrow the caller's stack (move what
/// they need into them; share with `Arc`), since they run as tasks that
/// may be polled on any worker.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use quell_executor::task::scope;
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// let total = rt.block_on(async {
///     let sum = Arc::new(AtomicU32::new(0));
///     let s2 = sum.clone();
///     scope(|s| async move {
///         for i in 1..=3 {
///             let sum = s2.clone();
///             s.spawn(async move {
///                 sum.fetch_add(i, Ordering::SeqCst);
///                 Ok::<_, std::io::Error>(())
///             });
///         }
///         Ok(()) // members still running are joined before `scope` returns
///     })
///     .await
///     .unwrap();
///     sum.load(Ordering::SeqCst)
/// });
/// assert_eq!(total, 6);
/// ```
///
/// # Panics
///
/// Outside a runtime.
pub async fn scope<E, F, Fut, R>(body: F) -> Result<R, GroupError<E>>
where
    E: Error + Send + Sync + 'static,
    F: FnOnce(Scope<E>) -> Fut,
    Fut: Future<Output = Result<R, E>>,
{
    let group = TryTaskGroup::<(), E>::new_on(&Handle::current(), &quell_cancel::current());
    let token = group.token().clone();
    let group = Arc::new(Mutex::new(group));
    let mut guard = Close {
        group: group.clone(),
        token: token.clone(),
        key: None,
    };
    let mut body = Box::pin(body(Scope {
        group: group.clone(),
    }));
    // `Some(value)` once the body returned `Ok`, `None` until then or after `Err`.
    let mut value = None;
    let mut body_done = false;
    poll_fn(|cx| {
        if !body_done {
            // The body's await points answer to the scope's token; its
            // cancel wakes this task wherever the body is parked.
            if guard.key.is_none() {
                guard.key = token.register_waker(cx.waker());
            }
            if let Poll::Ready(r) = cancel_cx::enter_scope(&token, || body.as_mut().poll(cx)) {
                body_done = true;
                if let Some(key) = guard.key.take() {
                    token.deregister_waker(key);
                }
                match r {
                    Ok(v) => value = Some(v),
                    Err(e) => {
                        lock(&group).fail(Cause::group_failure_error(e));
                    }
                }
            }
        }
        // Join members as they complete (their failures are recorded by
        // the group), so finished members are not kept until the body ends.
        let members_left = loop {
            match lock(&group).poll_join_next(cx) {
                Poll::Ready(Some(_)) => continue,
                Poll::Ready(None) => break false,
                Poll::Pending => break true,
            }
        };
        if !body_done || members_left {
            return Poll::Pending;
        }
        Poll::Ready(match lock(&group).first_failure() {
            Some(e) => Err(e),
            None => Ok(value.take().expect("the body returned Ok")),
        })
    })
    .await
}

fn lock<E>(g: &Mutex<TryTaskGroup<(), E>>) -> crate::loom::MutexGuard<'_, TryTaskGroup<(), E>> {
    g.lock().unwrap_or_else(|e| e.into_inner())
}

/// Closes the group when `scope` returns or its future is dropped.
struct Close<E> {
    group: Arc<Mutex<TryTaskGroup<(), E>>>,
    token: CancelToken,
    key: Option<WaiterKey>,
}

impl<E> Drop for Close<E> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.token.deregister_waker(key);
        }
        self.group.lock().unwrap_or_else(|e| e.into_inner()).close();
    }
}

/// Spawns members into a [`scope`]; cloneable, and can be moved into the
/// members themselves (a member may spawn siblings).
pub struct Scope<E> {
    group: Arc<Mutex<TryTaskGroup<(), E>>>,
}

impl<E: Error + Send + Sync + 'static> Scope<E> {
    /// Spawns a member. Returns `false`, without running `future`, once the
    /// scope has ended (a member never outlives its scope).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> bool
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let loc = Location::caller();
        lock(&self.group).spawn_inner(None, future, loc).is_some()
    }

    /// Spawns a named member; see [`spawn`](Self::spawn).
    #[track_caller]
    pub fn spawn_named<F>(&self, name: &str, future: F) -> bool
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let loc = Location::caller();
        lock(&self.group)
            .spawn_inner(Some(name), future, loc)
            .is_some()
    }

    /// The scope's token (the body and every member run under it).
    pub fn token(&self) -> CancelToken {
        lock(&self.group).token().clone()
    }
}

impl<E> Clone for Scope<E> {
    fn clone(&self) -> Self {
        Scope {
            group: self.group.clone(),
        }
    }
}

impl<E> fmt::Debug for Scope<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}
