//! Which workers are searching, which are parked, and whom to wake.
//!
//! # Protocol (contract C5: no stranded work)
//!
//! State: one word `num_unparked << 16 | num_searching`, and the list of
//! sleeping workers under a mutex.
//!
//! Pusher (any thread that queued a task):
//! 1. push the task (queue write);
//! 2. the light barrier (`barrier::light`: a compiler fence, or
//!    `fence(SeqCst)` where `membarrier(2)` is unavailable); load the state;
//! 3. if no worker is searching and some are parked: under the lock, pop a
//!    sleeper, count it as unparked *and searching*, unpark it.
//!
//! Parking worker:
//! 1. under the lock, decrement `num_unparked` (and `num_searching` if it
//!    was searching), push itself on the sleeper list;
//! 2. if it was the last searcher: the heavy barrier (`barrier::heavy`:
//!    `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, or `fence(SeqCst)`),
//!    then re-check every queue; if any is non-empty, notify a worker
//!    (possibly itself).
//! 3. park.
//!
//! Why no work is stranded: the pusher's step 2 and the parker's step 2 are
//! a store-then-load pair on each side (queue write / state load vs. state
//! write / queue load), separated by the two halves of an asymmetric
//! barrier. Whichever comes second sees the other's store (barrier.rs,
//! "Why the pair still works": the heavy side runs a full barrier on every
//! thread of the process, at a point of its program order that is either
//! after the pusher's push, which the re-check then sees, or before its
//! state load, which then sees the parker's write; with fences on both
//! sides it is the single total order of `SeqCst` fences). Stated for the
//! modification order of `state` (every write to it is an RMW):
//!
//! * L: if a pusher's load read the value `v`, a worker whose state write
//!   comes after `v` and which then re-checks after the heavy barrier sees
//!   the push (barrier.rs, step 4 cannot hold: the barrier's point in the
//!   pusher cannot precede the push, for the load, after it, would then
//!   read that write or a later value; so step 3 holds).
//!
//! So either the pusher sees no searcher and a sleeper (and wakes it), or
//! some worker was searching or awake at `v`. Such a worker, before it
//! sleeps, writes `state` (after `v`): a last searcher re-checks (L); a
//! searcher that is not the last, or a worker refused a search (which saw
//! a searcher in the same order), parks relying on another searcher, which
//! later writes `state` in turn. The workers are finite, so the chain ends
//! with a last searcher's re-check (L) or with a worker still awake, which
//! searches every queue before it parks.
//!
//! # Leaving the search
//!
//! A worker that finds work while searching leaves the searching state; if
//! it was the last searcher, pushers that saw it searching did not wake
//! anyone, so it looks at every queue once more and wakes a sleeper if
//! work is visible (there may be more work), which keeps at least one
//! searcher while work keeps arriving. That look has *no* barrier: the
//! heavy one would put a syscall (and IPIs) on the path of the task just
//! found, at every wake of a parked worker. It misses only a push whose
//! store is still in flight (still in the pusher's store buffer): that
//! task is not stranded (the worker is awake, and the chain above still
//! ends in a re-check after the heavy barrier) but waits for this worker's
//! current poll, or for another worker's search.
//!
//! At most about half the workers search at once.

use super::barrier;
use crate::loom::atomic::{AtomicUsize, Ordering::*};
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
    /// only the light barrier and the load; [`Idle::sleeper_to_notify`]
    /// does step 3.
    #[inline]
    pub(crate) fn notify_should_wakeup(&self) -> bool {
        // The light side, pairing with the heavy side in
        // `fence_before_recheck` (parker, step 2): our queue push or the
        // state load is seen by the other side (barrier.rs).
        barrier::light();
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
        // (state write, then the heavy barrier, then queue loads in step
        // 2); it pairs with the pushers' barrier-then-load in
        // `notify_should_wakeup`. The barrier carries the ordering; SeqCst
        // keeps every access to `state` in the one total order the module
        // docs' argument uses.
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        is_searching && prev & SEARCH_MASK == 1
    }

    /// Parker, step 2: the heavy barrier between our state write and queue
    /// reads (a syscall when `membarrier(2)` is in use: cold paths only).
    pub(crate) fn fence_before_recheck(&self) {
        // The heavy side, pairing with the light side in
        // `notify_should_wakeup` (barrier.rs).
        barrier::heavy();
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
        // barrier) see this searcher and skip the wake; that is safe because
        // this searcher, before it parks, is a last searcher that re-checks
        // after its own barrier. Same total order as every `state` access.
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// A searcher found work. True if it was the last searcher.
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        // SeqCst: in the one total order of `state` accesses that the
        // module docs' argument uses (a refused searcher's load must see
        // this decrement in order; "Leaving the search": the last
        // searcher's look that follows has no barrier).
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
            // `num_unparked` check reads it after their barrier). Counted as
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
