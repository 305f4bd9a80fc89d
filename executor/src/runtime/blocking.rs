//! The blocking pool: `spawn_blocking` closures run on a bounded set of
//! threads; idle threads retire after `keep_alive`.
//!
//! A blocking task is an ordinary task (same header, `JoinHandle`, cancel
//! binding: `cancel::current()` works inside the closure) whose future
//! runs the closure on its first poll.
//!
//! This module uses `std::sync` directly: the pool is plain mutex/condvar
//! code outside the lock-free protocols that the loom models check.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use super::{context, Handle};
use crate::task::{self, JoinHandle, Notified, Schedule, Task};

/// Runs the closure on first poll.
struct BlockingTask<F>(Option<F>);

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

/// Blocking tasks never return `Pending`, so they are never re-scheduled,
/// and they are not in the owned-task list.
#[derive(Clone, Copy)]
pub(crate) struct BlockingSchedule;

impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified<Self>) {
        // Only reachable through a wake during the closure, which the
        // closure has no waker for; drop the ref.
        drop(task);
    }
    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

struct State {
    queue: VecDeque<Notified<BlockingSchedule>>,
    threads: usize,
    idle: usize,
    notify: usize,
    shutdown: bool,
    workers: HashMap<usize, thread::JoinHandle<()>>,
    next_id: usize,
}

struct Shared {
    state: Mutex<State>,
    cond: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    name: String,
}

/// Spawns onto the pool (held by the runtime handle).
#[derive(Clone)]
pub(crate) struct BlockingSpawner {
    shared: Arc<Shared>,
}

impl BlockingSpawner {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration, name: String) -> BlockingSpawner {
        BlockingSpawner {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    notify: 0,
                    shutdown: false,
                    workers: HashMap::new(),
                    next_id: 0,
                }),
                cond: Condvar::new(),
                max_threads,
                keep_alive,
                name,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn spawn<F, R>(
        &self,
        handle: &Handle,
        f: F,
        binding: task::Binding,
        location: &'static Location<'static>,
    ) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let meta = task::Meta {
            binding,
            name: None,
            location,
        };
        let (task, notified, join) = task::new_task(BlockingTask(Some(f)), BlockingSchedule, meta);
        // Not in the owned list: drop that ref now (the pool owns `notified`).
        drop(task);
        let mut st = self.lock();
        if st.shutdown {
            drop(st);
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
                .spawn(move || me.run(h, id))
            {
                Ok(jh) => {
                    st.threads += 1;
                    st.workers.insert(id, jh);
                }
                Err(_) if st.threads > 0 => {
                    // Could not grow: an existing thread will get to it.
                }
                Err(e) => {
                    let t = st.queue.pop_back().expect("just pushed");
                    drop(st);
                    t.into_raw().shutdown();
                    let _ = e;
                    return join;
                }
            }
        }
        join
    }

    fn run(&self, handle: Handle, id: usize) {
        let _enter = context::enter(handle, false);
        let mut st = self.lock();
        loop {
            if let Some(task) = st.queue.pop_front() {
                drop(st);
                task.run();
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
    }

    /// Refuses new work, shuts down queued tasks (their handles report
    /// shutdown), and joins the threads (waits for running closures; a pool
    /// thread that calls this, dropping the runtime, is not joined).
    pub(crate) fn shutdown(&self) {
        let (queued, workers) = {
            let mut st = self.lock();
            st.shutdown = true;
            self.shared.cond.notify_all();
            (
                std::mem::take(&mut st.queue),
                std::mem::take(&mut st.workers),
            )
        };
        for t in queued {
            t.into_raw().shutdown();
        }
        let me = thread::current().id();
        for (_, jh) in workers {
            if jh.thread().id() != me {
                let _ = jh.join();
            }
        }
    }
}
