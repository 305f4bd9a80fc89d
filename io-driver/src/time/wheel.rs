//! [`Wheel`]: the timer wheel shared by the driver and every timer user,
//! behind one `crate::loom::Mutex`.
//!
//! # Protocol with the driver
//!
//! `Driver::park` does, in order:
//!
//! 1. `next_deadline()`: the earliest due instant. The wheel records that
//!    a park is *being prepared* with that limit ([`Park::Preparing`]).
//! 2. `set_parked_until(t)`: the epoll wait will return by `t`, or only
//!    when interrupted if `t` is `None` ([`Park::Parked`]).
//! 3. the epoll wait.
//! 4. `set_parked_until(None)` again: the wait is over ([`Park::Idle`]),
//!    then `fire_expired(now)`.
//!
//! (`set_parked_until(None)` means "unbounded wait" right after step 1 and
//! "not parked" otherwise: the state machine tells them apart.) A
//! non-blocking turn (limit zero) skips steps 1, 2 and 4: its wait ends at
//! once, so no insert needs to unpark it, and the state stays
//! [`Park::Idle`].
//!
//! An `insert` answers "needs unpark" when the new timer is due before the
//! instant the driver will return by: the limit of step 2, or the limit
//! read in step 1 while between 1 and 2. Without the step-1 record a timer
//! inserted between 1 and 2 would be missed: the driver would sleep to its
//! older, later limit (`loom_insert_while_parking` checks this). An unpark
//! sent before the wait starts makes the wait return at once (the mio waker
//! stays signalled), so none is lost.
//!
//! # Lock discipline
//!
//! No user code runs under the lock: waking, cloning or dropping a
//! `Waker` and cancelling or dropping a `CancelToken` all happen after it
//! is released. (Dropping a waker can free a task whose future owns a
//! `Sleep`, whose drop takes this lock again.) Fired actions are moved out
//! of their entries *under* the lock, in the same critical section that
//! frees the entries: after that, `remove` of the same key finds it stale
//! and reports "already fired". So an entry is fired once or removed
//! once, never both (`loom_fire_vs_cancel`).
//!
//! # Shutdown
//!
//! `shutdown` wakes every sleeper and drops every deadline-scope action
//! (without cancelling: shutdown cancels the runtime's root token itself).
//! Later inserts are refused; the futures then answer `Err(Cancelled)` with
//! cause `Shutdown` (`Sleep`, `Interval`) or `Err(Elapsed)` (`Timeout`).

use std::task::Waker;
use std::time::{Duration, Instant};

use quell_cancel::rt_internal::waiters;
use quell_cancel::Cause;

use super::entry::{Action, TimerKey};
use super::levels::Levels;
use crate::loom::Mutex;

/// The shared timer wheel of one driver.
pub(crate) struct Wheel {
    /// Tick 0. Ticks are whole milliseconds after it.
    start: Instant,
    state: Mutex<State>,
}

struct State {
    levels: Levels,
    park: Park,
    shutdown: bool,
}

/// Where the driver is in the park protocol (module docs). A limit of
/// `None` is an unbounded wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Park {
    /// Not waiting (running, dispatching, or not a driver turn at all).
    Idle,
    /// Between steps 1 and 2: will wait with at most this limit.
    Preparing(Option<Instant>),
    /// Steps 2-3: waiting until at most this.
    Parked(Option<Instant>),
}

/// Result of [`Wheel::insert`]. The refused action is handed back so that
/// it is dropped by the caller, after the lock was released.
#[allow(dead_code)] // the refused actions are carried only to be dropped
pub(crate) enum Insert {
    /// Scheduled; `unpark`: the caller must `Handle::unpark()` the driver.
    Armed { key: TimerKey, unpark: bool },
    /// The deadline has already passed; nothing scheduled.
    Expired(Action),
    /// The driver shut down; nothing scheduled.
    Shutdown(Action),
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            start: Instant::now(),
            state: Mutex::new(State {
                levels: Levels::new(),
                park: Park::Idle,
                shutdown: false,
            }),
        }
    }

    /// The tick at which a timer for `deadline` fires: rounded *up*, so a
    /// timer never fires before its deadline.
    fn tick_for(&self, deadline: Instant) -> u64 {
        let d = deadline.saturating_duration_since(self.start);
        let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
        // Clamp absurd deadlines (centuries away) far beyond the wheel.
        ms.min(u128::from(u64::MAX >> 2)) as u64
    }

    /// The instant of `tick` (`None` if not representable).
    fn instant_of(&self, tick: u64) -> Option<Instant> {
        self.start.checked_add(Duration::from_millis(tick))
    }

    /// The tick `now` is in (rounded down).
    fn now_tick(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.start).as_millis() as u64
    }

    /// Schedules `action` for `deadline`. O(1).
    pub(crate) fn insert(&self, deadline: Instant, action: Action) -> Insert {
        let when = self.tick_for(deadline);
        let fire_at = self.instant_of(when);
        let mut st = self.state.lock().unwrap();
        if st.shutdown {
            return Insert::Shutdown(action);
        }
        match st.levels.insert(when, action) {
            Ok(key) => {
                let unpark = st.needs_unpark(fire_at);
                Insert::Armed { key, unpark }
            }
            Err(action) => Insert::Expired(action),
        }
    }

    /// Unschedules `key`. `true` if it was still scheduled (it will never
    /// fire); `false` if it already fired, was removed, or the wheel shut
    /// down. O(1). The action is dropped after the lock is released.
    pub(crate) fn remove(&self, key: TimerKey) -> bool {
        let action = self.state.lock().unwrap().levels.remove(key);
        action.is_some()
    }

    /// Moves `key` to `deadline` (used by `Sleep::reset`). `Ok(unpark)` if
    /// still scheduled, `Err(())` if the key is stale or the new deadline
    /// has passed (then nothing is scheduled any more).
    pub(crate) fn reset(&self, key: TimerKey, deadline: Instant) -> Result<bool, ()> {
        let when = self.tick_for(deadline);
        let fire_at = self.instant_of(when);
        let mut st = self.state.lock().unwrap();
        match st.levels.reset(key, when) {
            Ok(true) => Ok(st.needs_unpark(fire_at)),
            Ok(false) => Err(()),
            Err(action) => {
                drop(st);
                drop(action);
                Err(())
            }
        }
    }

    /// Makes `key` wake `waker` instead of the waker it holds. `false` if
    /// the key is stale (fired, removed, or shut down).
    pub(crate) fn update_waker(&self, key: TimerKey, waker: &Waker) -> bool {
        {
            let mut st = self.state.lock().unwrap();
            match st.levels.action_mut(key) {
                Some(Action::Wake(w)) if w.will_wake(waker) => return true,
                Some(_) => {}
                None => return false,
            }
        }
        // Clone outside the lock (user code), then swap under it.
        let new = waker.clone();
        let old = {
            let mut st = self.state.lock().unwrap();
            match st.levels.action_mut(key) {
                Some(a) => Some(std::mem::replace(a, Action::Wake(new))),
                None => None,
            }
        };
        old.is_some()
    }

    /// Number of scheduled timers.
    pub(crate) fn len(&self) -> usize {
        self.state.lock().unwrap().levels.len()
    }

    /// Whether the wheel was shut down.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.state.lock().unwrap().shutdown
    }

    /// Protocol step 1: the instant the earliest timer is due, if any.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let mut st = self.state.lock().unwrap();
        let next = st.levels.next_expiration().and_then(|t| self.instant_of(t));
        st.park = Park::Preparing(next);
        next
    }

    /// Protocol steps 2 and 4.
    pub(crate) fn set_parked_until(&self, t: Option<Instant>) {
        let mut st = self.state.lock().unwrap();
        st.park = match (st.park, t) {
            (_, Some(t)) => Park::Parked(Some(t)),
            (Park::Preparing(_), None) => Park::Parked(None), // step 2, unbounded
            (_, None) => Park::Idle,                          // step 4
        };
    }

    /// Fires every timer due at `now`: the actions are taken under the
    /// lock, then run outside it, each inside `catch_unwind`.
    pub(crate) fn fire_expired(&self, now: Instant) {
        let mut fired = Vec::new();
        {
            let mut st = self.state.lock().unwrap();
            // An empty wheel (every turn of a runtime without timers) skips
            // the tick arithmetic.
            let Some(next) = st.levels.next_expiration() else {
                return;
            };
            let now = self.now_tick(now);
            if next > now {
                return;
            }
            st.levels.poll(now, &mut fired);
        }
        for action in fired {
            run(action);
        }
    }

    /// Wakes every sleeper and refuses later inserts (see the module docs).
    pub(crate) fn shutdown(&self) {
        let mut all = Vec::new();
        {
            let mut st = self.state.lock().unwrap();
            st.shutdown = true;
            st.levels.drain(&mut all);
        }
        for action in all {
            match action {
                Action::Wake(w) => waiters::wake(w),
                Action::Cancel(token) => drop(token),
            }
        }
    }

    #[cfg(all(test, loom))]
    pub(crate) fn start(&self) -> Instant {
        self.start
    }
}

impl State {
    /// Whether a timer firing at `fire_at` is earlier than the instant the
    /// driver will return by (protocol, above).
    fn needs_unpark(&self, fire_at: Option<Instant>) -> bool {
        let Some(fire_at) = fire_at else {
            return false; // not representable: never earlier than anything
        };
        match self.park {
            Park::Idle => false, // nobody in or entering the wait
            Park::Preparing(limit) | Park::Parked(limit) => limit.is_none_or(|l| fire_at < l),
        }
    }
}

/// Runs a fired action (outside the lock; panics of user wakers contained).
fn run(action: Action) {
    match action {
        Action::Wake(w) => waiters::wake(w),
        Action::Cancel(token) => {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // The cancel's call site: where the deadline was set.
                match token.deadline_site() {
                    Some(at) => token.cancel_from(Cause::deadline_exceeded(), at),
                    None => token.cancel(Cause::deadline_exceeded()),
                }
            }));
        }
    }
}
