//! Searching for work when the local queues are empty.
//!
//! One search round: steal a batch (about half) from each other worker in
//! a random order, then a batch from the injector, then "LIFO rescue".
//! A searcher spins up to `spin_before_park` rounds before it parks, and
//! does not park while another worker's LIFO slot is occupied: it watches
//! that slot and takes the task once it has stayed there, with the owner's
//! tick unchanged, for `lifo_steal_after` (the owner is stuck in one long
//! poll; otherwise the owner would have run it within a few hundred ns).

use std::ptr::{self, NonNull};

use super::worker::Core;
use super::{Handle, Notif};
use crate::loom::atomic::Ordering::*;
use crate::task::{Notified, RawTask};

/// What a searcher saw in a victim's LIFO slot, and since when.
pub(crate) struct LifoWatch {
    victim: usize,
    /// The watched task's header address (compared, never dereferenced).
    task: usize,
    tick: u32,
    #[cfg(not(loom))]
    since: std::time::Instant,
}

impl Core {
    /// Search for work, spinning a little. Returns `None` to park.
    pub(crate) fn search(&mut self, handle: &Handle) -> Option<Notif> {
        if !self.is_searching {
            if !handle.idle.transition_worker_to_searching() {
                return None;
            }
            self.is_searching = true;
        }
        let rounds = handle.config.spin_before_park.max(1);
        let mut round = 0u32;
        loop {
            if let Some(t) = self.steal_round(handle) {
                self.lifo_watch = None;
                return Some(t);
            }
            if handle.is_shutdown() {
                return None;
            }
            round += 1;
            // Past the spin budget, keep going only while a LIFO task is
            // being watched (it is ours within `lifo_steal_after`).
            if round >= rounds && self.lifo_watch.is_none() {
                return None;
            }
            // No `thread::yield_now` here: on a loaded machine it hands the
            // CPU away for a whole time slice while we still count as
            // searching, and pushers do not wake a sleeper while someone
            // searches (measured: millisecond wake latencies under a
            // parallel build). Loom needs the yield to bound spin loops.
            #[cfg(loom)]
            crate::loom::thread::yield_now();
            #[cfg(not(loom))]
            std::hint::spin_loop();
        }
    }

    fn steal_round(&mut self, handle: &Handle) -> Option<Notif> {
        let n = handle.num_workers();
        let start = self.rand.next(n);
        for i in 0..n {
            let v = (start + i) % n;
            if v == self.index {
                continue;
            }
            if let Some(t) = handle.remotes[v].steal.steal_into(&self.run_queue) {
                return Some(t);
            }
        }
        if let Some(t) = handle.inject.pop_batch_into(&self.run_queue) {
            return Some(t);
        }
        self.rescue_lifo(handle, start)
    }

    /// Takes a victim's LIFO task if it has been stuck there (see module docs).
    fn rescue_lifo(&mut self, handle: &Handle, start: usize) -> Option<Notif> {
        let n = handle.num_workers();
        for i in 0..n {
            let v = (start + i) % n;
            if v == self.index {
                continue;
            }
            let r = &handle.remotes[v];
            // Relaxed: a hint; the swap below decides ownership.
            let task = r.lifo.load(Relaxed);
            if task.is_null() {
                continue;
            }
            let tick = r.ticks.load(Relaxed);
            match &self.lifo_watch {
                Some(w) if w.victim == v && w.task == task as usize && w.tick == tick => {
                    if !w.ripe(handle) {
                        return None;
                    }
                    self.lifo_watch = None;
                    // Take it only if it is still that task. AcqRel: see
                    // `Core::take_lifo`; exactly one swap/CAS gets the ref.
                    return match r
                        .lifo
                        .compare_exchange(task, ptr::null_mut(), AcqRel, Relaxed)
                    {
                        // SAFETY: a non-null slot pointer is a Notified's ref, now ours.
                        Ok(p) => NonNull::new(p)
                            .map(|p| unsafe { Notified::from_raw(RawTask::from_raw(p)) }),
                        Err(_) => None,
                    };
                }
                _ => {
                    self.lifo_watch = Some(LifoWatch {
                        victim: v,
                        task: task as usize,
                        tick,
                        #[cfg(not(loom))]
                        since: std::time::Instant::now(),
                    });
                    return None;
                }
            }
        }
        self.lifo_watch = None;
        None
    }
}

impl LifoWatch {
    #[cfg(not(loom))]
    fn ripe(&self, handle: &Handle) -> bool {
        self.since.elapsed() >= handle.config.lifo_steal_after
    }

    #[cfg(loom)]
    fn ripe(&self, _handle: &Handle) -> bool {
        true
    }
}
