//! Which workers are searching, which are parked, and whom to wake.
//!
//! # Protocol (contract C5: no stranded work)
//!
//! State: one word `num_unparked << 16 | num_searching`, and the list of
//! sleeping workers under a mutex.
//!
//! Pusher (any thread that queued a task):
//! 1. push the task (queue write);
//! 2. `fence(SeqCst)`; load the state;
//! 3. if no worker is searching and some are parked: under the lock, pop a
//!    sleeper, count it as unparked *and searching*, unpark it.
//!
//! Parking worker:
//! 1. under the lock, decrement `num_unparked` (and `num_searching` if it
//!    was searching), push itself on the sleeper list;
//! 2. if it was the last searcher: `fence(SeqCst)`, then re-check every
//!    queue; if any is non-empty, notify a worker (possibly itself).
//! 3. park.
//!
//! Why no work is stranded: the pusher's step 2 and the parker's step 2 are
//! a store-then-load pair on each side (queue write / state load vs. state
//! write / queue load), separated by `SeqCst` fences. In the single total
//! order of those fences, whichever comes second sees the other's store:
//! either the pusher sees the last searcher gone (and wakes a sleeper), or
//! the last searcher sees the pushed task (and wakes someone). A pusher
//! that sees a searcher skips waking: that searcher, before it parks, is a
//! "last searcher" of step 2 or hands off to another searcher, so the
//! argument applies to it.
//!
//! A worker that finds work while searching leaves the searching state; if
//! it was the last searcher it wakes another worker (there may be more
//! work), which keeps at least one searcher while work keeps arriving.
//! At most about half the workers search at once.

use crate::loom::atomic::{fence, AtomicUsize, Ordering::*};
use crate::loom::Mutex;

const UNPARK_SHIFT: usize = 16;
const SEARCH_MASK: usize = (1 << UNPARK_SHIFT) - 1;

pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(num_workers << UNPARK_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// Pusher, step 2: whether a sleeper could be woken (no one searching,
    /// some worker parked). Inlined: on the common answer (no) a push pays
    /// only the fence and the load; [`Idle::sleeper_to_notify`] does step 3.
    #[inline]
    pub(crate) fn notify_should_wakeup(&self) -> bool {
        // Pairs with the fence in `fence_before_recheck` (parker, step 2):
        // orders our queue push before this state load.
        fence(SeqCst);
        let s = self.state.load(SeqCst);
        self.wakeup_needed(s)
    }

    /// Pusher, step 3, after [`Idle::notify_should_wakeup`] said yes: the
    /// sleeper to unpark, now counted as unparked and searching (`None`:
    /// another pusher woke one meanwhile). Among the sleepers, one for
    /// which `prefer` holds is chosen if any.
    pub(crate) fn sleeper_to_notify(&self, prefer: impl Fn(usize) -> bool) -> Option<usize> {
        let mut sleepers = self.sleepers.lock().unwrap();
        // Re-check under the lock: another pusher may have woken one.
        if !self.notify_should_wakeup() {
            return None;
        }
        let pos = sleepers
            .iter()
            .rposition(|&w| prefer(w))
            .or_else(|| sleepers.len().checked_sub(1))?;
        let worker = sleepers.swap_remove(pos);
        // SeqCst: part of the total order with the fences (see the module
        // docs); the woken worker counts as searching from now on, so other
        // pushers do not wake a second worker for the same task.
        self.state.fetch_add((1 << UNPARK_SHIFT) | 1, SeqCst);
        Some(worker)
    }

    /// Some worker parked and none searching: a pusher would wake one.
    fn wakeup_needed(&self, s: usize) -> bool {
        s & SEARCH_MASK == 0 && (s >> UNPARK_SHIFT) < self.num_workers
    }

    /// [`Idle::wakeup_needed`] on an unfenced load: a hint, used only to
    /// decide whether a deferred LIFO fill is timed (lifo.rs, step 4a),
    /// never whether anyone is notified.
    pub(crate) fn wakeup_needed_hint(&self) -> bool {
        // Relaxed: a hint (see above); nothing is published through it.
        self.wakeup_needed(self.state.load(Relaxed))
    }

    /// Parker, step 1. Returns true if this was the last searcher (the
    /// caller must then re-check the queues after [`Idle::fence_before_recheck`]).
    pub(crate) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock().unwrap();
        let dec = (1 << UNPARK_SHIFT) | usize::from(is_searching);
        // SeqCst: this is the parker's store of the store-buffering pair
        // (state write, then fence, then queue loads in step 2); it pairs
        // with the pushers' fence-then-load in `notify_should_wakeup`. The
        // fences carry the ordering; SeqCst keeps every access to `state`
        // in the one total order the module docs' argument uses.
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        is_searching && prev & SEARCH_MASK == 1
    }

    /// Parker, step 2: the fence between our state write and queue reads.
    pub(crate) fn fence_before_recheck(&self) {
        // Pairs with the fence in `notify_should_wakeup`.
        fence(SeqCst);
    }

    /// A worker wants to search (steal). Refused when half already search.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        // SeqCst: a refused worker parks as a non-searcher, without the
        // last-searcher re-check, relying on the searcher it saw here, so
        // that searcher must not already be gone: this load is in the same
        // total order as the searchers' decrements. With Relaxed, a stale
        // count refuses the search while the last searcher has already
        // re-checked, and an offered LIFO task is stranded (loom:
        // `loom_lifo_offered_busy_waker` deadlocks).
        let s = self.state.load(SeqCst);
        if 2 * (s & SEARCH_MASK) >= self.num_workers {
            return false;
        }
        // SeqCst: pushers' loads in `notify_should_wakeup` (after their
        // fence) see this searcher and skip the wake; that is safe because
        // this searcher, before it parks, is a last searcher that re-checks
        // after its own fence. Same total order as every `state` access.
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// A searcher found work. True if it was the last searcher.
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        // SeqCst: like the parker's decrement: a state write followed (for
        // the last searcher) by `fence_before_recheck` and the queue loads,
        // pairing with the pushers' fence-then-load.
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(prev & SEARCH_MASK > 0);
        prev & SEARCH_MASK == 1
    }

    /// Wakes `worker` if it is on the sleeper list (shutdown, or a worker
    /// that woke up on its own). Returns true if it was there.
    pub(crate) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock().unwrap();
        if let Some(pos) = sleepers.iter().position(|&w| w == worker) {
            sleepers.swap_remove(pos);
            // SeqCst: same total order as every `state` access (the pushers'
            // `num_unparked` check reads it after their fence). Counted as
            // unparked, not searching.
            self.state.fetch_add(1 << UNPARK_SHIFT, SeqCst);
            true
        } else {
            false
        }
    }

    /// Whether `worker` is on the sleeper list.
    pub(crate) fn is_parked(&self, worker: usize) -> bool {
        self.sleepers.lock().unwrap().contains(&worker)
    }
}
