//! The LIFO slot's notification protocol: who is told about a task that
//! the running task woke, and when (contracts C5 and C13).
//!
//! A task B woken by the running task A goes to the LIFO slot of A's
//! worker (the *owner*) and runs next, when A's poll ends; so does a task
//! A spawns while the slot is empty (`worker::Kind::Spawned`, always
//! offered at step 1; a spawn that finds the slot full is a local-queue
//! push, pusher steps 2–3). Waking another
//! worker for B is useless if A's poll ends soon (the owner runs B before
//! the woken worker could), and it costs a fence and usually a futex wake
//! on the owner's thread, i.e. on B's critical path: most task-to-task
//! wakes (a channel send, a `Notify`, a join) come right before the waker
//! parks. It is needed only when A's poll runs on, so the owner
//! *predicts*, from its own recent history, whether the poll that is
//! filling the slot will run on.
//!
//! # Protocol
//!
//! Owner, filling the slot during a poll (`worker::schedule_local`):
//! 1. unless each of this worker's last [`OFFER_HOLD`] fills was followed
//!    by a short poll ([`WakePredictor`]; a fresh worker has no such
//!    history), the fill is **offered**: the slot pointer carries
//!    [`OFFERED`]. The only worker of a one-worker runtime never offers
//!    (no one else could take the task). A spawned task is always offered
//!    (except on that one worker): deferring it would strand the child of
//!    a spawner that blocks its worker until the child ran, which the
//!    queue push a spawn used to be never did;
//! 2. put the pointer in the slot (a Release store if the slot is empty —
//!    only the owner fills it, so it stays empty until then — else a swap,
//!    which races a stealer for the previous task); a displaced previous
//!    task goes to the local queue;
//! 3. if a task was displaced, or the fill is offered: the pusher steps 2–3
//!    of the idle protocol (`Handle::notify_parked`: `fence(SeqCst)`, load
//!    the idle state, wake a sleeper if no one searches). Otherwise
//!    nothing: the fill is **deferred**;
//! 4. when the poll ends, take the slot before anything else
//!    (`worker::run_task`) and run its task; and teach the predictor:
//!    * (4a) a fill is **timed** only if, when it was made, a worker was
//!      parked and none searched (the state the notification of step 3
//!      loaded after its fence, or for a deferred fill an unfenced load:
//!      a hint that decides only the timing, never who is notified):
//!      only then does the prediction decide whether someone is woken.
//!      A timed fill is stamped after step 3 (a notification's own
//!      syscall is not "the poll running on"); the fill is judged
//!      against the state seen *before* that notification (a worker it
//!      woke counts as searching);
//!    * (4b) the poll counts as long if the slot was already empty (another
//!      worker took the task: offering was useful, even if the poll then
//!      ended soon *because* the task ran elsewhere, as for a waker that
//!      spins until its wakee has run), or if a timed fill's poll ran on
//!      for `lifo_steal_after` after the stamp (two TSC reads); as short
//!      if a timed fill's poll ended sooner; an untimed fill whose task
//!      was not taken teaches nothing (the state is kept). So a busy
//!      runtime pays no clock read per message, and fills made while
//!      no one could be woken never train the worker towards deferring
//!      (counting them as short stranded a busy waker's task once the
//!      other worker had parked: `tests/rt_lifo_busy_waker.rs`).
//!
//! Searcher (`steal.rs`, `Core::rescue_lifo`):
//! 5. an offered task is taken when a second search round still sees it,
//!    with the owner's tick unchanged (CAS on the exact tagged pointer):
//!    one round later than at once, so that an owner whose poll was about
//!    to end takes it back first (a spinning searcher does not pull a
//!    ping-pong pair apart);
//! 6. a deferred task is taken only after it has stayed in the slot, with
//!    the owner's tick unchanged, for `lifo_steal_after`; past its spin
//!    budget a searcher keeps watching a sighting, for at most a few new
//!    sightings (steal.rs), then parks.
//!
//! Last searcher about to park (idle.rs, parker step 2):
//! 7. after `fence(SeqCst)`, the re-check counts queues and **offered**
//!    slots as work (`Handle::has_work_anywhere`), not deferred slots.
//!
//! # Wake batches
//!
//! A cancel that reaches several parked tasks (a group's first error and
//! its siblings) wakes them as one batch (quell-cancel
//! `waiters::WakeBatch`: all of a node's waiters at once, so a group's
//! siblings are batched from the first; a walk that wakes one task first
//! and more later batches from the second, the first being an ordinary
//! wake, a LIFO fill). While a batch is open (`worker::wake_batch`), the
//! woken tasks go to the owner's local queue in wake order, without a notification. Then
//! ([`Batches`]):
//!
//! 8. when the last open batch closes having queued tasks, the owner
//!    decides as at step 1: if it would offer a fill, it **announces** the
//!    batch (pusher steps 2–3 once, for every task it queued: each push
//!    came before that fence); otherwise the batch is **quiet**: no one is
//!    told, the owner reaches its tasks within a few short polls, sooner
//!    than a woken worker would (about one wake latency, plus a futex or
//!    eventfd write on the owner's path), and the time is stamped. The
//!    polls to go before the batch's last task runs (this one, the LIFO
//!    slot's, the local queue's) are recorded. The only worker of a
//!    runtime never announces (no one to tell). An announced batch whose
//!    notification woke a sleeper teaches the predictor when the
//!    `run_task` that closed it ends: as a long poll (step 4b) if it ran
//!    on for `lifo_steal_after` after the notification, or if the local
//!    queue is shorter than it was then, or was empty then (a thief took
//!    the batch's tasks while the poll ran: the poll may have ended only
//!    because they ran, as for a canceller that spins until its victims
//!    have run); as a short one otherwise. Without this, a worker that
//!    announces learns nothing from its batches, and announces forever;
//! 9. for those polls, a task woken on the owner goes to the back of the
//!    local queue, behind the batch, instead of the LIFO slot (with steps
//!    2–3 unless quiet): a group's waiter, woken by the first sibling's
//!    completion, runs once after all of them and joins them in one poll
//!    instead of running between each (and pulling the next sibling's
//!    wake-up behind its own poll);
//! 10. while quiet, every push to the owner's local queue (step 9, a yield,
//!     a spawn) skips the notification too, and the end of each `run_task`
//!     (a poll and the LIFO polls that followed it) checks the time: if the
//!     polls since the stamp ran for `lifo_steal_after` or longer (a
//!     misprediction), the quiet ends with the pusher steps 2–3 (a sleeper
//!     is woken for what is left), and if some of the batch's own polls
//!     were still to go (step 9), it teaches the predictor as a long poll
//!     (step 4b); otherwise it is stamped again. (A long poll after the
//!     batch's last task ran — the group's waiter completing and waking
//!     the thread that awaits it — says nothing about the poll that closed
//!     the batch; learning from it kept every next batch announced.) The
//!     quiet ends too when the owner's local queue is empty at such an end, and when the run loop
//!     finds no local work (a thief took the rest: a later push must not be
//!     quiet, `loom_lifo_quiet_batch_then_busy_spawner`).
//!
//! # Invariants
//!
//! * I1: only the owner fills its slot, and only while it holds its core
//!   in a poll (or a driver turn, whose wakes bypass the slot); every swap
//!   or CAS that empties the slot takes the `Notified`'s ref, so exactly one
//!   thread gets it (C3).
//! * I2: the owner never parks with its slot non-empty: `worker::park`
//!   checks `has_local_work` (which reads the slot) before it parks, and
//!   `run_task` empties the slot after every poll (running the task or, past
//!   `max_lifo_polls`, moving it to the local queue, which is then popped
//!   before the owner parks).
//! * I3: an offered fill is followed by steps 2–3 of the idle protocol, so
//!   the store-then-fence-then-load pairing of idle.rs applies to it as to
//!   any queue push: either the pusher sees no searcher and wakes a sleeper,
//!   or the last searcher's re-check (step 7) sees the offered pointer.
//!
//! # Why C5 holds
//!
//! C5 ("if a run queue is non-empty, some worker is awake or will wake"),
//! with the LIFO slot as a run queue:
//!
//! * queues and the injector: unchanged (the idle protocol);
//! * an offered slot: I3, the same argument as a queue;
//! * a deferred slot: its owner is awake. By I1 it was filled during a poll
//!   of the owner; that poll is running on the owner's thread, and when it
//!   returns the owner takes the slot (step 4) and cannot park before it is
//!   empty (I2).
//! * a quiet batch's tasks, and what was pushed while quiet (step 10): in
//!   the owner's local queue, pushed during a poll of the owner, which is
//!   awake; it runs its queue before it parks (`run` parks only after
//!   `next_task` found nothing, and `park` checks `has_local_work`). They
//!   are stealable at once (a queue, not a slot), and a last searcher's
//!   re-check counts them. An announced batch is a queue push (step 8).
//!
//! The exact latency claim (C13) for a task B filled into the slot by a
//! poll of A: B is polled by the time A's poll returns plus the polls of
//! at most `max_lifo_polls` other LIFO tasks, or earlier:
//!
//! * **offered**: after about one wake latency when a worker is parked
//!   (woken at step 3, it takes B at step 5), or within two rounds of an
//!   awake searcher;
//! * **deferred**, some other worker awake: a searcher takes B after
//!   `lifo_steal_after` (step 6); a busy worker does when its poll ends and
//!   it searches (searching always comes before parking);
//! * **deferred**, every other worker parked: the fill was deferred because
//!   each of the worker's last [`OFFER_HOLD`] fills was followed by a short
//!   poll. B waits for A's poll: this is the budgeted exception. Only a long poll that breaks such a run (a
//!   *misprediction*) strands its B, for that one poll; it teaches the
//!   predictor (step 4), and the next fills are offered. A mispredicted
//!   poll that never returns strands its B, as it strands the rest of its
//!   worker's local queue. A long poll of an untimed fill (made while no
//!   one could be woken) is not learned either; if a worker parks before
//!   the next fill, that fill follows the older history (the same one
//!   misprediction). (Two shortcuts were measured and dropped: gating the
//!   offer on a plain load of the idle state loses offered tasks — loom —
//!   and counting fills made while no notification could wake anyone as
//!   short stranded a busy waker's task in `tests/rt_lifo_busy_waker.rs`,
//!   as did counting a quickly rescued fill as short.)
//! * **a quiet batch** (step 8), every other worker parked: the same
//!   budgeted exception. The batch's tasks wait for the owner's polls,
//!   which were predicted short; a poll that runs long strands what is
//!   left for that poll (and the LIFO polls of its `run_task`), then step
//!   10 wakes a sleeper for it. A poll that never returns strands the rest
//!   of the queue, as for a deferred fill.
//!
//! An idle runtime stays idle: nothing here wakes a worker on a timer; a
//! deferred fill wakes no one, and a searcher parks after its spin budget
//! plus at most one `lifo_steal_after` watch.

use crate::task::Header;

/// Bit 0 of a slot pointer (headers are at least 8-byte aligned): the fill
/// was offered (step 1), a searcher may take it without waiting (step 5).
pub(crate) const OFFERED: usize = 1;

/// The pointer to store in the slot for `header`, offered or not.
pub(crate) fn tagged(header: *mut Header, offered: bool) -> *mut Header {
    header.map_addr(|a| a | if offered { OFFERED } else { 0 })
}

/// The header a slot pointer refers to (tag removed).
pub(crate) fn untagged(p: *mut Header) -> *mut Header {
    p.map_addr(|a| a & !OFFERED)
}

/// Whether a (non-null) slot pointer was offered.
pub(crate) fn is_offered(p: *mut Header) -> bool {
    p.addr() & OFFERED != 0
}

/// Polls after a long one during which fills are offered (hysteresis:
/// a mix of short and long polls stays offered, the stranding side).
const OFFER_HOLD: u8 = 2;

/// Predicts, per worker, whether the poll that fills the LIFO slot will
/// run on for longer than `lifo_steal_after` (steps 1 and 4).
///
/// A long observation offers the next [`OFFER_HOLD`] fills; each short one
/// counts down; a fresh worker offers its first [`OFFER_HOLD`]. Under loom the prediction is fixed by the config
/// (`lifo_offer`) and nothing is timed, so models explore both branches
/// deterministically.
pub(crate) struct WakePredictor {
    offer_next: u8,
    /// The fills of the current poll (the last timed one's stamp).
    #[cfg(not(loom))]
    fill: Fill,
    /// `lifo_steal_after` in [`stamp`] units.
    #[cfg(not(loom))]
    long: u64,
}

/// What the current poll filled (step 4 learns from it).
#[cfg(not(loom))]
#[derive(Clone, Copy)]
enum Fill {
    /// Nothing yet.
    None,
    /// Only fills made while no notification could wake anyone: not timed.
    Untimed,
    /// A fill made while a worker was parked and none searched, stamped.
    Timed(u64),
}

impl WakePredictor {
    /// A fresh worker offers (no evidence that its polls end soon), unless
    /// it is the runtime's only worker (`sole`): then no one else could
    /// take an offered task, and its fills are never timed (no worker is
    /// parked while it polls), so it would offer — a fence per fill — for
    /// ever.
    #[cfg(not(loom))]
    pub(crate) fn new(config: &super::Config, sole: bool) -> WakePredictor {
        WakePredictor {
            offer_next: if sole { 0 } else { OFFER_HOLD },
            fill: Fill::None,
            long: stamp::units(config.lifo_steal_after),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new(config: &super::Config, _sole: bool) -> WakePredictor {
        WakePredictor {
            offer_next: if config.lifo_offer { u8::MAX } else { 0 },
        }
    }

    /// Step 1: offer this fill?
    pub(crate) fn offer(&self) -> bool {
        self.offer_next > 0
    }

    /// A fill happened in the current poll (step 4a). `could_wake`: a
    /// worker was parked and none searched when it was made, i.e. the
    /// prediction mattered; only then is the fill stamped. Otherwise the
    /// poll teaches nothing about its length (no clock read on the message
    /// path of a busy runtime), only whether its task was taken.
    #[cfg(not(loom))]
    pub(crate) fn filled(&mut self, could_wake: bool) {
        if could_wake {
            self.fill = Fill::Timed(stamp::now());
        } else if let Fill::None = self.fill {
            self.fill = Fill::Untimed;
        }
    }

    #[cfg(loom)]
    pub(crate) fn filled(&mut self, _could_wake: bool) {}

    /// Step 4b: the poll ended; `taken`: the slot was empty then, so
    /// another worker took the task (offering was useful, whatever the
    /// poll's length: it may have ended soon only because the task ran
    /// elsewhere, e.g. a waker that spins until its wakee has run).
    #[cfg(not(loom))]
    pub(crate) fn poll_ended(&mut self, taken: bool) {
        match std::mem::replace(&mut self.fill, Fill::None) {
            Fill::None => {}
            Fill::Untimed if taken => self.learn(true),
            // Not evidence either way: keep the state (counting it as
            // short let a busy waker's task strand, see the module docs).
            Fill::Untimed => {}
            Fill::Timed(at) => {
                self.learn(taken || stamp::now().wrapping_sub(at) >= self.long);
            }
        }
    }

    #[cfg(loom)]
    pub(crate) fn poll_ended(&mut self, _taken: bool) {}

    /// Step 4b's lesson: a long poll offers the next [`OFFER_HOLD`] fills
    /// and batches; a short one counts down.
    #[cfg(not(loom))]
    fn learn(&mut self, long: bool) {
        self.offer_next = if long {
            OFFER_HOLD
        } else {
            self.offer_next.saturating_sub(1)
        };
    }
}

/// This worker's wake batches (steps 8–10): how deep the open ones are
/// nested and whether they queued anything; then, once they closed, for
/// how many polls a task woken here goes behind them (step 9) and whether
/// they are quiet (queued without a notification, their polls timed, step
/// 10).
pub(crate) struct Batches {
    /// [`QUIET`], the open batches' depth ([`DEPTH`]), [`QUEUED`] and
    /// the polls to go before the last closed batch's last task has run,
    /// at most ([`AHEAD`]). One word: every local wake checks it (zero:
    /// none of this applies), and so does the end of every `run_task`.
    state: u32,
    /// The only worker of its runtime: no one to announce a batch to.
    sole: bool,
    /// When the polls being timed (step 10) were stamped.
    #[cfg(not(loom))]
    since: u64,
    /// An announced batch whose notification woke a sleeper (step 8):
    /// when, and the local queue's length then.
    #[cfg(not(loom))]
    announced: Option<(u64, usize)>,
}

/// [`Batches::state`]: polls to go (step 9).
const AHEAD: u32 = (1 << 23) - 1;
/// [`Batches::state`]: a task was queued while a batch was open.
const QUEUED: u32 = 1 << 23;
/// [`Batches::state`]: the depth of the open batches (one unit, all bits).
const DEPTH_ONE: u32 = 1 << 24;
const DEPTH: u32 = 0x7f << 24;
/// [`Batches::state`]: the closed batches are quiet (step 10).
const QUIET: u32 = 1 << 31;

impl Batches {
    pub(crate) fn new(sole: bool) -> Batches {
        Batches {
            state: 0,
            sole,
            #[cfg(not(loom))]
            since: 0,
            #[cfg(not(loom))]
            announced: None,
        }
    }

    /// Step 8: the batch just announced woke a sleeper; `len` is the local
    /// queue's length after the notification.
    pub(crate) fn announced(&mut self, len: usize) {
        #[cfg(not(loom))]
        {
            self.announced = Some((stamp::now(), len));
        }
        #[cfg(loom)]
        let _ = len;
    }

    /// Opens a (nested) batch; `false` if too deeply nested (the wakes
    /// then go through one by one, as outside a batch).
    pub(crate) fn open(&mut self) -> bool {
        if self.state & DEPTH == DEPTH {
            return false;
        }
        self.state += DEPTH_ONE;
        true
    }

    /// A batch is open: woken tasks go to the local queue, in wake order,
    /// without a notification.
    #[inline]
    pub(crate) fn is_open(&self) -> bool {
        self.state & DEPTH != 0
    }

    /// A task was queued while a batch is open.
    #[inline]
    pub(crate) fn queued(&mut self) {
        self.state |= QUEUED;
    }

    /// Closes the innermost open batch. Step 8 if it was the last and a
    /// task was queued: `ahead()` polls to go before its last task has run
    /// (the current poll, the LIFO slot and the local queue). Returns
    /// whether to announce the batch now (the pusher steps 2–3, once for
    /// every task queued so far).
    pub(crate) fn close(&mut self, predictor: &WakePredictor, ahead: impl FnOnce() -> u32) -> bool {
        debug_assert!(self.is_open(), "closing a batch never opened");
        self.state -= DEPTH_ONE;
        if self.state & (DEPTH | QUEUED) != QUEUED {
            return false;
        }
        let was_quiet = self.state & QUIET != 0;
        let ahead = (self.state & AHEAD).max(ahead().min(AHEAD));
        if self.sole {
            self.state = ahead;
            return false;
        }
        if predictor.offer() {
            // This notification covers an earlier quiet batch's tasks too.
            self.state = ahead;
            return true;
        }
        #[cfg(not(loom))]
        if !was_quiet {
            self.since = stamp::now();
        }
        let _ = was_quiet;
        self.state = QUIET | ahead;
        false
    }

    /// A batch is open or steps 9–10 apply (one check per local wake and
    /// per `run_task`).
    #[inline]
    pub(crate) fn active(&self) -> bool {
        self.state != 0
    }

    /// Step 9: a task woken here is queued behind the batch.
    #[inline]
    pub(crate) fn behind(&self) -> bool {
        self.state & AHEAD != 0
    }

    /// Step 10: pushes to the local queue skip the notification.
    #[inline]
    pub(crate) fn quiet(&self) -> bool {
        self.state & QUIET != 0
    }

    /// Steps 8 (an announced batch's lesson) and 10: `polls` polls ended
    /// (one and the LIFO polls that followed it, `worker::run_task`); `len`:
    /// the local queue's length. Returns whether to run the pusher steps
    /// 2–3 now (quiet polls ran long: wake a sleeper for what is left).
    pub(crate) fn polls_ended(
        &mut self,
        predictor: &mut WakePredictor,
        len: usize,
        polls: u32,
    ) -> bool {
        debug_assert!(!self.is_open(), "a batch closes within its poll");
        #[cfg(not(loom))]
        if let Some((at, then)) = self.announced.take() {
            predictor.learn(len < then.max(1) || stamp::now().wrapping_sub(at) >= predictor.long);
        }
        let queued = len != 0;
        let ahead = (self.state & AHEAD).saturating_sub(polls);
        if self.state & QUIET == 0 || !queued {
            self.state = ahead;
            return false;
        }
        #[cfg(not(loom))]
        {
            let now = stamp::now();
            if now.wrapping_sub(self.since) >= predictor.long {
                // A misprediction while the batch's own polls were still
                // to go: the next fills and batches are offered.
                if ahead != 0 {
                    predictor.learn(true);
                }
                self.state = ahead;
                return true;
            }
            self.since = now;
        }
        #[cfg(loom)]
        let _ = predictor;
        self.state = QUIET | ahead;
        false
    }

    /// Step 10: the run loop found no local work (what the batches queued
    /// has run or was stolen).
    pub(crate) fn run_dry(&mut self) {
        self.state &= DEPTH | QUEUED;
    }
}

/// Runs `unpark` (the wake-up of another worker, `Handle::unpark_worker`)
/// off the predictor's clock on this thread: the owner's own notification
/// is not "the poll running on" (step 4a). On some machines (virtual CPUs
/// here) the waker of a parked thread stalls in the syscall for as long as
/// the woken thread runs, 3–20 µs, four times `lifo_steal_after`; counted,
/// each notification taught the predictor that the poll ran long, so it
/// offered, notified again, and so on.
pub(crate) fn waking(unpark: impl FnOnce()) {
    #[cfg(not(loom))]
    stamp::exclude(unpark);
    #[cfg(loom)]
    unpark();
}

/// The predictor's clock: a fill and the end of its poll are timed on
/// every predicted fill, so it must be cheap. It stops while the thread
/// wakes another worker ([`waking`]). On x86_64 the time-stamp
/// counter (`rdtsc`, ~7 ns here against ~20 ns for `Instant::now`),
/// calibrated once per process against `Instant`; elsewhere `Instant`.
/// Only ever compared with the threshold: an inexact stamp (an unsynchronised
/// TSC across a migration) costs one misprediction, nothing else.
#[cfg(not(loom))]
mod stamp {
    use std::time::{Duration, Instant};

    std::thread_local! {
        /// How long this thread has spent in [`super::waking`] (raw units).
        static WAKING: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// The predictor's clock on this thread: [`raw`] time less the time
    /// spent waking other workers. Never decreases: the amount taken off
    /// was measured on the same raw clock.
    pub(super) fn now() -> u64 {
        raw().wrapping_sub(WAKING.with(std::cell::Cell::get))
    }

    /// Runs `f`, taking its duration off this thread's [`now`].
    pub(super) fn exclude(f: impl FnOnce()) {
        let t = raw();
        f();
        let d = raw().wrapping_sub(t);
        WAKING.with(|w| w.set(w.get().wrapping_add(d)));
    }

    #[cfg(target_arch = "x86_64")]
    fn raw() -> u64 {
        // SAFETY: `rdtsc` has no preconditions: it reads the time-stamp
        // counter, which every x86_64 CPU has; no memory is accessed.
        unsafe { core::arch::x86_64::_rdtsc() }
    }

    /// `d` in counter ticks (ticks per µs measured once, over ~50 µs).
    #[cfg(target_arch = "x86_64")]
    pub(super) fn units(d: Duration) -> u64 {
        static PER_US: crate::loom::OnceLock<f64> = crate::loom::OnceLock::new();
        let per_us = *PER_US.get_or_init(|| {
            let (t0, c0) = (Instant::now(), raw());
            while t0.elapsed() < Duration::from_micros(50) {
                std::hint::spin_loop();
            }
            let (us, c1) = (t0.elapsed().as_secs_f64() * 1e6, raw());
            (c1.wrapping_sub(c0) as f64 / us).max(1.0)
        });
        (d.as_secs_f64() * 1e6 * per_us) as u64
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn raw() -> u64 {
        static BASE: crate::loom::OnceLock<Instant> = crate::loom::OnceLock::new();
        BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }

    #[cfg(not(target_arch = "x86_64"))]
    pub(super) fn units(d: Duration) -> u64 {
        d.as_nanos() as u64
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::Duration;

    use super::WakePredictor;
    use crate::scheduler::Config;

    fn config() -> Config {
        Config {
            global_queue_interval: 61,
            lifo_slot: true,
            max_lifo_polls: 3,
            spin_before_park: 64,
            lifo_steal_after: Duration::from_micros(5),
            event_interval: 61,
        }
    }

    /// Step 1: a fresh worker offers, unless it is the only worker; the
    /// only worker's fills (never made while another worker could be
    /// woken, never taken) keep it deferring.
    #[test]
    fn only_worker_never_offers() {
        assert!(WakePredictor::new(&config(), false).offer());
        let mut p = WakePredictor::new(&config(), true);
        for _ in 0..10 {
            assert!(!p.offer());
            p.filled(false);
            p.poll_ended(false);
        }
        assert!(!p.offer());
    }
}
