//! Readiness of one I/O source and the tasks waiting on it.
//!
//! # The readiness word
//!
//! ```text
//! bits 0..=4   READABLE, WRITABLE, READ_CLOSED, WRITE_CLOSED, ERROR
//! bit  5       SHUTDOWN (the driver is gone: every wait errors)
//! bits 16..=23 tick: incremented by every event dispatch
//! ```
//!
//! # Waiter lists
//!
//! Each direction keeps a small list of wakers, not a single slot: a
//! stream's `&mut self` I/O keeps it at one waiting task per direction,
//! but listeners (`accept(&self)`) and `UdpSocket` (`recv_from(&self)`,
//! `send_to(&self)`, …) can be awaited by several tasks at once, for
//! example acceptors sharing an `Arc<TcpListener>`. An entry is identified
//! by **waker identity** ([`Waker::will_wake`]): a poll whose waker
//! `will_wake` an entry keeps that entry, any other waker is appended.
//! quell's task wakers are stable per task (same header pointer and
//! vtable), so a task holds at most one entry per direction.
//!
//! # Protocol (contracts C6, C7)
//!
//! 1. Dispatch (driver thread): OR the event's bits into the word and bump
//!    the tick (one RMW); then, *under the waiter lock*, take the
//!    **whole** list of every direction that is now ready; wake them all
//!    after unlocking (the driver contains a panicking waker). Every waiter
//!    is woken, not one: with `accept(&self)` shared by several tasks, the
//!    woken tasks race for the connections and the losers go back to
//!    waiting through step 3.
//! 2. Wait (task): load the word; if the direction is ready, return the
//!    readiness with its tick, without the lock (fast path). Else, under
//!    the waiter lock, load it again; if the direction is ready now, remove
//!    this poll's entry (if any) and return the readiness with its tick;
//!    else keep or append this poll's waker (identity rule above, bound in
//!    step 6); unlock; `Pending`. The fast path leaves no entry behind for
//!    good: an entry is appended only while its direction is not ready,
//!    and only a dispatch sets the bits, taking the list right after its
//!    RMW (step 1), so a waiter that finds the bits set without the lock
//!    either has no entry or has one that the dispatch in flight takes (a
//!    spurious wakeup). Because the dispatcher stores
//!    before it locks and the waiter loads under the lock, either the
//!    dispatcher finds the waker or the waiter sees the readiness: no
//!    readiness is lost, for any of the waiters (C6).
//! 3. After an I/O call hits `WouldBlock` (or a consuming read came back
//!    short: `Registration::poll_read_io`), the task clears the bits *only if
//!    the tick is still the one it saw* (a CAS): readiness that arrived after
//!    it looked is never cleared by mistake.
//! 4. Cancelled wait (C7): the current task's cancellation (read from the
//!    cancel context) is checked first; a cancelled wait removes *its own*
//!    entry (the entries that `will_wake` its waker) under the lock before
//!    returning `Cancelled`. The other tasks' entries stay, so a cancelled
//!    acceptor never costs a sibling acceptor its wakeup, and the
//!    registration never holds the waker of a quell task whose wait ended.
//! 5. Recycled slots: the driver's token carries the slot's generation; an
//!    event for an old generation is dropped before step 1 (see driver.rs).
//! 6. Bound: a foreign executor that hands out a different waker on every
//!    poll leaves its older wakers behind when its wait ends (steps 2 and
//!    4 can only remove entries that `will_wake` the *current* waker);
//!    they are dropped at the next dispatch (step 1) or shutdown. So that
//!    such stale entries cannot pile up between events, a list holds at
//!    most `limit` entries (initially `WAITERS_INITIAL_LIMIT` = 32). A poll
//!    that would append past the limit takes the whole list and wakes it
//!    after unlocking (a waiter still interested re-registers; waking a
//!    stale waker is a spurious wakeup, which futures must tolerate), then
//!    appends its own waker and doubles the limit. The doubling is what
//!    keeps many *genuine* waiters (say 2000 receivers on one `UdpSocket`)
//!    from a livelock in which every re-registration evicts everyone else:
//!    after a few rounds (log2 of their number over 32) the limit exceeds
//!    their number and they all fit. The limit has no ceiling on purpose:
//!    any fixed ceiling below the number of genuine waiters turns this
//!    into a spin (each registration past it wakes the others, who
//!    re-register, forever). What bounds memory instead is the number of
//!    distinct wakers registered since the last event on the source (each
//!    dispatch empties the list): a stable-waker executor like quell's
//!    holds one entry per waiting task; a per-poll-waker executor leaves
//!    at most one stale entry per poll it made between two events.
//!
//! # Lock order
//!
//! The waiter lock is a leaf: nothing else is locked, and no user waker
//! code runs while it is held (a waker is foreign code: its clone, wake and
//! drop may panic or re-enter). A poll clones its waker before locking
//! (step 2 locks, finds an entry is needed, unlocks, clones, and looks
//! again); wakers taken from a list (steps 1 and 6) are woken after the
//! guard is dropped, each panic contained; entries removed in steps 2 and
//! 4 are dropped after it too. So a panicking waker can neither poison the
//! lock nor leave a list half-updated.

use std::task::{Context, Poll, Waker};

use quell_cancel::rt_internal::{self as context, waiters};
use quell_cancel::Cancelled;

use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::{Mutex, MutexGuard};

/// Readiness bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Ready(pub(crate) usize);

impl Ready {
    /// Readable.
    pub const READABLE: Ready = Ready(1);
    /// Writable.
    pub const WRITABLE: Ready = Ready(1 << 1);
    /// The read half is closed (EOF / peer shutdown).
    pub const READ_CLOSED: Ready = Ready(1 << 2);
    /// The write half is closed.
    pub const WRITE_CLOSED: Ready = Ready(1 << 3);
    /// An error is pending on the socket.
    pub const ERROR: Ready = Ready(1 << 4);
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);

    /// Union.
    pub const fn or(self, o: Ready) -> Ready {
        Ready(self.0 | o.0)
    }
    /// Whether any bit of `o` is set.
    pub const fn intersects(self, o: Ready) -> bool {
        self.0 & o.0 != 0
    }
    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

const READY_MASK: usize = 0b1_1111;
const SHUTDOWN: usize = 1 << 5;
const TICK_SHIFT: u32 = 16;
const TICK_MASK: usize = 0xff << TICK_SHIFT;

/// Which side of the source a wait is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Reading (or accepting).
    Read,
    /// Writing (or connecting).
    Write,
}

impl Direction {
    /// The readiness bits that satisfy a wait in this direction.
    pub(crate) fn mask(self) -> Ready {
        match self {
            // Closed and error states also end a read wait: the read call
            // then reports EOF or the error.
            Direction::Read => Ready::READABLE.or(Ready::READ_CLOSED).or(Ready::ERROR),
            Direction::Write => Ready::WRITABLE.or(Ready::WRITE_CLOSED).or(Ready::ERROR),
        }
    }
}

/// Readiness observed by a wait, with the tick it was observed at.
#[derive(Clone, Copy, Debug)]
pub struct ReadyEvent {
    pub(crate) ready: Ready,
    pub(crate) tick: u8,
}

impl ReadyEvent {
    /// The bits that were ready.
    pub fn ready(&self) -> Ready {
        self.ready
    }
}

/// The bound a direction's waiter list starts with (protocol step 6).
pub(crate) const WAITERS_INITIAL_LIMIT: usize = 32;

/// The wakers waiting in one direction (protocol steps 2, 4 and 6): the
/// shared runtime waiter list (`quell_cancel::rt_internal::waiters`) plus this
/// direction's bound.
struct WaiterList {
    list: waiters::WaiterList<Waker>,
    /// The current bound on `len()` (step 6): starts at
    /// `WAITERS_INITIAL_LIMIT`, doubles on overflow, never shrinks (no
    /// ceiling: see step 6).
    limit: usize,
}

impl WaiterList {
    fn new() -> WaiterList {
        WaiterList {
            list: waiters::WaiterList::new(),
            limit: WAITERS_INITIAL_LIMIT,
        }
    }

    fn len(&self) -> usize {
        self.list.len()
    }

    fn contains(&self, waker: &Waker) -> bool {
        self.list.iter().any(|w| w.will_wake(waker))
    }

    /// Step 2: keep `waker`'s entry, or append `clone` (a clone of `waker`
    /// the caller made before locking: cloning is user code). Returns the
    /// entries evicted by the bound (step 6), to wake after unlocking, or
    /// `Err(NeedClone)` if an entry is needed and `clone` is `None`.
    fn register(&mut self, waker: &Waker, clone: &mut Option<Waker>) -> Result<Wakers, NeedClone> {
        if self.contains(waker) {
            return Ok(Wakers::default());
        }
        let Some(new) = clone.take() else {
            return Err(NeedClone);
        };
        let evicted = if self.len() >= self.limit {
            self.limit = self.limit.saturating_mul(2);
            self.take()
        } else {
            Wakers::default()
        };
        let _ = self.list.push_back(new);
        Ok(evicted)
    }

    /// Steps 2 and 4: remove the entries of the waiter whose waker is
    /// `waker` (only they: other tasks' entries stay). Returns them, to be
    /// dropped after unlocking (a waker's drop is user code).
    fn remove(&mut self, waker: &Waker) -> Wakers {
        self.list.extract_if(|w| w.will_wake(waker))
    }

    /// Steps 1 and 6: take every entry.
    fn take(&mut self) -> Wakers {
        self.list.take_all()
    }

    /// Step 1: take every entry into `out`.
    fn take_into(&mut self, out: &mut Vec<Waker>) {
        self.list.take_each(|w| out.push(w));
    }
}

/// `WaiterList::register` needs a clone of the waker, made without the lock.
struct NeedClone;

/// Wakers taken from the waiter lists, to wake *after* the waiter lock is
/// released (`quell_cancel::rt_internal::waiters::wake_all`).
pub(crate) type Wakers = waiters::Taken<Waker>;

struct Waiters {
    reader: WaiterList,
    writer: WaiterList,
}

impl Waiters {
    #[cfg(any(test, feature = "test-util"))]
    fn list(&self, dir: Direction) -> &WaiterList {
        match dir {
            Direction::Read => &self.reader,
            Direction::Write => &self.writer,
        }
    }

    fn list_mut(&mut self, dir: Direction) -> &mut WaiterList {
        match dir {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }
}

/// The shared state of one registered source.
pub(crate) struct ScheduledIo {
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
    /// Generation of the driver slot this lives in (see driver.rs).
    pub(crate) generation: usize,
}

/// Why a wait ended without readiness.
pub(crate) enum WaitError {
    Cancelled(Cancelled),
    Shutdown,
}

impl ScheduledIo {
    pub(crate) fn new(generation: usize) -> ScheduledIo {
        ScheduledIo {
            readiness: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters {
                reader: WaiterList::new(),
                writer: WaiterList::new(),
            }),
            generation,
        }
    }

    /// Step 1: an event arrived. Appends to `out` every waker of each
    /// direction that is now ready (readers first), to wake after unlock.
    pub(crate) fn set_readiness(&self, ready: Ready, out: &mut Vec<Waker>) {
        // Relaxed: the word publishes no other data (the bytes are the
        // kernel's), and the waiter lock orders it for step 2: this RMW is
        // sequenced before our lock, a waiter loads under that lock, so a
        // waiter locking after us sees it (and one locking before us is in
        // the list we take). The tick bump makes step 3's CAS fail for anyone
        // who looked before this event: that needs only the RMWs' single
        // modification order, not an ordering.
        let prev = self
            .readiness
            .fetch_update(Relaxed, Relaxed, |cur| {
                let tick = ((cur & TICK_MASK) >> TICK_SHIFT).wrapping_add(1) & 0xff;
                Some((cur & !TICK_MASK) | ready.0 | (tick << TICK_SHIFT))
            })
            .unwrap_or_else(|cur| cur);
        let now = Ready((prev | ready.0) & READY_MASK);
        let mut w = self.lock();
        if now.intersects(Direction::Read.mask()) {
            w.reader.take_into(out);
        }
        if now.intersects(Direction::Write.mask()) {
            w.writer.take_into(out);
        }
    }

    /// The driver shut down: every current and future wait errors. Returns
    /// every stored waker (reader list, writer list), to wake after unlock.
    pub(crate) fn shutdown(&self) -> (Wakers, Wakers) {
        // Relaxed: as in `set_readiness` (ordered for waiters by the lock
        // taken next).
        self.readiness.fetch_or(SHUTDOWN, Relaxed);
        let mut w = self.lock();
        (w.reader.take(), w.writer.take())
    }

    /// Steps 2, 4 and 6: wait for readiness in `dir`, or fail with the
    /// task's cancellation. The cancellation check comes first: a cancelled
    /// task gets `Cancelled` at every wait (sticky), and the source keeps
    /// its data for a later (shielded) read.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<Result<ReadyEvent, WaitError>> {
        if let Some(c) = context::observed() {
            self.remove_waiter(dir, cx.waker());
            return Poll::Ready(Err(WaitError::Cancelled(c)));
        }
        // Step 2's fast path: already ready, answered without the lock
        // (one load; the lock is for a wait that has to register). Relaxed:
        // the word publishes no other data, and a stale "ready" only costs
        // a `WouldBlock` and a clear (step 3). Our own entry, if we have
        // one, cannot be left behind: an entry is appended only while the
        // direction is not ready (under the lock), and the bits are set
        // only by a dispatch, which takes the whole list under the lock
        // after its RMW. So the bits being set means that dispatch has
        // taken our entry or is about to (and wakes it: a spurious wakeup).
        let cur = self.readiness.load(Relaxed);
        if cur & SHUTDOWN == 0 && Ready(cur & READY_MASK).intersects(dir.mask()) {
            return Poll::Ready(Ok(ReadyEvent {
                ready: Ready(cur & dir.mask().0),
                tick: ((cur & TICK_MASK) >> TICK_SHIFT) as u8,
            }));
        }
        // A clone of the waker, made only when an entry is needed and never
        // under the lock (user code: a panicking clone must not poison it).
        let mut clone = None;
        loop {
            let mut w = self.lock();
            // Relaxed: under the waiter lock, which orders this load after
            // the RMW of any `set_readiness`/`shutdown` whose lock came
            // first (see `set_readiness`).
            let cur = self.readiness.load(Relaxed);
            if cur & SHUTDOWN != 0 {
                // `shutdown` emptied the lists, and no wait appends after it.
                drop(w);
                return Poll::Ready(Err(WaitError::Shutdown));
            }
            let ready = Ready(cur & READY_MASK);
            let list = w.list_mut(dir);
            if ready.intersects(dir.mask()) {
                // Our wait is over: do not leave our waker behind. Only ours:
                // between the dispatcher's RMW and its lock (step 1) the list
                // still holds the other waiters, which that dispatcher is about
                // to take and wake; dropping them here would lose their wakeup.
                let removed = list.remove(cx.waker());
                drop(w);
                drop(removed);
                return Poll::Ready(Ok(ReadyEvent {
                    ready: Ready(ready.0 & dir.mask().0),
                    tick: ((cur & TICK_MASK) >> TICK_SHIFT) as u8,
                }));
            }
            match list.register(cx.waker(), &mut clone) {
                Ok(evicted) => {
                    drop(w);
                    // Step 6: the evicted waiters re-register if still
                    // interested. (`clone`, if unused, drops after this.)
                    // Mostly there are none: skip the iterator then.
                    if !evicted.is_empty() {
                        waiters::wake_all(evicted);
                    }
                    return Poll::Pending;
                }
                Err(NeedClone) => {
                    drop(w);
                    // Unlocked: a panic here leaves the list untouched. Then
                    // look again (the state may have moved meanwhile).
                    clone = Some(cx.waker().clone());
                }
            }
        }
    }

    /// Step 3: clear what `ev` saw, unless a newer event arrived since.
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        // Never clear the closed bits: once closed, always closed.
        let clear = ev.ready.0 & (Ready::READABLE.0 | Ready::WRITABLE.0);
        // Relaxed: a CAS on the tick; whether a newer event's RMW came
        // first is decided by the word's modification order alone.
        let _ = self.readiness.fetch_update(Relaxed, Relaxed, |cur| {
            if ((cur & TICK_MASK) >> TICK_SHIFT) as u8 != ev.tick {
                return None;
            }
            Some(cur & !clear)
        });
    }

    /// The readiness `dir` has now, with its tick: what a `try_*` call
    /// (which does not wait) clears after its syscall said `WouldBlock`
    /// (step 3 then skips the clear if an event arrived since).
    pub(crate) fn ready_now(&self, dir: Direction) -> ReadyEvent {
        // Relaxed: the tick comparison in `clear_readiness` needs only the
        // word's modification order (see there).
        let cur = self.readiness.load(Relaxed);
        ReadyEvent {
            ready: Ready(cur & READY_MASK & dir.mask().0),
            tick: ((cur & TICK_MASK) >> TICK_SHIFT) as u8,
        }
    }

    /// Step 4: remove the entry of the waiter whose waker is `waker` (also
    /// used by a wait on both directions that ended in one of them).
    pub(crate) fn remove_waiter(&self, dir: Direction, waker: &Waker) {
        let removed = self.lock().list_mut(dir).remove(waker);
        // Dropped unlocked: a waker's drop is user code.
        drop(removed);
    }

    /// The waiter lock, ignoring poisoning: no user code runs under it
    /// (clones are made before, wakes and drops after), and every critical
    /// section leaves the lists consistent, so a poisoned lock (a panic of
    /// ours) still guards a consistent state.
    fn lock(&self) -> MutexGuard<'_, Waiters> {
        waiters::lock(&self.waiters)
    }

    /// Whether any waker is stored for `dir` (tests, C7).
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn has_waiter(&self, dir: Direction) -> bool {
        self.lock().list(dir).len() != 0
    }

    /// Whether an entry for `dir` `will_wake` `waker` (tests, C7: the
    /// registration holds no waker of a wait that ended).
    #[cfg(test)]
    pub(crate) fn has_waker(&self, dir: Direction, waker: &Waker) -> bool {
        self.lock().list(dir).contains(waker)
    }

    /// How many wakers are stored for `dir` (tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn waiter_count(&self, dir: Direction) -> usize {
        self.lock().list(dir).len()
    }

    /// The current bound of `dir`'s list (tests, step 6).
    #[cfg(all(test, not(loom)))]
    fn waiter_limit(&self, dir: Direction) -> usize {
        self.lock().list(dir).limit
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    use std::task::Wake;

    use quell_cancel::rt_internal::TaskCancel;
    use quell_cancel::{CancelToken, Cause};

    use super::*;

    /// A stable waker that counts its wakes.
    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn counter() -> (Arc<Counter>, Waker) {
        let c = Arc::new(Counter::default());
        (c.clone(), Waker::from(c))
    }

    fn poll(io: &ScheduledIo, w: &Waker, dir: Direction) -> Poll<Result<ReadyEvent, WaitError>> {
        io.poll_ready(&mut Context::from_waker(w), dir)
    }

    /// Dispatches `ready` and wakes what it took; returns how many.
    fn dispatch(io: &ScheduledIo, ready: Ready) -> usize {
        let mut taken = Vec::new();
        io.set_readiness(ready, &mut taken);
        let n = taken.len();
        taken.into_iter().for_each(Waker::wake);
        n
    }

    struct Task {
        token: CancelToken,
    }

    impl TaskCancel for Task {
        fn token(&self) -> &CancelToken {
            &self.token
        }
    }

    #[test]
    fn every_waiter_of_a_ready_direction_is_woken() {
        let io = ScheduledIo::new(1);
        let (a, wa) = counter();
        let (b, wb) = counter();
        let (c, wc) = counter();
        assert!(poll(&io, &wa, Direction::Read).is_pending());
        assert!(poll(&io, &wb, Direction::Read).is_pending());
        assert!(poll(&io, &wc, Direction::Write).is_pending());
        // Re-polling with the same waker keeps its single entry.
        assert!(poll(&io, &wa, Direction::Read).is_pending());
        assert!(poll(&io, &wa.clone(), Direction::Read).is_pending());
        assert_eq!(io.waiter_count(Direction::Read), 2);
        assert_eq!(dispatch(&io, Ready::READABLE), 2);
        assert_eq!((a.0.load(SeqCst), b.0.load(SeqCst)), (1, 1));
        assert_eq!(c.0.load(SeqCst), 0, "the writer is not ready");
        assert!(!io.has_waiter(Direction::Read));
        assert!(io.has_waker(Direction::Write, &wc));
    }

    #[test]
    fn a_cancelled_wait_removes_only_its_own_entry() {
        let io = ScheduledIo::new(1);
        let (_, wa) = counter();
        let (b, wb) = counter();
        assert!(poll(&io, &wa, Direction::Read).is_pending());
        assert!(poll(&io, &wb, Direction::Read).is_pending());
        let task = Task {
            token: CancelToken::new(),
        };
        task.token.cancel(Cause::explicit("test"));
        let r = context::enter(&task, || poll(&io, &wa, Direction::Read));
        assert!(matches!(r, Poll::Ready(Err(WaitError::Cancelled(_)))));
        assert!(!io.has_waker(Direction::Read, &wa), "C7");
        assert!(
            io.has_waker(Direction::Read, &wb),
            "the sibling still waits"
        );
        assert_eq!(dispatch(&io, Ready::READABLE), 1);
        assert_eq!(b.0.load(SeqCst), 1);
    }

    /// Step 6: wakers that change on every poll (a foreign executor) are
    /// bounded: the overflowing poll wakes and drops the old entries.
    #[test]
    fn per_poll_wakers_stay_bounded() {
        let io = ScheduledIo::new(1);
        let (c, _) = counter();
        for _ in 0..WAITERS_INITIAL_LIMIT {
            // A fresh `Arc` per poll: a distinct waker identity each time.
            let w = Waker::from(Arc::new(Counter::default()));
            assert!(poll(&io, &w, Direction::Read).is_pending());
        }
        assert_eq!(io.waiter_count(Direction::Read), WAITERS_INITIAL_LIMIT);
        let w = Waker::from(c.clone());
        assert!(poll(&io, &w, Direction::Read).is_pending());
        assert_eq!(io.waiter_count(Direction::Read), 1, "evicted, then ours");
        assert!(io.has_waker(Direction::Read, &w));
        assert_eq!(c.0.load(SeqCst), 0, "the poller itself is not woken");
        for i in 1..=10_000 {
            let w = Waker::from(Arc::new(Counter::default()));
            assert!(poll(&io, &w, Direction::Read).is_pending());
            // At most one entry per poll since the list was last emptied,
            // and the bound stays within 2x of the polls made.
            assert!(io.waiter_count(Direction::Read) <= i + 1);
            assert!(io.waiter_limit(Direction::Read) <= 2 * (i + 1 + WAITERS_INITIAL_LIMIT));
        }
        // An event empties the list, stale entries included.
        dispatch(&io, Ready::READABLE);
        assert_eq!(io.waiter_count(Direction::Read), 0);
    }

    /// Step 6: more genuine (stable-waker) waiters than the initial bound
    /// settle after a few spurious rounds instead of evicting each other
    /// forever.
    #[test]
    fn many_stable_waiters_settle() {
        let io = ScheduledIo::new(1);
        let n = 3 * WAITERS_INITIAL_LIMIT + 5;
        let tasks: Vec<_> = (0..n).map(|_| counter()).collect();
        let total = |tasks: &[(Arc<Counter>, Waker)]| -> usize {
            tasks.iter().map(|(c, _)| c.0.load(SeqCst)).sum()
        };
        // Every task polls; a woken task polls again (as an executor
        // would), until a round wakes nobody.
        let mut seen: Vec<usize> = vec![usize::MAX; n];
        let mut rounds = 0;
        loop {
            let mut polled = false;
            for (i, (c, w)) in tasks.iter().enumerate() {
                let woken = c.0.load(SeqCst);
                if seen[i] != woken {
                    seen[i] = woken;
                    polled = true;
                    assert!(poll(&io, w, Direction::Read).is_pending());
                }
            }
            if !polled {
                break;
            }
            rounds += 1;
            assert!(rounds < 10, "waiters keep evicting each other");
        }
        assert_eq!(io.waiter_count(Direction::Read), n);
        assert!(io.waiter_limit(Direction::Read) >= n);
        let before = total(&tasks);
        assert_eq!(dispatch(&io, Ready::READABLE), n);
        assert_eq!(total(&tasks), before + n, "every waiter woken once");
    }
}
