//! `spawn_local` and [`LocalSet`]: tasks whose futures are not `Send`.
//!
//! A `LocalSet` is a run queue of its own (the single-threaded scheduler
//! of `scheduler/current_thread.rs`) that belongs to the thread that made
//! it: its tasks are polled only inside [`LocalSet::run_until`] (or
//! [`LocalSet::block_on`]) on that thread, and their futures are dropped
//! there too — when they finish, when they are aborted (an abort from
//! another thread queues the task for its owner), or when the set is
//! dropped. The set itself is `!Send`, so it cannot leave its thread.
//!
//! Local tasks are tasks like any other for cancellation (contract C10):
//! a local task inherits its spawner's scope, its `JoinHandle` is a cancel
//! point and has `cancel`/`abort`, and a cancel wakes it wherever it is
//! parked (a socket, a timer, a channel). I/O and timers come from the
//! runtime whose context drives the set.

use std::cell::RefCell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use quell_cancel::{rt_internal as cancel_cx, CancelToken};

use super::{new_local_task, Binding, JoinHandle, Meta};
use crate::loom::Arc;
use crate::runtime::{context, Runtime, TokenChoice};
use crate::scheduler::current_thread::{Shared, Sleep, BATCH};

std::thread_local! {
    /// The set `spawn_local` spawns onto: the one being driven (or
    /// dropped) on this thread.
    static CURRENT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

/// Restores the thread's previous local set on drop.
struct Enter(Option<Arc<Shared>>);

impl Enter {
    fn new(shared: &Arc<Shared>) -> Enter {
        Enter(CURRENT.with(|c| c.borrow_mut().replace(shared.clone())))
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let prev = self.0.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
    }
}

/// A set of tasks that run on the current thread, whose futures need not
/// be `Send` (tokio's `LocalSet`).
///
/// Its tasks run while [`run_until`](Self::run_until) is being polled on
/// this thread, interleaved with the future given to it; a current-thread
/// runtime's `block_on` drives one for you, so [`spawn_local`] works there
/// directly. Dropping the set drops every unfinished task's future, on this
/// thread.
///
/// ```
/// use std::rc::Rc;
/// use quell_executor::task::{spawn_local, LocalSet};
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// let local = LocalSet::new();
/// let n = local.block_on(&rt, async {
///     let shared = Rc::new(20); // not Send
///     let s = shared.clone();
///     let h = spawn_local(async move { *s + 1 });
///     h.await.unwrap() + *shared + 1
/// });
/// assert_eq!(n, 42);
/// ```
///
/// A `LocalSet` cannot be sent to another thread:
///
/// ```compile_fail
/// let local = quell_executor::task::LocalSet::new();
/// std::thread::spawn(move || drop(local));
/// ```
///
/// nor can the handle of a local task whose output is not `Send` (its
/// output is read or dropped where the handle is):
///
/// ```compile_fail
/// let local = quell_executor::task::LocalSet::new();
/// let h = local.spawn_local(async { std::rc::Rc::new(1) });
/// std::thread::spawn(move || drop(h));
/// ```
pub struct LocalSet {
    shared: Arc<Shared>,
    _not_send: PhantomData<*const ()>,
}

impl LocalSet {
    /// An empty set, owned by this thread.
    pub fn new() -> LocalSet {
        LocalSet {
            shared: Shared::new(None),
            _not_send: PhantomData,
        }
    }

    /// Spawns a `!Send` task onto this set (it runs once the set is
    /// driven). It inherits the spawner's cancel scope, as [`spawn_local`]
    /// does; spawned outside any runtime and task, it gets a fresh root
    /// token, which only its `JoinHandle` (and dropping the set) stops.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_on(&self.shared, future, Location::caller())
    }

    /// Runs `future` to completion, running this set's tasks whenever it
    /// is polled; `spawn_local` inside it spawns onto this set. Await it
    /// in `block_on` (or use [`block_on`](Self::block_on)): the returned
    /// future is `!Send`, so it cannot be spawned on worker threads.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        poll_fn(|cx| self.poll_run(future.as_mut(), cx)).await
    }

    /// `rt.block_on(self.run_until(future))`.
    ///
    /// # Panics
    ///
    /// As [`Runtime::block_on`]: on a thread that already drives a runtime.
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }

    fn poll_run<F: Future>(&self, future: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let shared = &self.shared;
        let _enter = Enter::new(shared);
        let _driving = shared.enter_driving();
        if let Poll::Ready(v) = future.poll(cx) {
            return Poll::Ready(v);
        }
        if shared.run_batch() == BATCH {
            // More may be queued: yield to whatever drives us (I/O,
            // timers, other tasks) and come back.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        // The wake protocol's step 3 (current_thread.rs), with the outer
        // context's waker as the hook.
        if shared.sleep_unless_work(cx.waker()) == Sleep::Work {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl Default for LocalSet {
    fn default() -> Self {
        LocalSet::new()
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        // On the owner thread (the set is `!Send`): the futures are
        // dropped here. A `spawn_local` in a destructor finds the set
        // closed and drops its future at once.
        let _enter = Enter::new(&self.shared);
        self.shared.shutdown();
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("tasks", &self.shared.owned.len())
            .finish()
    }
}

/// Spawns a `!Send` future onto the [`LocalSet`] being driven on this
/// thread (inside `LocalSet::run_until`, or a current-thread runtime's
/// `block_on`). The task runs only on this thread; it inherits the
/// spawner's cancel scope, and its `JoinHandle` can cancel or abort it
/// like any task's.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let rt = quell_executor::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let hits = Rc::new(Cell::new(0));
///     let h = hits.clone();
///     quell_executor::task::spawn_local(async move { h.set(h.get() + 1) })
///         .await
///         .unwrap();
///     assert_eq!(hits.get(), 1);
/// });
/// ```
///
/// # Panics
///
/// Outside a local context: `spawn_local` needs a thread that drives a
/// `LocalSet` (a worker thread of the multi-thread runtime does not).
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let loc = Location::caller();
    match CURRENT.try_with(|c| c.borrow().clone()).ok().flatten() {
        Some(shared) => spawn_on(&shared, future, loc),
        None => panic!(
            "`spawn_local` called outside a local context: call it inside \
             `LocalSet::run_until` / `LocalSet::block_on`, or on a current-thread \
             runtime (`runtime::Builder::new_current_thread`), or spawn onto a set \
             with `LocalSet::spawn_local`"
        ),
    }
}

/// What a local task inherits: the spawner's scope, as `spawn` does
/// (`Handle::binding_for`), with the runtime's root held as a token (a
/// set has no root of its own to resolve `Binding::Root`).
fn binding() -> Binding {
    let from_runtime = context::with_current(|h| {
        h.map(|h| match h.binding_for(TokenChoice::Inherit, false).0 {
            Binding::Root => Binding::Inherit(h.root_token().clone()),
            b => b,
        })
    });
    from_runtime.unwrap_or_else(
        || match cancel_cx::with_current(|t| t.map(|t| t.scope_token())) {
            Some(t) if !cancel_cx::is_shielded() => Binding::Inherit(t),
            _ => Binding::Token(CancelToken::new()),
        },
    )
}

fn spawn_on<F>(
    shared: &Arc<Shared>,
    future: F,
    location: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::with_current(|h| {
        if let Some(h) = h {
            shared.set_timer(h.inner.sched.driver());
        }
    });
    let meta = Meta {
        binding: binding(),
        name: None,
        location,
        parent: quell_cancel::rt_internal::wait::current_task().unwrap_or(0),
    };
    // SAFETY: `Shared` sets `ANY_THREAD = false` and polls and shuts down
    // its tasks only where the set is driven or dropped: on the thread
    // owning the `LocalSet` (`!Send`), which is this one — `spawn_local`
    // reaches only the set being driven or dropped on this thread, and
    // `LocalSet::spawn_local` takes `&self` of a `!Sync` set.
    let (task, notified, join) = unsafe { new_local_task(future, shared.clone(), meta) };
    // A set being dropped drops the future now, here.
    Shared::start(shared, task, notified);
    join
}
