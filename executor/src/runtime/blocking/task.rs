//! A blocking task and the registry that makes it visible.
//!
//! A blocking task is an ordinary task (same header, `JoinHandle`, cancel
//! scope: `cancel::current()` works inside the closure) whose future runs
//! the closure on its first poll. Its scheduler is the pool's [`Registry`],
//! which plays the owned-task list's part for blocking tasks: it holds the
//! task's owned ref from spawn until the task completes, so the runtime's
//! `tasks()`, `num_tasks()` and shutdown report see queued and running
//! closures, with how long each has been running.
//!
//! # Invariants
//!
//! 1. An entry exists from spawn (before the task is queued) until the task
//!    completes (`Schedule::release`), whichever thread completes it.
//! 2. `thread` is set only by the pool thread about to run the closure and
//!    is never cleared: the entry is removed by `release`, which that same
//!    thread calls when the closure returns, before it can run anything
//!    else or exit. So a `pthread_kill` made under the registry lock to an
//!    entry's `thread` always targets the live thread that is running (or
//!    about to run) that entry's closure.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::task::{BlockingInfo, Id, Notified, RawTask, Schedule, Task, TaskInfo};

/// Runs the closure on first poll.
pub(super) struct BlockingTask<F>(pub(super) Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("blocking task polled after completion");
        Poll::Ready(f())
    }
}

/// One live blocking task.
struct Entry {
    /// The owned ref (invariant 1).
    task: Task<BlockingSchedule>,
    interruptible: bool,
    /// When its closure started; `None` while queued.
    started: Option<Instant>,
    /// The thread running it (invariant 2).
    thread: Option<libc::pthread_t>,
    /// Interrupt signals sent so far (the resend backoff).
    signals: u32,
}

/// The live blocking tasks of one pool.
#[derive(Default)]
pub(super) struct Registry {
    live: Mutex<HashMap<Id, Entry>>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<Id, Entry>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Invariant 1: called at spawn, before the task is queued.
    pub(super) fn insert(&self, task: Task<BlockingSchedule>, interruptible: bool) {
        let id = task.header().id;
        let entry = Entry {
            task,
            interruptible,
            started: None,
            thread: None,
            signals: 0,
        };
        self.lock().insert(id, entry);
    }

    /// The pool thread is about to run `id`'s closure (invariant 2).
    /// Returns whether the task was spawned interruptible.
    pub(super) fn start(&self, id: Id) -> bool {
        let mut live = self.lock();
        match live.get_mut(&id) {
            Some(e) => {
                e.started = Some(Instant::now());
                // SAFETY: pthread_self has no preconditions.
                e.thread = Some(unsafe { libc::pthread_self() });
                e.interruptible
            }
            None => false,
        }
    }

    /// Sends the interrupt signal to the thread running `id`, if it is
    /// running; returns the delay after which to send it again, or `None`
    /// if the task is no longer running (stop resending).
    pub(super) fn interrupt(&self, id: Id) -> Option<Duration> {
        let mut live = self.lock();
        let e = live.get_mut(&id)?;
        let thread = e.thread?;
        // Under the lock: invariant 2 keeps `thread` alive.
        super::interrupt::send(thread);
        e.signals = e.signals.saturating_add(1);
        Some(super::interrupt::resend_after(e.signals))
    }

    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Calls `f` with each live blocking task, when its closure started
    /// (`None`: queued) and whether it is interruptible. Refs are taken
    /// under the lock and `f` runs after it is released.
    pub(super) fn for_each(&self, mut f: impl FnMut(&RawTask, Option<Instant>, bool)) {
        let refs: Vec<(RawTask, Option<Instant>, bool)> = self
            .lock()
            .values()
            .map(|e| {
                // The entry's ref keeps the task alive while we take ours.
                e.task.raw().ref_inc();
                (e.task.raw(), e.started, e.interruptible)
            })
            .collect();
        for (t, started, interruptible) in refs {
            f(&t, started, interruptible);
            t.drop_reference();
        }
    }

    /// The live blocking tasks, oldest first (queued ones last).
    pub(super) fn tasks(&self) -> Vec<TaskInfo> {
        let now = Instant::now();
        let mut v: Vec<(Option<Instant>, TaskInfo)> = self
            .lock()
            .values()
            .map(|e| {
                let mut info = TaskInfo::of(e.task.header());
                info.blocking = Some(BlockingInfo {
                    running_for: e.started.map(|s| now.saturating_duration_since(s)),
                    interruptible: e.interruptible,
                });
                (e.started, info)
            })
            .collect();
        v.sort_by_key(|(started, info)| (started.is_none(), *started, info.id));
        v.into_iter().map(|(_, i)| i).collect()
    }
}

/// The scheduler of a blocking task: its registry.
#[derive(Clone)]
pub(crate) struct BlockingSchedule {
    pub(super) registry: Arc<Registry>,
}

impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified<Self>) {
        // Blocking tasks never return `Pending`, so a wake only reaches
        // here while the closure runs (a handle-cancel notifying it): the
        // pool already runs it; drop the ref.
        drop(task);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        let id = task.header().id;
        let mut live = self.registry.lock();
        match live.get(&id) {
            Some(e) if e.task.raw() == task.raw() => live.remove(&id).map(|e| e.task),
            _ => None,
        }
    }
}

/// The interrupt side of a running task: its scope's token, for the pool
/// thread to register the interrupt waker with.
pub(super) fn scope_token(task: &Notified<BlockingSchedule>) -> quell_cancel::CancelToken {
    let mut token = None;
    RawTask::from_header(task.header()).with_scope(&mut |s| token = s.scope_token().cloned());
    // About to run, so not complete: the own slot is not sealed, and the
    // scope token (the own node, made if needed) exists.
    token.expect("a task that has not run has its scope token")
}
