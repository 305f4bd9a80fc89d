//! Tasks (the G of M:P:G): one allocation per spawned future.
//!
//! ```text
//! state.rs   the state word: bits, refcount, every transition
//! header.rs  the allocation layout (Header | Trailer | S | Stage<F>) and vtable
//! raw.rs     type-erased pointers and ref-owning handles (Task, Notified)
//! harness.rs poll / complete / abort / shutdown / join, per (F, S)
//! waker.rs   the waker vtable (a waker is a ref)
//! scope.rs   a task's cancel scope; lend.rs a spawn inheriting it lazily
//! join.rs    JoinHandle, AbortHandle
//! grace.rs   abort after a grace, on the task's scheduler's timer
//! group/     task groups: TaskGroup, TryTaskGroup, scope
//! cancel_on_drop.rs  CancelOnDrop: a join handle whose drop cancels the task
//! list.rs    the owned-task list (shutdown drops every future)
//! local.rs   spawn_local, LocalSet: `!Send` tasks bound to one thread
//! task_local.rs  task_local!, LocalKey: a value scoped to a future
//! error.rs   JoinError
//! ```
//!
//! The life of a task is in docs/architecture.md.

#[cfg(not(loom))]
mod cancel_on_drop;
mod error;
#[cfg(not(loom))]
mod grace;
pub mod group;
mod harness;
pub(crate) mod header;
mod id;
mod join;
mod lend;
pub(crate) mod list;
#[cfg(not(loom))]
mod local;
mod raw;
mod scope;
// The spawn API needs the runtime, which is compiled out under loom.
#[cfg(not(loom))]
mod spawn;
pub(crate) mod state;
#[cfg(not(loom))]
mod task_local;
mod waker;
mod yield_now;

use std::future::Future;
use std::panic::Location;

#[cfg(not(loom))]
pub use cancel_on_drop::CancelOnDrop;
pub use error::JoinError;
#[cfg(not(loom))]
pub use group::{scope, GroupError, Scope, TaskGroup, TryTaskGroup, DEFAULT_DROP_GRACE};
pub(crate) use harness::inherit_from;
pub(crate) use header::Header;
pub use id::Id;
pub use join::{AbortHandle, JoinHandle};
#[cfg(not(loom))]
pub use local::{spawn_local, LocalSet};
pub(crate) use raw::{Notified, RawTask, Task};
pub(crate) use scope::Binding;
#[cfg(not(loom))]
pub use spawn::{spawn, spawn_blocking, SpawnBuilder};
#[cfg(not(loom))]
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};
pub use yield_now::yield_now;

use quell_cancel::CancelToken;

/// What a task needs from the scheduler that owns it.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Queue a task that was woken (from any thread).
    fn schedule(&self, task: Notified<Self>);

    /// Re-queue a task that was woken while it ran (its own yield): it goes
    /// to the back of the local queue, not the LIFO slot.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task);
    }

    /// The task completed: remove it from the owned list.
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>>;

    /// The runtime's root token, which resolves [`Binding::Root`].
    fn root_token(&self) -> Option<&CancelToken> {
        None
    }

    /// Wakes `waker` once at `deadline` from this scheduler's timer (how a
    /// runtime policy such as abort-after-grace acts on one of its tasks
    /// with no thread and no task of its own). `Err` hands the waker back
    /// when the scheduler has no timer, or its timer shut down.
    fn wake_at(
        &self,
        deadline: std::time::Instant,
        waker: std::task::Waker,
    ) -> Result<(), std::task::Waker> {
        let _ = deadline;
        Err(waker)
    }

    /// The task is about to complete (its output is stored, no join has
    /// seen it yet): the runtime's `on_task_terminate` hook. Defaults to
    /// doing nothing.
    fn task_terminated(&self, task: &header::Header) {
        let _ = task;
    }

    /// Whether a task's future may be polled or dropped on any thread.
    /// `false` for a scheduler whose tasks belong to one thread
    /// (`spawn_local`, whose futures are `!Send`): an `abort` from
    /// elsewhere then queues the task for its owner instead of dropping
    /// the future on the calling thread.
    const ANY_THREAD: bool = true;
}

/// Spawn-time metadata.
pub(crate) struct Meta {
    /// What the task inherits (its scope's parent).
    pub(crate) binding: Binding,
    pub(crate) name: Option<Box<str>>,
    pub(crate) location: &'static Location<'static>,
    /// The id of the task that spawns it (0: none), for task dumps.
    pub(crate) parent: u64,
}

/// Allocates a task: returns the owned-list handle, the first `Notified`
/// and the `JoinHandle` (the three refs of the initial state).
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    meta: Meta,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: the future and its output are `Send`, so any thread may poll
    // and drop them.
    unsafe { alloc_task(future, scheduler, meta) }
}

/// The allocation behind [`new_task`] and [`new_local_task`].
///
/// # Safety
///
/// Unless `F` and `F::Output` are `Send`, the caller must uphold
/// [`new_local_task`]'s contract.
#[inline]
unsafe fn alloc_task<F, S>(
    future: F,
    scheduler: S,
    meta: Meta,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    let id = Id::next();
    let cell = header::Cell::new(future, scheduler, id, raw::vtable::<F, S>(), meta);
    let raw = RawTask::new(cell);
    // SAFETY: the initial state holds three refs, one for each handle.
    unsafe {
        (
            Task::from_raw(raw),
            Notified::from_raw(raw),
            JoinHandle::new(raw),
        )
    }
}

/// Allocates a task whose future need not be `Send` (`spawn_local`): as
/// [`new_task`] otherwise.
///
/// # Safety
///
/// The future (and an output that is not `Send`) must be polled and
/// dropped only on the thread that calls this. `S` must therefore set
/// [`Schedule::ANY_THREAD`] to `false` and run and shut down its tasks only
/// on that thread; the `JoinHandle` is `Send` only when the output is.
#[cfg(not(loom))]
pub(crate) unsafe fn new_local_task<F, S>(
    future: F,
    scheduler: S,
    meta: Meta,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    debug_assert!(!S::ANY_THREAD);
    // SAFETY: this function's contract is `alloc_task`'s.
    unsafe { alloc_task(future, scheduler, meta) }
}

/// Introspection of a live task (for shutdown reports and dumps).
#[derive(Debug, Clone)]
pub struct TaskInfo {
    /// The task's id.
    pub id: Id,
    /// The name given at spawn, if any.
    pub name: Option<String>,
    /// Where the task was spawned.
    pub location: &'static Location<'static>,
    /// Whether the task's cancel scope is cancelled: by its handle, its
    /// token or any ancestor, or a deadline (what its await points answer).
    pub cancelled: bool,
    /// For a `spawn_blocking` task: whether its closure runs yet, and for
    /// how long. `None` for an async task.
    pub blocking: Option<BlockingInfo>,
}

/// What [`TaskInfo`] says of a blocking task.
#[derive(Debug, Clone)]
pub struct BlockingInfo {
    /// How long its closure has been running; `None` while it is queued.
    pub running_for: Option<std::time::Duration>,
    /// Whether it was spawned interruptible
    /// ([`SpawnBuilder::interruptible`]).
    pub interruptible: bool,
}

impl TaskInfo {
    pub(crate) fn of(h: &header::Header) -> TaskInfo {
        let raw = RawTask::from_header(h);
        // SAFETY: the header belongs to a live task (the caller holds the
        // owned-list lock, whose entry owns a ref).
        let trailer = unsafe { header::Header::trailer(raw.header_ptr()) };
        let mut cancelled = false;
        raw.with_scope(&mut |s| cancelled = s.scope.is_cancelled(s.root));
        TaskInfo {
            id: h.id,
            name: trailer.name.as_deref().map(str::to_owned),
            location: trailer.location,
            cancelled,
            blocking: None,
        }
    }
}
