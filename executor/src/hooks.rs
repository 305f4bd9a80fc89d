//! Opt-in callbacks at runtime events: thread start/stop, task
//! spawn/terminate, before/after each poll (docs/observability.md).
//!
//! # Panicking hooks
//!
//! A hook runs on a worker (or blocking-pool) thread, inside the runtime's
//! own bookkeeping, so a panic must not unwind through it. Each call is
//! wrapped in `catch_unwind`: the panic is swallowed, the first panic of
//! each hook is reported with one line on stderr, and the hook keeps being
//! called afterwards (a hook that panics once, say on one odd task, is not
//! switched off for every other task). The runtime is never poisoned.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use crate::task::header::Header;
use crate::task::Id;

/// What a task hook is told about the task
/// ([`Builder::on_task_spawn`](crate::runtime::Builder::on_task_spawn),
/// [`Builder::on_task_terminate`](crate::runtime::Builder::on_task_terminate)).
#[derive(Clone, Copy)]
pub struct TaskMeta<'a> {
    id: Id,
    name: Option<&'a str>,
    location: &'static Location<'static>,
}

impl<'a> TaskMeta<'a> {
    /// The task's id (the one `before_poll` / `after_poll` receive).
    pub fn id(&self) -> Id {
        self.id
    }

    /// The name given at spawn, if any.
    pub fn name(&self) -> Option<&'a str> {
        self.name
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// # Safety
    ///
    /// `h` is the header of a live task.
    pub(crate) unsafe fn of(h: &'a Header) -> TaskMeta<'a> {
        // SAFETY: live task per the contract.
        let trailer = unsafe { Header::trailer(std::ptr::NonNull::from(h)) };
        TaskMeta {
            id: h.id,
            name: trailer.name.as_deref(),
            location: trailer.location,
        }
    }
}

impl fmt::Debug for TaskMeta<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskMeta")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("location", &format_args!("{}", self.location))
            .finish()
    }
}

pub(crate) type ThreadHook = Arc<dyn Fn() + Send + Sync>;
pub(crate) type TaskHook = Arc<dyn Fn(&TaskMeta<'_>) + Send + Sync>;
pub(crate) type PollHook = Arc<dyn Fn(Id) + Send + Sync>;

/// The hooks set on the builder.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) thread_start: Option<ThreadHook>,
    pub(crate) thread_stop: Option<ThreadHook>,
    pub(crate) task_spawn: Option<TaskHook>,
    pub(crate) task_terminate: Option<TaskHook>,
    pub(crate) before_poll: Option<PollHook>,
    pub(crate) after_poll: Option<PollHook>,
    /// Whether each hook's first panic was reported (by `Which`).
    reported: Arc<[AtomicBool; 6]>,
}

#[derive(Clone, Copy)]
enum Which {
    ThreadStart,
    ThreadStop,
    TaskSpawn,
    TaskTerminate,
    BeforePoll,
    AfterPoll,
}

impl Which {
    fn name(self) -> &'static str {
        match self {
            Which::ThreadStart => "on_thread_start",
            Which::ThreadStop => "on_thread_stop",
            Which::TaskSpawn => "on_task_spawn",
            Which::TaskTerminate => "on_task_terminate",
            Which::BeforePoll => "before_poll",
            Which::AfterPoll => "after_poll",
        }
    }
}

impl Hooks {
    /// Whether any task or poll hook is set (the scheduler keeps the hooks
    /// only then, so that a runtime without them pays one `None` check).
    pub(crate) fn has_task_hooks(&self) -> bool {
        self.task_spawn.is_some()
            || self.task_terminate.is_some()
            || self.before_poll.is_some()
            || self.after_poll.is_some()
    }

    fn call(&self, which: Which, f: impl FnOnce()) {
        call_contained(which.name(), &self.reported[which as usize], f);
    }

    pub(crate) fn thread_start(&self) {
        if let Some(h) = &self.thread_start {
            self.call(Which::ThreadStart, || h());
        }
    }

    pub(crate) fn thread_stop(&self) {
        if let Some(h) = &self.thread_stop {
            self.call(Which::ThreadStop, || h());
        }
    }

    pub(crate) fn task_spawn(&self, meta: &TaskMeta<'_>) {
        if let Some(h) = &self.task_spawn {
            self.call(Which::TaskSpawn, || h(meta));
        }
    }

    pub(crate) fn task_terminate(&self, meta: &TaskMeta<'_>) {
        if let Some(h) = &self.task_terminate {
            self.call(Which::TaskTerminate, || h(meta));
        }
    }

    pub(crate) fn before_poll(&self, id: Id) {
        if let Some(h) = &self.before_poll {
            self.call(Which::BeforePoll, || h(id));
        }
    }

    pub(crate) fn after_poll(&self, id: Id) {
        if let Some(h) = &self.after_poll {
            self.call(Which::AfterPoll, || h(id));
        }
    }
}

/// Runs the user callback `f` (the hook, or the leak watchdog's callback,
/// named `name`) with its panic contained: the first panic is reported on
/// stderr once (`reported` remembers it), later ones silently; the caller
/// keeps calling the callback.
pub(crate) fn call_contained(name: &str, reported: &AtomicBool, f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        if !reported.swap(true, Relaxed) {
            let msg = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(non-string panic payload)");
            eprintln!(
                "quell: the {name} hook panicked: {msg} (contained; reported once, the hook keeps being called)"
            );
        }
        // The payload's destructor could panic too: contain it.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("thread_start", &self.thread_start.is_some())
            .field("thread_stop", &self.thread_stop.is_some())
            .field("task_spawn", &self.task_spawn.is_some())
            .field("task_terminate", &self.task_terminate.is_some())
            .field("before_poll", &self.before_poll.is_some())
            .field("after_poll", &self.after_poll.is_some())
            .finish()
    }
}
