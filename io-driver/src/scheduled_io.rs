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
//! # Protocol (contracts C6, C7)
//!
//! 1. Dispatch (driver thread): OR the event's bits into the word and bump
//!    the tick (one RMW, `AcqRel`); then, *under the waiter lock*, take the
//!    wakers whose direction is now ready; wake them after unlocking.
//! 2. Wait (task): under the waiter lock, load the word; if the direction is
//!    ready return it with its tick; else store the waker; unlock; `Pending`.
//!    Because the dispatcher stores before it locks and the waiter loads
//!    under the lock, either the dispatcher finds the waker or the waiter
//!    sees the readiness: no readiness is lost (C6).
//! 3. After an I/O call hits `WouldBlock`, the task clears the bits *only if
//!    the tick is still the one it saw* (a CAS): readiness that arrived after
//!    it looked is never cleared by mistake.
//! 4. Cancelled wait (C7): the current task's cancellation (read from the
//!    cancel context) is checked first; a cancelled wait removes its waker
//!    under the lock before returning `Cancelled`, so the registration never
//!    holds a waker of a wait that has ended. There is one waiter per
//!    direction (a source has one reader and one writer at a time, as with
//!    tokio's `PollEvented`), so "its waker" is whatever the slot holds.
//! 5. Recycled slots: the driver's token carries the slot's generation; an
//!    event for an old generation is dropped before step 1 (see driver.rs).

use std::task::{Context, Poll, Waker};

use quell_cancel::{context, Cancelled};

use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::Mutex;

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

#[derive(Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
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
            waiters: Mutex::new(Waiters::default()),
            generation,
        }
    }

    /// Step 1: an event arrived. Returns the wakers to wake (after unlock).
    pub(crate) fn set_readiness(&self, ready: Ready) -> (Option<Waker>, Option<Waker>) {
        // AcqRel: Release publishes the readiness to waiters' loads (which
        // happen under the lock we take next, or later); the tick bump makes
        // step 3's CAS fail for anyone who looked before this event.
        let prev = self
            .readiness
            .fetch_update(AcqRel, Acquire, |cur| {
                let tick = ((cur & TICK_MASK) >> TICK_SHIFT).wrapping_add(1) & 0xff;
                Some((cur & !TICK_MASK) | ready.0 | (tick << TICK_SHIFT))
            })
            .unwrap_or_else(|cur| cur);
        let now = Ready((prev | ready.0) & READY_MASK);
        let mut w = self.waiters.lock().unwrap();
        let r = if now.intersects(Direction::Read.mask()) {
            w.reader.take()
        } else {
            None
        };
        let wr = if now.intersects(Direction::Write.mask()) {
            w.writer.take()
        } else {
            None
        };
        (r, wr)
    }

    /// The driver shut down: every current and future wait errors.
    pub(crate) fn shutdown(&self) -> (Option<Waker>, Option<Waker>) {
        // AcqRel: as in `set_readiness`.
        self.readiness.fetch_or(SHUTDOWN, AcqRel);
        let mut w = self.waiters.lock().unwrap();
        (w.reader.take(), w.writer.take())
    }

    /// Steps 2 and 4: wait for readiness in `dir`, or fail with the task's
    /// cancellation. The cancellation check comes first: a cancelled task
    /// gets `Cancelled` at every wait (sticky), and the source keeps its
    /// data for a later (shielded) read.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<Result<ReadyEvent, WaitError>> {
        if let Some(c) = context::observed() {
            self.clear_waiter(dir);
            return Poll::Ready(Err(WaitError::Cancelled(c)));
        }
        let mut w = self.waiters.lock().unwrap();
        // Acquire pairs with the AcqRel RMW of `set_readiness`.
        let cur = self.readiness.load(Acquire);
        if cur & SHUTDOWN != 0 {
            return Poll::Ready(Err(WaitError::Shutdown));
        }
        let ready = Ready(cur & READY_MASK);
        if ready.intersects(dir.mask()) {
            let slot = match dir {
                Direction::Read => &mut w.reader,
                Direction::Write => &mut w.writer,
            };
            // Our wait is over: do not leave our waker behind. (One waiter
            // per direction: the slot can only hold this wait's waker, even
            // if a foreign executor hands out a different waker each poll.)
            *slot = None;
            return Poll::Ready(Ok(ReadyEvent {
                ready: Ready(ready.0 & dir.mask().0),
                tick: ((cur & TICK_MASK) >> TICK_SHIFT) as u8,
            }));
        }
        let slot = match dir {
            Direction::Read => &mut w.reader,
            Direction::Write => &mut w.writer,
        };
        match slot {
            Some(s) if s.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Step 3: clear what `ev` saw, unless a newer event arrived since.
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        // Never clear the closed bits: once closed, always closed.
        let clear = ev.ready.0 & (Ready::READABLE.0 | Ready::WRITABLE.0);
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |cur| {
            if ((cur & TICK_MASK) >> TICK_SHIFT) as u8 != ev.tick {
                return None;
            }
            Some(cur & !clear)
        });
    }

    /// Step 4: remove the waker of `dir`'s (single) waiter: ours.
    pub(crate) fn clear_waiter(&self, dir: Direction) {
        let mut w = self.waiters.lock().unwrap();
        match dir {
            Direction::Read => w.reader = None,
            Direction::Write => w.writer = None,
        }
    }

    /// Whether a waker is stored for `dir` (tests, C7).
    pub(crate) fn has_waiter(&self, dir: Direction) -> bool {
        let w = self.waiters.lock().unwrap();
        match dir {
            Direction::Read => w.reader.is_some(),
            Direction::Write => w.writer.is_some(),
        }
    }
}
