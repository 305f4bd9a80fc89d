//! The owned-task list: every live task of a runtime, so that shutdown can
//! drop every future (contract C9) and spawning after shutdown is refused.
//!
//! Sharded by task id to keep the spawn path off a single lock. Each entry
//! owns one ref (the "owned" ref of the initial state).
//!
//! # Invariants
//!
//! 1. A task's `owned_slot` is written and read only under its shard's lock.
//! 2. Once a shard is closed no task is added to it, so after
//!    `close_and_shutdown_all` returns, the list is empty for good.

use crossbeam_utils::CachePadded;

use super::raw::{RawTask, Task};
use crate::loom::atomic::{AtomicBool, Ordering::*};
use crate::loom::Mutex;

const SHARDS: usize = 16;

pub(crate) struct OwnedTasks<S: 'static> {
    shards: Box<[CachePadded<Mutex<Shard<S>>>]>,
    closed: AtomicBool,
}

struct Shard<S: 'static> {
    slots: Vec<Option<Task<S>>>,
    free: Vec<usize>,
    len: usize,
    closed: bool,
}

impl<S: 'static> OwnedTasks<S> {
    pub(crate) fn new() -> OwnedTasks<S> {
        let shards = (0..SHARDS)
            .map(|_| {
                CachePadded::new(Mutex::new(Shard {
                    slots: Vec::new(),
                    free: Vec::new(),
                    len: 0,
                    closed: false,
                }))
            })
            .collect();
        OwnedTasks {
            shards,
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, task: &Task<S>) -> &Mutex<Shard<S>> {
        &self.shards[(task.header().id.0 as usize) % SHARDS]
    }

    /// Adds a task; gives it back if the list is closed (runtime shut down).
    pub(crate) fn bind(&self, task: Task<S>) -> Result<(), Task<S>> {
        let mut shard = self.shard(&task).lock().unwrap_or_else(|e| e.into_inner());
        if shard.closed {
            return Err(task);
        }
        let idx = match shard.free.pop() {
            Some(i) => i,
            None => {
                shard.slots.push(None);
                shard.slots.len() - 1
            }
        };
        // SAFETY: invariant 1: we hold the shard lock.
        task.header().owned_slot.with_mut(|p| unsafe { *p = idx });
        shard.slots[idx] = Some(task);
        shard.len += 1;
        Ok(())
    }

    /// Removes a task (identified by its handle) and returns the list's handle.
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        let mut shard = self.shard(task).lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: invariant 1.
        let idx = task.header().owned_slot.with(|p| unsafe { *p });
        let hit = shard
            .slots
            .get(idx)
            .and_then(|s| s.as_ref())
            .is_some_and(|t| t.raw() == task.raw());
        if !hit {
            return None;
        }
        let t = shard.slots[idx].take();
        shard.free.push(idx);
        shard.len -= 1;
        t
    }

    /// Whether `close_and_shutdown_all` has begun. Relaxed: callers order
    /// themselves against it (the exiting worker reads it under the
    /// scheduler's `cores` lock, which shutdown takes after closing).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Relaxed)
    }

    /// Number of live tasks.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len)
            .sum()
    }

    /// Closes the list and shuts down every task in it: idle tasks have
    /// their future dropped here; running ones are marked aborted.
    pub(crate) fn close_and_shutdown_all(&self) {
        // Relaxed: see `is_closed` (its reader is ordered by a lock taken
        // after this call returns).
        self.closed.store(true, Relaxed);
        for shard in self.shards.iter() {
            let tasks: Vec<Task<S>> = {
                let mut s = shard.lock().unwrap_or_else(|e| e.into_inner());
                s.closed = true;
                s.free.clear();
                s.len = 0;
                s.slots.drain(..).flatten().collect()
            };
            // Outside the lock: dropping a future may spawn or wake.
            for t in tasks {
                t.shutdown();
            }
        }
    }

    /// Calls `f` with each live task, `chunk` tasks at a time: a shard's
    /// lock is held only while refs of the next `chunk` of its tasks are
    /// taken, and `f` runs with no lock held (so a dump of many tasks never
    /// stops a spawn or a completion for long). A task added or removed
    /// meanwhile may or may not be seen; none is seen twice.
    pub(crate) fn for_each_chunked(&self, chunk: usize, mut f: impl FnMut(&RawTask)) {
        let mut refs: Vec<RawTask> = Vec::with_capacity(chunk);
        for shard in self.shards.iter() {
            let mut next = 0;
            loop {
                let done = {
                    let s = shard.lock().unwrap_or_else(|e| e.into_inner());
                    while next < s.slots.len() && refs.len() < chunk {
                        if let Some(t) = &s.slots[next] {
                            // The entry's ref keeps the task alive while
                            // we take ours, under the lock.
                            t.raw().ref_inc();
                            refs.push(t.raw());
                        }
                        next += 1;
                    }
                    next >= s.slots.len()
                };
                for t in refs.drain(..) {
                    f(&t);
                    t.drop_reference();
                }
                if done {
                    break;
                }
            }
        }
    }

    /// Calls `f` with each live task's header (for introspection).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&super::header::Header)) {
        for shard in self.shards.iter() {
            let s = shard.lock().unwrap_or_else(|e| e.into_inner());
            for t in s.slots.iter().flatten() {
                f(t.header());
            }
        }
    }
}
