//! The blocking pool: `spawn_blocking` closures run on a bounded set of
//! threads; idle threads retire after `keep_alive`.
//!
//! ```text
//! mod.rs        the pool: queue, threads, shutdown with a deadline
//! task.rs       BlockingTask, and the registry that lists live blocking tasks
//! interrupt.rs  interruptible tasks: a signal to the thread on cancel (EINTR)
//! ```
//!
//! # Shutdown
//!
//! Queued closures never start (their handles report shutdown). Running
//! ones cannot be dropped mid-call: `Runtime::drop` waits for them (every
//! thread joined, C9), while `Runtime::shutdown_graceful` waits only until
//! its deadline ([`BlockingSpawner::shutdown_by`]) and then *leaves* the
//! threads still running a closure: they are detached, finish their closure
//! on their own (its output is discarded), and exit. The shutdown report
//! lists those tasks as still running.
//!
//! This module uses `std::sync` directly: the pool is plain mutex/condvar
//! code outside the lock-free protocols that the loom models check.

mod interrupt;
mod task;

use std::collections::{HashMap, VecDeque};
use std::panic::Location;
use std::sync::{Arc, Condvar, Mutex};
use std::task::Waker;
use std::thread;
use std::time::{Duration, Instant};

use super::{context, Handle};
use crate::task::{self as tasks, JoinHandle, Notified, RawTask, TaskInfo};
pub(crate) use task::BlockingSchedule;
use task::{BlockingTask, Registry};

struct State {
    queue: VecDeque<Notified<BlockingSchedule>>,
    threads: usize,
    idle: usize,
    notify: usize,
    shutdown: bool,
    /// Live threads' handles; a thread moves its own to `exited` as it
    /// leaves the pool.
    workers: HashMap<usize, thread::JoinHandle<()>>,
    exited: Vec<thread::JoinHandle<()>>,
    next_id: usize,
    /// Set by `shutdown_by`: how long `shutdown` waits for running closures.
    wait_until: Option<Instant>,
}

struct Shared {
    state: Mutex<State>,
    /// Idle threads wait here for work or shutdown.
    cond: Condvar,
    /// Shutdown waits here for threads to leave.
    left: Condvar,
    registry: Arc<Registry>,
    max_threads: usize,
    keep_alive: Duration,
    name: String,
    /// The builder's hooks (thread start/stop run on pool threads too).
    hooks: Arc<crate::hooks::Hooks>,
}

/// What a blocking task is spawned with.
pub(crate) struct BlockingOptions<'a> {
    pub(crate) binding: tasks::Binding,
    pub(crate) name: Option<&'a str>,
    pub(crate) interruptible: bool,
    pub(crate) location: &'static Location<'static>,
    /// The spawning task's id (0: none).
    pub(crate) parent: u64,
}

/// Spawns onto the pool (held by the runtime handle).
#[derive(Clone)]
pub(crate) struct BlockingSpawner {
    shared: Arc<Shared>,
}

impl BlockingSpawner {
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        name: String,
        hooks: Arc<crate::hooks::Hooks>,
    ) -> BlockingSpawner {
        BlockingSpawner {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    notify: 0,
                    shutdown: false,
                    workers: HashMap::new(),
                    exited: Vec::new(),
                    next_id: 0,
                    wait_until: None,
                }),
                cond: Condvar::new(),
                left: Condvar::new(),
                registry: Arc::new(Registry::default()),
                max_threads,
                keep_alive,
                name,
                hooks,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of live blocking tasks (queued or running).
    pub(crate) fn num_tasks(&self) -> usize {
        self.shared.registry.len()
    }

    /// Threads, idle threads, queued closures (metrics).
    pub(crate) fn pool_stats(&self) -> (usize, usize, usize) {
        let st = self.lock();
        (st.threads, st.idle, st.queue.len())
    }

    /// Calls `f` with each live blocking task (see `Registry::for_each`).
    pub(crate) fn for_each(&self, f: impl FnMut(&RawTask, Option<Instant>, bool)) {
        self.shared.registry.for_each(f)
    }

    /// The live blocking tasks (running ones first, oldest first).
    pub(crate) fn tasks(&self) -> Vec<TaskInfo> {
        self.shared.registry.tasks()
    }

    pub(crate) fn spawn<F, R>(
        &self,
        handle: &Handle,
        f: F,
        opts: BlockingOptions<'_>,
    ) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let meta = tasks::Meta {
            binding: opts.binding,
            name: opts.name.map(Into::into),
            location: opts.location,
            parent: opts.parent,
        };
        let sched = BlockingSchedule {
            registry: self.shared.registry.clone(),
        };
        let (task, notified, join) = tasks::new_task(BlockingTask(Some(f)), sched, meta);
        // The registry owns the task's owned ref from now until it completes.
        self.shared.registry.insert(task, opts.interruptible);
        let mut st = self.lock();
        if st.shutdown {
            drop(st);
            // Completes the task (its handle reports shutdown), which
            // removes it from the registry.
            notified.into_raw().shutdown();
            return join;
        }
        st.queue.push_back(notified);
        if st.idle > 0 {
            st.idle -= 1;
            st.notify += 1;
            self.shared.cond.notify_one();
        } else if st.threads < self.shared.max_threads {
            let id = st.next_id;
            st.next_id += 1;
            let me = self.clone();
            let h = handle.clone();
            match thread::Builder::new()
                .name(format!("{}-{id}", self.shared.name))
                .spawn(move || {
                    me.shared.hooks.thread_start();
                    me.run(h, id);
                    me.shared.hooks.thread_stop();
                }) {
                Ok(jh) => {
                    st.threads += 1;
                    st.workers.insert(id, jh);
                }
                Err(_) if st.threads > 0 => {
                    // Could not grow: an existing thread will get to it.
                }
                Err(_) => {
                    let t = st.queue.pop_back().expect("just pushed");
                    drop(st);
                    t.into_raw().shutdown();
                    return join;
                }
            }
        }
        join
    }

    /// Runs one task on this pool thread (interrupt.rs, step 2).
    fn run_task(&self, handle: &Handle, task: Notified<BlockingSchedule>) {
        let id = task.header().id;
        if !self.shared.registry.start(id) {
            task.run();
            return;
        }
        interrupt::prepare_thread();
        let token = task::scope_token(&task);
        let waker = Waker::from(Arc::new(interrupt::Interrupt {
            registry: self.shared.registry.clone(),
            id,
            io: handle.inner.io.clone(),
        }));
        let key = token.register_waker(&waker);
        if key.is_none() {
            // Cancelled before it started: the closure may still enter a
            // blocking call; start the resend chain now.
            waker.wake_by_ref();
        }
        task.run();
        if let Some(key) = key {
            token.deregister_waker(key);
        }
    }

    fn run(&self, handle: Handle, id: usize) {
        let _enter = context::enter(handle.clone(), false);
        let mut st = self.lock();
        loop {
            if let Some(task) = st.queue.pop_front() {
                drop(st);
                self.run_task(&handle, task);
                st = self.lock();
                continue;
            }
            if st.shutdown {
                break;
            }
            st.idle += 1;
            let deadline = Instant::now() + self.shared.keep_alive;
            loop {
                let now = Instant::now();
                let (g, _) = self
                    .shared
                    .cond
                    .wait_timeout(st, deadline.saturating_duration_since(now))
                    .unwrap_or_else(|e| e.into_inner());
                st = g;
                if st.notify > 0 {
                    st.notify -= 1;
                    break;
                }
                if st.shutdown {
                    st.idle -= 1;
                    break;
                }
                if Instant::now() >= deadline {
                    // Retire: leave the pool (our JoinHandle is detached).
                    st.idle -= 1;
                    st.threads -= 1;
                    st.workers.remove(&id);
                    return;
                }
            }
        }
        st.threads -= 1;
        if let Some(jh) = st.workers.remove(&id) {
            st.exited.push(jh);
        }
        self.shared.left.notify_all();
    }

    /// Makes the coming [`shutdown`](Self::shutdown) wait for running
    /// closures only until `deadline` (graceful shutdown: its grace is over).
    pub(crate) fn shutdown_by(&self, deadline: Instant) {
        self.lock().wait_until = Some(deadline);
    }

    /// Refuses new work, shuts down queued tasks (their handles report
    /// shutdown), and waits for the threads: for every one of them, or
    /// until the [`shutdown_by`](Self::shutdown_by) deadline, after which
    /// threads still running a closure are detached. A pool thread that
    /// calls this (dropping the runtime from a closure) is not waited for.
    pub(crate) fn shutdown(&self) {
        let me = thread::current().id();
        let mut st = self.lock();
        st.shutdown = true;
        self.shared.cond.notify_all();
        let queued = std::mem::take(&mut st.queue);
        drop(st);
        for t in queued {
            t.into_raw().shutdown();
        }
        let mut st = self.lock();
        let mine = st.workers.values().any(|jh| jh.thread().id() == me);
        let others = |st: &State| st.threads - usize::from(mine);
        while others(&st) > 0 {
            st = match st.wait_until {
                None => self.shared.left.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    self.shared
                        .left
                        .wait_timeout(st, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        let exited = std::mem::take(&mut st.exited);
        // Still in `workers`: threads running a closure past the deadline
        // (detached by dropping their handles), and our own.
        st.workers.clear();
        drop(st);
        for jh in exited {
            if jh.thread().id() != me {
                let _ = jh.join();
            }
        }
    }
}
