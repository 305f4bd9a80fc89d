//! The runtime's scheduler: the work-stealing one (worker threads) or the
//! current-thread one (driven by `block_on`). The handle, shutdown and
//! introspection go through this enum, so neither scheduler knows of the
//! other.

use std::future::Future;

use crate::loom::Arc;
use crate::scheduler::current_thread::Shared;
use crate::scheduler::park::SharedDriver;
use crate::scheduler::{self, worker};
use crate::task::{self, JoinHandle};

pub(crate) enum Scheduler {
    /// Worker threads with their own queues, stealing from each other.
    MultiThread(Arc<scheduler::Handle>),
    /// One run queue, driven by the thread inside `block_on`.
    CurrentThread {
        shared: Arc<Shared>,
        driver: Arc<SharedDriver>,
    },
}

impl Scheduler {
    /// Spawns a bound task and queues it; after shutdown the future is
    /// dropped at once and the handle reports it.
    pub(crate) fn spawn<F>(&self, future: F, meta: task::Meta) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Scheduler::MultiThread(sched) => {
                let (task, notified, join) = task::new_task(future, sched.clone(), meta);
                if let Err(task) = sched.owned.bind(task) {
                    task.shutdown();
                    drop(notified);
                    return join;
                }
                sched.task_spawned(&notified);
                worker::schedule(sched, notified, worker::Kind::Spawned);
                join
            }
            Scheduler::CurrentThread { shared, .. } => {
                let (task, notified, join) = task::new_task(future, shared.clone(), meta);
                Shared::start(shared, task, notified);
                join
            }
        }
    }

    pub(crate) fn num_tasks(&self) -> usize {
        match self {
            Scheduler::MultiThread(s) => s.owned.len(),
            Scheduler::CurrentThread { shared, .. } => shared.owned.len(),
        }
    }

    pub(crate) fn tasks(&self) -> Vec<task::TaskInfo> {
        let mut v = Vec::new();
        match self {
            Scheduler::MultiThread(s) => s.owned.for_each(|h| v.push(task::TaskInfo::of(h))),
            Scheduler::CurrentThread { shared, .. } => {
                shared.owned.for_each(|h| v.push(task::TaskInfo::of(h)))
            }
        }
        v
    }

    /// Worker threads: none for the current-thread flavor.
    pub(crate) fn num_workers(&self) -> usize {
        match self {
            Scheduler::MultiThread(s) => s.num_workers(),
            Scheduler::CurrentThread { .. } => 0,
        }
    }

    /// The driver tasks park in (a `LocalSet`'s timer).
    pub(crate) fn driver(&self) -> &Arc<SharedDriver> {
        match self {
            Scheduler::MultiThread(s) => &s.driver,
            Scheduler::CurrentThread { driver, .. } => driver,
        }
    }
}
