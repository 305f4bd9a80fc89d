//! The multi-thread scheduler (the M and P of M:P:G).
//!
//! ```text
//!             ┌────────────── Handle (shared) ───────────────┐
//!  spawn/wake │ Inject (global FIFO)   Idle (searching/parked)│
//!  off-worker │ OwnedTasks (every live task)   SharedDriver   │
//!     ───────▶│ remotes[i]: Steal, LIFO slot, Unparker, tick  │
//!             └──────▲────────────────────▲───────────────────┘
//!                    │ steal              │ steal
//!        ┌───────────┴─────┐   ┌──────────┴──────┐
//!        │ worker 0 (M)    │   │ worker 1 (M)    │
//!        │ Core (P): local │   │ Core (P): local │
//!        │ queue, Parker   │   │ queue, Parker   │
//!        └─────────────────┘   └─────────────────┘
//! ```
//!
//! * `queue.rs`: crossbeam-deque wrappers (loom stand-ins under `cfg(loom)`).
//! * `idle.rs`: who searches, who sleeps, whom to wake (C5, with the proof).
//! * `park.rs`: thread parker / driver parking and unparking.
//! * `worker.rs`: the run loop, LIFO slot, fairness, budget.
//! * `lifo.rs`: whom a LIFO fill notifies, and when (C5, C13, with the proof).
//! * `steal.rs`: searching other workers (batch steal, LIFO rescue).
//! * `observed.rs`: one poll with its metrics and hooks around it.
//!
//! `current_thread.rs` is a separate, single-threaded scheduler (the
//! current-thread runtime, `LocalSet`); it shares nothing with the above.

pub(crate) mod current_thread;
mod idle;
mod lifo;
mod observed;
pub(crate) mod park;
pub(crate) mod queue;
mod steal;
pub(crate) mod worker;

use std::ptr::{self, NonNull};

use crossbeam_utils::CachePadded;

use crate::hooks::{Hooks, TaskMeta};
use crate::loom::atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, Ordering::*};
use crate::loom::{Arc, Mutex, OnceLock};
use crate::metrics::stats::Stats;
use crate::task::header::Header;
use crate::task::list::OwnedTasks;
use crate::task::{Notified, RawTask, Schedule, Task};

use idle::Idle;
use park::{SharedDriver, Unparker};
use queue::{Inject, Steal};

pub(crate) type Notif = Notified<Arc<Handle>>;

/// Scheduler settings (validated by the runtime builder).
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) global_queue_interval: u32,
    pub(crate) lifo_slot: bool,
    pub(crate) max_lifo_polls: u32,
    pub(crate) spin_before_park: u32,
    /// A deferred LIFO task that stayed this long in a busy owner's slot
    /// is taken by a searcher; a poll that runs this long after filling
    /// the slot makes the next fills offered (lifo.rs).
    pub(crate) lifo_steal_after: std::time::Duration,
    /// loom only: whether every LIFO fill is offered (lifo.rs step 1;
    /// outside loom the predictor decides from measured poll times).
    #[cfg(loom)]
    pub(crate) lifo_offer: bool,
    /// Every `event_interval` ticks a worker gives the I/O driver a
    /// non-blocking turn, so I/O and timers progress while all are busy.
    pub(crate) event_interval: u32,
}

/// What other threads can reach of one worker.
pub(crate) struct Remote {
    pub(crate) steal: Steal<Notif>,
    /// The LIFO slot: a `Notified` (as a raw header pointer, tagged with
    /// `lifo::OFFERED`) or null. Owned by whoever swaps it out; stealable by
    /// a searcher when offered or when the owner is stuck in a long poll
    /// (lifo.rs).
    pub(crate) lifo: AtomicPtr<crate::task::Header>,
    /// Incremented by the owner at each poll; lets a searcher tell that the
    /// owner has not moved on since it last looked.
    pub(crate) ticks: AtomicU32,
    pub(crate) unpark: OnceLock<Unparker>,
}

impl Remote {
    /// Whether this worker holds work another worker may take: a queued
    /// task, or an offered task in its LIFO slot (a deferred one is its
    /// owner's to run, lifo.rs). Relaxed loads: the callers say what orders
    /// them, or use the answer only as a hint.
    pub(crate) fn has_takeable_work(&self) -> bool {
        let p = self.lifo.load(Relaxed);
        !self.steal.is_empty() || (!p.is_null() && lifo::is_offered(p))
    }
}

/// The scheduler state shared by workers, wakers and handles.
pub(crate) struct Handle {
    pub(crate) remotes: Box<[CachePadded<Remote>]>,
    pub(crate) inject: Inject<Notif>,
    pub(crate) idle: Idle,
    pub(crate) owned: OwnedTasks<Arc<Handle>>,
    shutdown: AtomicBool,
    pub(crate) driver: Arc<SharedDriver>,
    pub(crate) config: Config,
    /// The runtime's root cancel token. Tasks spawned under it do not hold
    /// a ref of it (`Meta::root`): they reach it through here.
    pub(crate) root: quell_cancel::CancelToken,
    /// Cores not yet claimed by a worker thread (and returned at exit).
    /// Boxed: a core moves in and out of the worker's context at every
    /// poll, so it must be one pointer, not a large struct.
    #[allow(clippy::vec_box)]
    pub(crate) cores: Mutex<Vec<Box<worker::Core>>>,
    /// Metrics counters (one cache-padded block per worker).
    pub(crate) stats: Stats,
    /// Task and poll hooks; `None` when none is set (one check per poll).
    pub(crate) hooks: Option<Box<Hooks>>,
}

/// What the runtime observes (the builder's metrics and hook settings).
#[derive(Default)]
pub(crate) struct Observe {
    pub(crate) histograms: bool,
    pub(crate) hooks: Hooks,
}

impl Handle {
    /// A scheduler that observes nothing beyond the counters (loom models).
    #[cfg(loom)]
    pub(crate) fn new(num_workers: usize, config: Config, driver: SharedDriver) -> Arc<Handle> {
        Handle::with_observe(num_workers, config, driver, Observe::default())
    }

    pub(crate) fn with_observe(
        num_workers: usize,
        config: Config,
        driver: SharedDriver,
        observe: Observe,
    ) -> Arc<Handle> {
        // Wake batches of the cancel tree (one registration per process).
        quell_cancel::rt_internal::waiters::set_batch_hook(worker::wake_batch);
        let mut remotes = Vec::with_capacity(num_workers);
        let mut cores = Vec::with_capacity(num_workers);
        let stats = Stats::new(num_workers, observe.histograms);
        let hooks = observe
            .hooks
            .has_task_hooks()
            .then(|| Box::new(observe.hooks));
        for index in 0..num_workers {
            let (local, steal) = queue::local();
            remotes.push(CachePadded::new(Remote {
                steal,
                lifo: AtomicPtr::new(ptr::null_mut()),
                ticks: AtomicU32::new(0),
                unpark: OnceLock::new(),
            }));
            cores.push(Box::new(worker::Core::new(
                index,
                local,
                &config,
                num_workers,
                stats.workers[index].clone(),
                hooks.is_some(),
            )));
        }
        Arc::new(Handle {
            remotes: remotes.into_boxed_slice(),
            inject: Inject::new(),
            idle: Idle::new(num_workers),
            owned: OwnedTasks::new(),
            shutdown: AtomicBool::new(false),
            driver: Arc::new(driver),
            config,
            root: quell_cancel::CancelToken::new(),
            cores: Mutex::new(cores),
            stats,
            hooks,
        })
    }

    /// Stamps `task` as queued now, for the schedule-latency histogram
    /// (histograms on: a worker checks its core's flag first, the remote
    /// path `Stats::histograms`).
    #[cold]
    #[inline(never)]
    fn stamp_queued(&self, task: &Header) {
        // SAFETY: the caller holds a ref of the task (a `Notified`).
        let trailer = unsafe { Header::trailer(NonNull::from(task)) };
        // Relaxed: the queue that hands the task to its poller orders this
        // store before the poller's load.
        trailer
            .scheduled_at
            .store(self.stats.stamp_now(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Calls the spawn hook (if set) for a task just bound to the owned
    /// list. (Its schedule-latency stamp is taken when it is queued.)
    #[inline]
    pub(crate) fn task_spawned(&self, task: &Notif) {
        if let Some(h) = &self.hooks {
            spawn_hook(h, task);
        }
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        // Acquire pairs with the SeqCst store in `begin_shutdown`: a worker
        // that sees the flag also sees what shutdown wrote before it.
        self.shutdown.load(Acquire)
    }

    /// Queue a task from off-worker (or another runtime's worker).
    pub(crate) fn push_remote(&self, task: Notif) {
        self.stats.remote_scheduled();
        if self.stats.histograms() {
            self.stamp_queued(task.header());
        }
        self.inject.push(task);
        // Shutdown race: if shutdown's final drain may already have run,
        // drain ourselves so the task's ref is not stranded. This fence
        // pairs with the SeqCst store of the flag in `begin_shutdown` and
        // the fence in `finish_shutdown` before its `drain_inject` (a
        // store/load pair on each side: inject push / flag load here, flag
        // store / inject drain there). In their total order, either our
        // load sees the flag (we drain), or shutdown's drain, which comes
        // after its fence, sees our push. With weaker orderings both could
        // miss and the task's ref would leak.
        fence(SeqCst);
        // SeqCst: part of the same total order (see above).
        if self.shutdown.load(SeqCst) {
            self.drain_inject();
            return;
        }
        self.notify_parked();
    }

    /// Wake a parked worker if no one is searching (pusher steps 2–3 of
    /// the idle protocol). Returns whether workers were parked with none
    /// searching (whether or not this call woke one).
    #[inline]
    pub(crate) fn notify_parked(&self) -> bool {
        if !self.idle.notify_should_wakeup() {
            return false;
        }
        self.notify_sleeper();
        true
    }

    /// Pusher step 3 (out of line: most pushes stop at step 2).
    #[inline(never)]
    fn notify_sleeper(&self) {
        // Prefer a worker asleep on its thread (one futex wake) over the one
        // watching the driver, which keeps watching I/O and timers.
        let on_thread = |i: usize| {
            !self.remotes[i]
                .unpark
                .get()
                .is_some_and(|u| u.is_in_driver())
        };
        if let Some(index) = self.idle.sleeper_to_notify(on_thread) {
            self.unpark_worker(index);
        }
    }

    pub(crate) fn unpark_worker(&self, index: usize) {
        if let Some(u) = self.remotes[index].unpark.get() {
            lifo::waking(|| u.unpark());
        }
    }

    /// Any queue non-empty, or any LIFO slot holding an *offered* task
    /// (the last searcher's re-check, idle.rs parker step 2, lifo.rs step
    /// 7). A deferred LIFO task is not work for a searcher: its owner is
    /// awake and runs it (lifo.rs, "Why C5 holds"); counting it would keep
    /// an idle worker spinning while its neighbour ping-pongs.
    pub(crate) fn has_work_anywhere(&self) -> bool {
        // The Relaxed loads of `has_takeable_work` are ordered by the
        // caller's `fence(SeqCst)`, which pairs with the fence of the pusher
        // that queued or offered the task (`Idle::notify_should_wakeup`);
        // the steal or the CAS in `rescue_lifo` is what takes it.
        !self.inject.is_empty() || self.remotes.iter().any(|r| r.has_takeable_work())
    }

    /// Step 1 of shutdown: stop the workers.
    pub(crate) fn begin_shutdown(&self) {
        // SeqCst: in the total order with `push_remote`'s fence and load
        // (see there) and with `finish_shutdown`'s fence.
        self.shutdown.store(true, SeqCst);
        for i in 0..self.num_workers() {
            self.idle.unpark_worker_by_id(i);
            self.unpark_worker(i);
        }
    }

    /// After the workers have exited: drop every future, drain every queue.
    pub(crate) fn finish_shutdown(&self) {
        self.owned.close_and_shutdown_all();
        // Pairs with the fence in `push_remote`: a pusher whose load missed
        // the flag pushed before this fence in the total order, so the
        // drain below sees its task.
        fence(SeqCst);
        self.drain_inject();
        for r in self.remotes.iter() {
            // AcqRel: Acquire pairs with the Release of the fill
            // (`worker::schedule_local`); the workers have exited, so no
            // one else touches the slot now.
            let p = r.lifo.swap(ptr::null_mut(), AcqRel);
            if let Some(p) = NonNull::new(lifo::untagged(p)) {
                // SAFETY: a non-null LIFO pointer is a Notified's ref.
                drop(unsafe { Notified::<Arc<Handle>>::from_raw(RawTask::from_raw(p)) });
            }
        }
        let cores = std::mem::take(&mut *self.cores.lock().unwrap());
        for core in cores {
            core.drain();
        }
    }

    fn drain_inject(&self) {
        while let Some(t) = self.inject.pop() {
            drop(t);
        }
    }
}

/// The spawn hook, out of line: a runtime without hooks pays one branch.
#[cold]
#[inline(never)]
fn spawn_hook(hooks: &Hooks, task: &Notif) {
    // SAFETY: the `Notified` holds a ref: the task is live.
    hooks.task_spawn(&unsafe { TaskMeta::of(task.header()) });
}

/// The terminate hook, out of line like [`spawn_hook`].
#[cold]
#[inline(never)]
fn terminate_hook(hooks: &Hooks, task: &Header) {
    // SAFETY: called from the task's own completion: it is live.
    hooks.task_terminate(&unsafe { TaskMeta::of(task) });
}

impl Schedule for Arc<Handle> {
    #[inline]
    fn schedule(&self, task: Notified<Self>) {
        worker::schedule(self, task, worker::Kind::Woken);
    }

    fn yield_now(&self, task: Notified<Self>) {
        worker::schedule(self, task, worker::Kind::Yielded);
    }

    #[inline]
    fn task_terminated(&self, task: &Header) {
        if let Some(h) = &self.hooks {
            terminate_hook(h, task);
        }
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    fn root_token(&self) -> Option<&quell_cancel::CancelToken> {
        Some(&self.root)
    }

    fn wake_at(
        &self,
        deadline: std::time::Instant,
        waker: std::task::Waker,
    ) -> Result<(), std::task::Waker> {
        self.driver.wake_at(deadline, waker)
    }
}
