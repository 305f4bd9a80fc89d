//! The task state word: lifecycle bits and the reference count in one
//! `AtomicUsize`, changed only by read-modify-write transitions.
//!
//! # Bit layout
//!
//! | bit | name          | meaning                                                        |
//! |-----|---------------|----------------------------------------------------------------|
//! | 0   | RUNNING       | a worker owns the future and is polling (or shutting) it        |
//! | 1   | NOTIFIED      | a `Notified` for this task exists (queued) or is owed           |
//! | 2   | COMPLETE      | the future is gone; the stage holds the output (or is consumed) |
//! | 3   | CANCELLED     | cooperatively cancelled (`JoinHandle::cancel`): sticky          |
//! | 4   | ABORTED       | forced: drop the future at the next scheduling point           |
//! | 5   | JOIN_INTEREST | a `JoinHandle` exists                                           |
//! | 6   | JOIN_WAKER    | the join waker slot is owned by the runtime (see below)         |
//! | 7.. | refcount      | in units of [`REF_ONE`]                                         |
//!
//! Initial state: `NOTIFIED | JOIN_INTEREST | 3 refs` — one ref for the
//! owned-task list (dropped when the task completes), one for the initial
//! `Notified` handed to the scheduler, one for the `JoinHandle`.
//!
//! # Reference ownership
//!
//! Every `Notified` (queued task), waker, `JoinHandle` and the owned-task list
//! hold one ref each. The worker running a task holds the ref of the
//! `Notified` it dequeued; [`State::transition_to_idle`] releases it or
//! hands it to the new `Notified` when the task was woken while it ran.
//!
//! # Join waker ownership (JOIN_WAKER)
//!
//! 1. While JOIN_WAKER is clear and the task is not COMPLETE, the
//!    `JoinHandle` has exclusive access to the waker slot.
//! 2. The handle sets JOIN_WAKER (a CAS that fails if COMPLETE) after writing
//!    the slot; from then on the runtime may read the slot.
//! 3. To change the waker, the handle clears JOIN_WAKER (CAS, fails if
//!    COMPLETE), writes, sets it again.
//! 4. On completion the runtime wakes the slot if JOIN_WAKER is set, then
//!    clears JOIN_WAKER; if the handle was dropped meanwhile, the runtime
//!    drops the waker. Otherwise the handle drops it.
//!
//! # The park re-check (contracts C1, C2)
//!
//! A wake or cancel that arrives while the task runs sets NOTIFIED (and
//! CANCELLED/ABORTED). [`State::transition_to_idle`] is one CAS loop that
//! reads those bits with `Acquire` and either clears RUNNING (the task is
//! idle, and any later wake finds it idle and submits it) or keeps the
//! notification and returns `OkNotified` (the worker re-queues it). No
//! interleaving leaves the task idle with a pending notification.

use std::fmt;

use crate::loom::atomic::{AtomicUsize, Ordering::*};

/// A worker is polling the future.
pub(crate) const RUNNING: usize = 1 << 0;
/// The task is queued or owes a re-queue.
pub(crate) const NOTIFIED: usize = 1 << 1;
/// The future has been dropped; the output (if any) is stored.
pub(crate) const COMPLETE: usize = 1 << 2;
/// Cooperatively cancelled: await points answer `Cancelled`.
pub(crate) const CANCELLED: usize = 1 << 3;
/// Forcibly aborted: the future is dropped at its next scheduling point.
pub(crate) const ABORTED: usize = 1 << 4;
/// A `JoinHandle` still exists.
pub(crate) const JOIN_INTEREST: usize = 1 << 5;
/// The runtime owns the join-waker slot.
pub(crate) const JOIN_WAKER: usize = 1 << 6;

/// Bits that describe the lifecycle (everything below the refcount).
const LIFECYCLE_MASK: usize = RUNNING | COMPLETE;
const FLAG_MASK: usize = (1 << REF_SHIFT) - 1;
const REF_SHIFT: u32 = 7;
/// One reference.
pub(crate) const REF_ONE: usize = 1 << REF_SHIFT;
const REF_MASK: usize = !FLAG_MASK;

const INITIAL_STATE: usize = (REF_ONE * 3) | JOIN_INTEREST | NOTIFIED;

/// The atomic state word of one task.
pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word at one instant.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// Result of [`State::transition_to_running`].
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// The worker owns the future: poll it.
    Success,
    /// The worker owns the future, and the task was aborted: drop it.
    Aborted,
    /// The task is running elsewhere or complete; the notification's ref was dropped.
    Failed,
    /// As `Failed`, and that was the last ref: deallocate.
    Dealloc,
}

/// Result of [`State::transition_to_idle`].
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// Idle; the worker's ref was released.
    Ok,
    /// Woken (or cancelled) while running: re-queue. A ref was reserved for
    /// the new `Notified`; the worker still holds its own and drops it
    /// after the push.
    OkNotified,
    /// Idle and the worker's ref was the last one: deallocate.
    OkDealloc,
    /// Aborted while running: the worker still owns the future and must drop it.
    Aborted,
}

/// Result of the notify transitions.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotified {
    /// Nothing to do.
    DoNothing,
    /// Submit a new `Notified` (a ref is reserved for it).
    Submit,
    /// The last ref was dropped: deallocate.
    Dealloc,
}

/// Result of [`State::transition_to_join_handle_dropped`].
#[must_use]
pub(crate) struct TransitionToJoinHandleDrop {
    pub(crate) drop_waker: bool,
    pub(crate) drop_output: bool,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            val: AtomicUsize::new(INITIAL_STATE),
        }
    }

    #[inline]
    pub(crate) fn load(&self) -> Snapshot {
        // Acquire pairs with the AcqRel RMWs below: a reader that sees
        // COMPLETE also sees the output written before it, one that sees
        // CANCELLED sees the cause stored before it.
        Snapshot(self.val.load(Acquire))
    }

    /// RMW loop. `AcqRel` on success: Acquire so the new owner sees what the
    /// previous owner wrote (future, output, cause, waker slot), Release so
    /// the next owner sees ours. `Acquire` on failure: the retried closure
    /// decides on the fresh value.
    fn fetch_update_action<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.load();
        loop {
            let (out, next) = f(curr);
            let Some(next) = next else { return out };
            match self.val.compare_exchange(curr.0, next.0, AcqRel, Acquire) {
                Ok(_) => return out,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    fn fetch_update(
        &self,
        mut f: impl FnMut(Snapshot) -> Option<Snapshot>,
    ) -> Result<Snapshot, Snapshot> {
        let mut curr = self.load();
        loop {
            let Some(next) = f(curr) else {
                return Err(curr);
            };
            match self.val.compare_exchange(curr.0, next.0, AcqRel, Acquire) {
                Ok(_) => return Ok(next),
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// A worker dequeued a `Notified` and wants to poll.
    #[inline]
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update_action(|mut s| {
            debug_assert!(s.is_notified());
            if !s.is_idle() {
                // Stale notification (task completed by shutdown, or a
                // double notification cannot happen: C3). Drop its ref.
                s.ref_dec();
                let r = if s.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (r, Some(s));
            }
            s.0 |= RUNNING;
            s.0 &= !NOTIFIED;
            let r = if s.is_aborted() {
                TransitionToRunning::Aborted
            } else {
                TransitionToRunning::Success
            };
            (r, Some(s))
        })
    }

    /// After a poll returned `Pending`: the one RMW that re-checks
    /// NOTIFIED/ABORTED (Acquire, via the CAS) while clearing RUNNING.
    #[inline]
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        // A plain CAS loop (not `fetch_update_action`): this runs after
        // every `Pending` poll, and the closure's `(T, Option<Snapshot>)`
        // went through the stack.
        let mut curr = self.load();
        loop {
            debug_assert!(curr.is_running());
            if curr.is_aborted() {
                return TransitionToIdle::Aborted;
            }
            let mut s = curr;
            s.0 &= !RUNNING;
            let r = if s.is_notified() {
                // Woken or cancelled while running: keep NOTIFIED and
                // reserve a ref for the new Notified. The worker keeps its
                // own ref until the push returned (it drops it then), so
                // nothing it borrows from the task can be freed under it.
                s.ref_inc();
                TransitionToIdle::OkNotified
            } else {
                s.ref_dec();
                if s.ref_count() == 0 {
                    TransitionToIdle::OkDealloc
                } else {
                    TransitionToIdle::Ok
                }
            };
            // Orderings as in `fetch_update_action` (which they pair with).
            match self.val.compare_exchange(curr.0, s.0, AcqRel, Acquire) {
                Ok(_) => return r,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// RUNNING -> COMPLETE. Release publishes the output to the join handle
    /// (which reads it after an Acquire load that sees COMPLETE). Acquire
    /// pairs with the Release half of the handle's `set_join_waker` CAS: if
    /// we see JOIN_WAKER, we see the waker it wrote into the slot, which
    /// `wake_join` then reads.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        const DELTA: usize = RUNNING | COMPLETE;
        let prev = Snapshot(self.val.fetch_xor(DELTA, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        Snapshot(prev.0 ^ DELTA)
    }

    /// Drop `count` refs at once; true if they were the last.
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        // AcqRel: like `Arc`'s drop, the last decrement must see every
        // access made under the other refs before freeing.
        let prev = Snapshot(self.val.fetch_sub(count * REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= count, "refcount underflow");
        prev.ref_count() == count
    }

    /// A waker is consumed by `wake()`.
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotified {
        self.fetch_update_action(|mut s| {
            if s.is_running() {
                // The worker re-checks NOTIFIED in transition_to_idle and
                // re-queues; our ref is not needed (the runner holds one).
                s.0 |= NOTIFIED;
                s.ref_dec();
                debug_assert!(s.ref_count() > 0);
                (TransitionToNotified::DoNothing, Some(s))
            } else if s.is_complete() || s.is_notified() {
                s.ref_dec();
                let r = if s.ref_count() == 0 {
                    TransitionToNotified::Dealloc
                } else {
                    TransitionToNotified::DoNothing
                };
                (r, Some(s))
            } else {
                // Idle: reserve a ref for the Notified. The waker keeps its
                // own until `schedule` returned (the caller drops it then),
                // so the push never runs on a task that may already be freed.
                s.0 |= NOTIFIED;
                s.ref_inc();
                (TransitionToNotified::Submit, Some(s))
            }
        })
    }

    /// `wake_by_ref()`.
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotified {
        self.fetch_update_action(|mut s| {
            if s.is_complete() || s.is_notified() {
                (TransitionToNotified::DoNothing, None)
            } else if s.is_running() {
                s.0 |= NOTIFIED;
                (TransitionToNotified::DoNothing, Some(s))
            } else {
                s.0 |= NOTIFIED;
                s.ref_inc();
                (TransitionToNotified::Submit, Some(s))
            }
        })
    }

    /// Sets `flag` (CANCELLED or ABORTED) and notifies the task so it is
    /// polled (or dropped) again. Returns `(first, action)`: `first` is true
    /// if this call set the flag.
    pub(crate) fn transition_to_notified_and_flag(
        &self,
        flag: usize,
    ) -> (bool, TransitionToNotified) {
        debug_assert!(flag == CANCELLED || flag == ABORTED);
        self.fetch_update_action(|mut s| {
            if s.0 & flag != 0 || s.is_complete() {
                return ((false, TransitionToNotified::DoNothing), None);
            }
            s.0 |= flag;
            if s.is_running() || s.is_notified() {
                s.0 |= NOTIFIED;
                ((true, TransitionToNotified::DoNothing), Some(s))
            } else {
                s.0 |= NOTIFIED;
                s.ref_inc();
                ((true, TransitionToNotified::Submit), Some(s))
            }
        })
    }

    /// Shutdown: take ownership of an idle task (returns true: the caller
    /// must drop the future and complete it), or mark it aborted so whoever
    /// owns it drops it.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update_action(|mut s| {
            if s.is_complete() {
                return (false, None);
            }
            s.0 |= ABORTED;
            if s.is_idle() {
                s.0 |= RUNNING;
                (true, Some(s))
            } else {
                (false, Some(s))
            }
        })
    }

    /// Fast path for dropping a `JoinHandle` right after spawn.
    pub(crate) fn drop_join_handle_fast(&self) -> Result<(), ()> {
        self.val
            .compare_exchange_weak(
                INITIAL_STATE,
                (INITIAL_STATE - REF_ONE) & !JOIN_INTEREST,
                // Release: this drops a ref, like `Arc`'s drop: it pairs with
                // the AcqRel decrement of whoever drops the last ref, so our
                // accesses through the handle happen-before the free (today
                // the handle wrote nothing; the ordering keeps that
                // assumption out of the refcount's argument). Relaxed on
                // failure: the slow path then decides on a fresh load.
                Release,
                Relaxed,
            )
            .map(|_| ())
            .map_err(|_| ())
    }

    /// The `JoinHandle` is dropped (its ref is dropped separately).
    pub(crate) fn transition_to_join_handle_dropped(&self) -> TransitionToJoinHandleDrop {
        self.fetch_update_action(|mut s| {
            debug_assert!(s.is_join_interested());
            let mut t = TransitionToJoinHandleDrop {
                drop_waker: false,
                drop_output: false,
            };
            s.0 &= !JOIN_INTEREST;
            if !s.is_complete() {
                // Rule 1: clearing JOIN_WAKER gives the handle the slot back.
                s.0 &= !JOIN_WAKER;
            } else {
                t.drop_output = true;
            }
            if !s.is_join_waker_set() {
                t.drop_waker = true;
            }
            (t, Some(s))
        })
    }

    /// Rule 2: publish the join waker. Fails if the task completed.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|mut s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                return None;
            }
            s.0 |= JOIN_WAKER;
            Some(s)
        })
    }

    /// Rule 3: take the slot back to change the waker. Fails if complete.
    pub(crate) fn unset_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|mut s| {
            debug_assert!(s.is_join_interested());
            if s.is_complete() {
                return None;
            }
            // Only checked when not complete: after completion the runtime
            // may have cleared JOIN_WAKER (rule 4) since the handle saw it.
            debug_assert!(s.is_join_waker_set());
            s.0 &= !JOIN_WAKER;
            Some(s)
        })
    }

    /// Rule 4: the runtime is done with the waker after completion.
    pub(crate) fn unset_waker_after_complete(&self) -> Snapshot {
        // AcqRel. Release: our use of the join waker (the `wake_join` just
        // before) happens-before the handle's next RMW that sees JOIN_WAKER
        // clear (`transition_to_join_handle_dropped`'s AcqRel CAS), after
        // which it may drop or replace the slot's waker; weaker, its drop
        // could race our read. Acquire: pairs with the Release half of that
        // same CAS when it came first (JOIN_INTEREST already clear): the slot
        // is then ours to drop, and we must see the handle's last writes.
        let prev = Snapshot(self.val.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set());
        Snapshot(prev.0 & !JOIN_WAKER)
    }

    pub(crate) fn ref_inc(&self) {
        // Relaxed: a new ref is made from an existing one, which keeps the
        // task alive; nothing is published (same argument as `Arc::clone`).
        let prev = self.val.fetch_add(REF_ONE, Relaxed);
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// True if this was the last ref.
    pub(crate) fn ref_dec(&self) -> bool {
        // AcqRel: see `transition_to_terminal`.
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= 1);
        prev.ref_count() == 1
    }
}

impl Snapshot {
    pub(crate) fn is_idle(self) -> bool {
        self.0 & LIFECYCLE_MASK == 0
    }
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_aborted(self) -> bool {
        self.0 & ABORTED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) >> REF_SHIFT
    }
    fn ref_inc(&mut self) {
        self.0 += REF_ONE;
    }
    fn ref_dec(&mut self) {
        debug_assert!(self.ref_count() > 0);
        self.0 -= REF_ONE;
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("notified", &self.is_notified())
            .field("complete", &self.is_complete())
            .field("cancelled", &self.is_cancelled())
            .field("aborted", &self.is_aborted())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .finish()
    }
}
