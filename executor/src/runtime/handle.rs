//! `Handle`: a cloneable reference to a runtime, usable from any thread.

use std::fmt;
use std::future::Future;
use std::panic::Location;

use quell_cancel::rt_internal::wait;
use quell_cancel::{rt_internal as cancel_cx, CancelToken};

use super::blocking::{BlockingOptions, BlockingSpawner};
use super::context;
use super::flavor::Scheduler;
use crate::loom::Arc;
use crate::metrics::{RuntimeHistograms, RuntimeMetrics};
use crate::task::{self, Binding, JoinHandle};

/// A handle to a runtime: spawn onto it from any thread.
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<Inner>,
}

// Unwind safe for the reasons given beside `Runtime`'s impls (mod.rs).
impl std::panic::UnwindSafe for Handle {}
impl std::panic::RefUnwindSafe for Handle {}

pub(crate) struct Inner {
    pub(crate) sched: Scheduler,
    pub(crate) blocking: BlockingSpawner,
    pub(crate) root: CancelToken,
    pub(crate) io: quell_io_driver::rt_internal::Handle,
    pub(crate) cancel_binding: bool,
    pub(crate) shutdown_policy: super::ShutdownPolicy,
}

/// Which token a new task binds to.
pub(crate) enum TokenChoice {
    /// The spawner's current token (the runtime root outside any task).
    Inherit,
    /// This token.
    Explicit(CancelToken),
    /// A fresh root, unaffected by any existing token.
    Detached,
}

/// Error of [`Handle::try_current`]: not inside a quell runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("there is no quell runtime on this thread: call this from a task, from `block_on`, or use `Runtime::handle()`")
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the runtime this thread runs in (a worker, a
    /// `block_on` caller, or a blocking-pool thread).
    ///
    /// # Panics
    ///
    /// Outside a runtime; see [`try_current`](Self::try_current).
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(h) => h,
            Err(e) => panic!("{e}"),
        }
    }

    /// The current runtime's handle, or an error outside a runtime.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_current(|h| h.cloned()).ok_or(TryCurrentError(()))
    }

    /// Spawns a task onto this runtime. After the runtime shut down, the
    /// task is not run: its future is dropped and the handle yields a
    /// `JoinError` with `is_shutdown()`. On a current-thread runtime the
    /// task runs once a thread is inside `block_on`.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(future, None, TokenChoice::Inherit, Location::caller())
    }

    /// Runs `f` on the blocking pool; see [`crate::task::spawn_blocking`].
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn_blocking_with(f, None, TokenChoice::Inherit, false, Location::caller())
    }

    pub(crate) fn spawn_blocking_with<F, R>(
        &self,
        f: F,
        name: Option<&str>,
        token: TokenChoice,
        interruptible: bool,
        location: &'static Location<'static>,
    ) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        // Blocking tasks have no scheduler root to reach: hold the token.
        let (binding, parent) = self.binding_for(token, false);
        let binding = match binding {
            Binding::Root => Binding::Inherit(self.inner.root.clone()),
            b => b,
        };
        let opts = BlockingOptions {
            binding,
            name,
            interruptible,
            location,
            parent,
        };
        self.inner.blocking.spawn(self, f, opts)
    }

    /// The runtime's root cancel token: cancelling it cancels every task
    /// that inherited it.
    pub fn root_token(&self) -> &CancelToken {
        &self.inner.root
    }

    /// Number of live tasks (spawned and not yet completed), blocking
    /// tasks (queued or running) included.
    pub fn num_tasks(&self) -> usize {
        self.inner.sched.num_tasks() + self.inner.blocking.num_tasks()
    }

    /// The live tasks: id, name, spawn location, whether each one's cancel
    /// scope is cancelled, and for blocking tasks how long their closure
    /// has been running ([`TaskInfo::blocking`](task::TaskInfo::blocking));
    /// async tasks first, then blocking ones.
    pub fn tasks(&self) -> Vec<task::TaskInfo> {
        let mut v = self.inner.sched.tasks();
        v.extend(self.inner.blocking.tasks());
        v
    }

    /// A dump of every live task, async and blocking: its state, the await
    /// point it is parked on and what that waits for, its cancel state
    /// (since when, why, by whom) and deadline, and the cancel tree of
    /// their scopes. `Display` gives the text form;
    /// [`Dump::to_dot`](super::Dump::to_dot) the tree as Graphviz DOT.
    /// docs/observability.md explains each field.
    ///
    /// Collecting it never stops a worker for long: the task list is read
    /// in chunks, a shard's lock held only while refs of a few hundred
    /// tasks are taken; each task is read while the workers keep running.
    ///
    /// ```
    /// use std::time::Duration;
    /// use quell_executor::runtime::{Builder, TaskState};
    ///
    /// let rt = Builder::new().worker_threads(1).build().unwrap();
    /// let sleeper = rt.handle().spawn(quell_io_driver::time::sleep(Duration::from_secs(60)));
    /// // Wait until the task is parked in its sleep.
    /// let dump = loop {
    ///     let d = rt.handle().dump();
    ///     if d.task(sleeper.id()).is_some_and(|t| t.state == TaskState::Parked) {
    ///         break d;
    ///     }
    ///     std::thread::yield_now();
    /// };
    /// let entry = dump.task(sleeper.id()).unwrap();
    /// assert!(!entry.cancel.is_cancelled());
    /// println!("{dump}"); // the text form
    /// assert!(dump.to_dot().starts_with("digraph"));
    /// sleeper.abort();
    /// ```
    pub fn dump(&self) -> super::Dump {
        super::dump::collect(self)
    }

    /// A snapshot of the runtime's metrics: worker counters, queue depths,
    /// the blocking pool, the I/O driver, timers, and the histograms if
    /// enabled ([`Builder::enable_metrics_histograms`](super::Builder::enable_metrics_histograms)).
    /// Cheap enough to take often (no worker is stopped); see
    /// docs/observability.md for what each number means.
    ///
    /// The per-worker counters, the global queue and the histograms are the
    /// multi-thread scheduler's; a current-thread runtime reports no
    /// workers, `alive_tasks`, the pool, the driver and the timers.
    pub fn metrics(&self) -> RuntimeMetrics {
        let (worker, global_queue_depth, remote_schedules, histograms) = match &self.inner.sched {
            Scheduler::MultiThread(s) => {
                let worker: Vec<_> = (0..s.num_workers())
                    .map(|i| s.stats.worker_snapshot(i, s.remotes[i].steal.len()))
                    .collect();
                let histograms = s.stats.histograms().then(|| {
                    RuntimeHistograms::sum(worker.iter().filter_map(|w| w.histograms.as_ref()))
                });
                (
                    worker,
                    s.inject.len(),
                    s.stats.remote_schedules(),
                    histograms,
                )
            }
            Scheduler::CurrentThread { .. } => (Vec::new(), 0, 0, None),
        };
        let (blocking_threads, blocking_idle_threads, blocking_queue_depth) =
            self.inner.blocking.pool_stats();
        RuntimeMetrics {
            workers: self.inner.sched.num_workers(),
            alive_tasks: self.inner.sched.num_tasks(),
            global_queue_depth,
            remote_schedules,
            worker,
            blocking_threads,
            blocking_idle_threads,
            blocking_queue_depth,
            io_sources: self.inner.io.num_sources(),
            io_driver_turns: self.inner.io.num_turns() as u64,
            io_events: self.inner.io.num_events() as u64,
            active_timers: self.inner.io.num_timers(),
            histograms,
        }
    }

    /// The I/O driver's handle: its source and timer counts, and its
    /// shutdown. A test seam (feature `test-util`), not for production code.
    #[cfg(feature = "test-util")]
    pub fn io(&self) -> &quell_io_driver::rt_internal::Handle {
        &self.inner.io
    }

    /// Number of worker threads (0 for a current-thread runtime, whose
    /// tasks run on the thread inside `block_on`).
    pub fn num_workers(&self) -> usize {
        self.inner.sched.num_workers()
    }

    /// What a new task inherits (contract C10): the spawner's scope, so a
    /// cancel of the spawner (its handle, its token, a deadline scope it is
    /// in) reaches the new task — through the spawner task itself when
    /// spawned from the task's own frame, resolved by the new task at its
    /// first poll (`task/lend.rs`); inside a shield a fresh root (the shield's
    /// view: the spawner's cancellation does not reach it, and a task
    /// spawned by cleanup code is not born cancelled); outside any task the
    /// runtime root, bound without a ref so that spawning under the root
    /// touches no shared refcount.
    ///
    /// Also returns the id of the task being polled on this thread (0:
    /// none), the new task's parent in task dumps, read in the same visit
    /// of the current-task context as the spawner's scope.
    ///
    /// `lend`: whether the new task is one of this runtime's scheduler
    /// (whose root token resolves the spawner's), which may inherit
    /// through the spawner task; blocking and local tasks (whose scheduler
    /// has no root token) inherit the scope token itself.
    pub(crate) fn binding_for(&self, choice: TokenChoice, lend: bool) -> (Binding, u64) {
        let root = &self.inner.root;
        match choice {
            TokenChoice::Inherit if self.inner.cancel_binding && !cancel_cx::is_shielded() => {
                cancel_cx::with_current(|t| match t {
                    Some(t) => {
                        // The task's own frame: inherit through the task,
                        // so that no node is made until one is needed
                        // (`task/lend.rs`).
                        let lent = t
                            .runtime_task()
                            .filter(|_| lend)
                            // SAFETY: the frame's own answer, on this
                            // thread, while it is current.
                            .and_then(|f| unsafe { task::inherit_from(f, root) });
                        lent.unwrap_or_else(|| match t.scope_token() {
                            tok if tok.same(root) => (Binding::Root, t.task_id()),
                            tok => (Binding::Inherit(tok), t.task_id()),
                        })
                    }
                    None => (Binding::Root, 0),
                })
            }
            choice => {
                let parent = wait::current_task().unwrap_or(0);
                let binding = match choice {
                    _ if !self.inner.cancel_binding => Binding::Off,
                    TokenChoice::Inherit | TokenChoice::Detached => {
                        Binding::Token(CancelToken::new())
                    }
                    TokenChoice::Explicit(t) if t.same(root) => Binding::Root,
                    TokenChoice::Explicit(t) => Binding::Token(t),
                };
                (binding, parent)
            }
        }
    }

    pub(crate) fn spawn_with<F>(
        &self,
        future: F,
        name: Option<&str>,
        token: TokenChoice,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (binding, parent) = self.binding_for(token, true);
        let meta = task::Meta {
            binding,
            name: name.map(Into::into),
            location,
            parent,
        };
        // After shutdown the future is dropped now; the handle reports it.
        self.inner.sched.spawn(future, meta)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.num_workers())
            .finish_non_exhaustive()
    }
}
