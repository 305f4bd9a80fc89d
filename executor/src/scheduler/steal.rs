//! Searching for work when the local queues are empty.
//!
//! One search round: steal a batch (about half) from each other worker in
//! a random order, then a batch from the injector, then "LIFO rescue"
//! (lifo.rs steps 5–6): an *offered* task in another worker's LIFO slot is
//! taken when a second round sees it still there with the owner's tick
//! unchanged; a *deferred* one once it has stayed there so for
//! `lifo_steal_after` (the owner is stuck in one long poll; otherwise it
//! would have run the task within a few hundred ns).
//!
//! A searcher spins up to `spin_before_park` rounds before it parks. Past
//! that budget it keeps going only while it watches a sighting of a
//! deferred task, and for at most `LATE_SIGHTINGS` new sightings (each
//! lasts at most `lifo_steal_after`): an owner whose tick moves is alive
//! and runs its slot itself, so a neighbour that ping-pongs through its
//! slot does not keep an idle worker spinning.

use std::ptr::{self, NonNull};

use super::lifo;
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
        // New sightings watched past the spin budget (bounded, see below).
        let mut late_sightings = 0u32;
        loop {
            let watch = match self.steal_round(handle) {
                Round::Found(t) => {
                    self.lifo_watch = None;
                    return Some(t);
                }
                Round::Watching(w) => w,
            };
            if handle.is_shutdown() {
                self.lifo_watch = None;
                return None;
            }
            round += 1;
            // Past the spin budget, keep going only while a LIFO sighting
            // is being watched (it is ours within `lifo_steal_after`, or its
            // owner moved on): the same one, or one of at most
            // `LATE_SIGHTINGS` new ones (a task filled just as we were
            // giving up is still watched; a neighbour whose slot changes at
            // every poll does not keep us spinning).
            let keep = match watch {
                Watch::Same => true,
                Watch::New if late_sightings < LATE_SIGHTINGS => {
                    late_sightings += u32::from(round >= rounds);
                    true
                }
                _ => false,
            };
            if round >= rounds && !keep {
                self.lifo_watch = None;
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

    fn steal_round(&mut self, handle: &Handle) -> Round {
        let n = handle.num_workers();
        let start = self.rand.next(n);
        for i in 0..n {
            let v = (start + i) % n;
            if v == self.index {
                continue;
            }
            if let Some(t) = handle.remotes[v].steal.steal_into(&self.run_queue) {
                handle.stats.workers[self.index].steals.inc();
                return Round::Found(t);
            }
        }
        if let Some(t) = handle.inject.pop_batch_into(&self.run_queue) {
            return Round::Found(t);
        }
        self.rescue_lifo(handle, start)
    }

    /// Takes a victim's LIFO task if it was offered or has been stuck there
    /// (lifo.rs steps 5–6); otherwise says what we are watching.
    fn rescue_lifo(&mut self, handle: &Handle, start: usize) -> Round {
        let n = handle.num_workers();
        for i in 0..n {
            let v = (start + i) % n;
            if v == self.index {
                continue;
            }
            let r = &handle.remotes[v];
            // Relaxed: a hint; the CAS below decides ownership.
            let task = r.lifo.load(Relaxed);
            if task.is_null() {
                continue;
            }
            // Relaxed: a hint, like the slot load.
            let tick = r.ticks.load(Relaxed);
            match &self.lifo_watch {
                Some(w) if w.victim == v && w.task == task.addr() && w.tick == tick => {
                    // Step 5: an offered task on its second sighting (one
                    // round: an owner whose poll was about to end takes it
                    // back first, so a spinning searcher does not pull a
                    // ping-pong pair apart); step 6: a deferred one once ripe.
                    if !lifo::is_offered(task) && !w.ripe(handle) {
                        return Round::Watching(Watch::Same);
                    }
                    self.lifo_watch = None;
                    return match take_if(handle, v, task) {
                        Some(t) => {
                            handle.stats.workers[self.index].steals.inc();
                            Round::Found(t)
                        }
                        None => Round::Watching(Watch::None),
                    };
                }
                _ => {
                    self.lifo_watch = Some(LifoWatch {
                        victim: v,
                        task: task.addr(),
                        tick,
                        #[cfg(not(loom))]
                        since: std::time::Instant::now(),
                    });
                    return Round::Watching(Watch::New);
                }
            }
        }
        self.lifo_watch = None;
        Round::Watching(Watch::None)
    }
}

/// New LIFO sightings a searcher watches past its spin budget.
const LATE_SIGHTINGS: u32 = 3;

/// The outcome of one search round.
enum Round {
    Found(Notif),
    Watching(Watch),
}

/// What a round left `Core::lifo_watch` watching.
#[derive(PartialEq, Eq)]
enum Watch {
    /// Nothing.
    None,
    /// A sighting made this round (a new task, or its owner moved on).
    New,
    /// The sighting of an earlier round, unchanged and not yet ripe.
    Same,
}

/// Takes worker `v`'s LIFO task if the slot still holds exactly `tagged`.
fn take_if(handle: &Handle, v: usize, tagged: *mut crate::task::Header) -> Option<Notif> {
    // AcqRel: Acquire pairs with the Release of the owner's fill
    // (`worker::schedule_local`), so the task's writes are visible; the
    // owner's swap in `Core::take_lifo` races us: exactly one RMW gets the
    // pointer (lifo.rs, I1).
    match handle.remotes[v]
        .lifo
        .compare_exchange(tagged, ptr::null_mut(), AcqRel, Relaxed)
    {
        // SAFETY: a non-null slot pointer is a Notified's ref, now ours.
        Ok(p) => NonNull::new(lifo::untagged(p))
            .map(|p| unsafe { Notified::from_raw(RawTask::from_raw(p)) }),
        Err(_) => None,
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
