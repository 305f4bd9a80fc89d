//! What a task waits on, for task dumps: each task has a [`WaitSlot`]
//! that its await points fill on their `Pending` path, and that a dump
//! reads from another thread.
//!
//! Cost model (the always-on part of "dump-readiness"):
//!
//! * per poll, the executor's [`begin`] makes one store to the slot: it
//!   clears the slot's await point, stamps the poll's start from a
//!   *coarse* clock (one relaxed load of a process-wide millisecond
//!   counter, no clock read) and notes the worker index (a thread-local
//!   set at worker start); and it clears the thread's pending record;
//! * per `Pending` await point, [`record`] stores a `&'static` descriptor,
//!   a `&'static Location` and one `u64` of inline detail (a file
//!   descriptor, a deadline, a task id) in a thread-local: three stores;
//! * per poll that returns `Pending`, [`commit`] copies that record into
//!   the task's slot, with a sequence number around it so that a reader
//!   sees the three fields of one record;
//! * everything costly (socket addresses, text) is computed only when a
//!   dump is taken, by the descriptor's [`AwaitPoint::describe`] from the
//!   inline detail.
//!
//! Soundness: the slot holds no pointer to the resource waited on (which
//! may be dropped at any time), only `'static` data and plain numbers, so
//! a dump never reads freed memory. A detail can be stale (a file
//! descriptor closed and reused since), which a dump's text may then show
//! wrongly but never unsafely.
//!
//! The coarse clock ([`tick`]) is advanced by the I/O driver after each of
//! its turns (and by each dump): workers turn the driver every few dozen
//! polls, and an idle runtime parks in it, so a stamp lags the real time
//! by at most the time since the last turn.

use std::cell::Cell;
use std::panic::Location;
use std::ptr;
use std::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, Ordering::*};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A kind of await point (one `static` per kind).
#[derive(Debug)]
pub struct AwaitPoint {
    /// What it waits in, e.g. `"TcpStream::read"`.
    pub what: &'static str,
    /// Renders the inline detail recorded with it (at dump time only).
    pub describe: Option<fn(u64) -> Option<String>>,
}

/// One task's record of what it waits on: 32 bytes, all `std` atomics
/// (the slot is an observation aid, part of no protocol that loom checks).
#[derive(Debug, Default)]
pub struct WaitSlot {
    /// The last poll's start and the record's sequence, one word so that
    /// the poll's start is one store: bits 63–32 the coarse clock
    /// (milliseconds, wrapping), bit 31 "polled", bits 30–16 one plus the
    /// index of the worker that polls (or last polled) the task (0: not a
    /// worker), bits 15–0 the sequence: 0 no record in this poll, odd a
    /// record being written, even a record (seqlock; one writer, the
    /// thread polling the task).
    word: AtomicU64,
    point: AtomicPtr<AwaitPoint>,
    location: AtomicPtr<Location<'static>>,
    detail: AtomicU64,
}

const SEQ: u64 = 0xffff;
const POLLED: u64 = 1 << 31;

/// What a [`WaitSlot`] said when read.
#[derive(Clone, Copy, Debug)]
pub struct Waiting {
    /// The await point of the last poll, if it passed one that returned
    /// `Pending` (`None`: no quell await point was pending).
    pub point: Option<(&'static AwaitPoint, Option<&'static Location<'static>>, u64)>,
    /// Whether the task was ever polled.
    pub polled: bool,
    /// How long ago the last poll started (coarse), if ever polled.
    pub since: Option<Duration>,
    /// Index of the worker that polls (or last polled) the task.
    pub worker: Option<usize>,
}

/// An await point recorded in a poll (null `point`: none). The current
/// poll's is held in thread-locals until the poll returns: [`record`] is
/// three thread-local stores, and the executor's [`commit`] copies it
/// into the task's slot once, when the poll returns `Pending`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Last {
    point: *const AwaitPoint,
    location: *const Location<'static>,
    detail: u64,
}

/// The current poll's record, one cell per field so that a poll's start
/// clears only `point`.
struct Pending {
    point: Cell<*const AwaitPoint>,
    location: Cell<*const Location<'static>>,
    detail: Cell<u64>,
}

impl Pending {
    fn get(&self) -> Last {
        Last {
            point: self.point.get(),
            location: self.location.get(),
            detail: self.detail.get(),
        }
    }
}

// `WORKER`: `POLLED | (worker + 1) << 16` of this thread (`POLLED` alone:
// not a worker), what a poll's start stores in the slot's word. `LAST`:
// the record of the poll running on this thread. Under loom, model
// threads share one OS thread: loom thread-locals.
#[cfg(not(loom))]
std::thread_local! {
    static WORKER: Cell<u64> = const { Cell::new(POLLED) };
    static LAST: Pending = const {
        Pending { point: Cell::new(ptr::null()), location: Cell::new(ptr::null()), detail: Cell::new(0) }
    };
}

#[cfg(loom)]
loom::thread_local! {
    static WORKER: Cell<u64> = Cell::new(POLLED);
    static LAST: Pending = Pending {
        point: Cell::new(ptr::null()),
        location: Cell::new(ptr::null()),
        detail: Cell::new(0),
    };
}

/// Milliseconds since [`epoch`], wrapping (durations shorter than about
/// 49 days read right).
static CLOCK: AtomicU32 = AtomicU32::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Milliseconds of `at` since the epoch (saturating at 0 before it).
fn millis(at: Instant) -> u64 {
    at.saturating_duration_since(epoch()).as_millis() as u64
}

/// Advances the coarse clock to `now` (the I/O driver, after a turn).
/// Writes only when the millisecond changed.
#[inline]
pub fn tick(now: Instant) {
    let ms = millis(now) as u32;
    // Relaxed: a clock for display, ordered with nothing.
    if CLOCK.load(Relaxed) != ms {
        CLOCK.store(ms, Relaxed);
    }
}

/// Marks this thread as worker `index` of its runtime (at thread start).
pub fn set_worker(index: usize) {
    let w = POLLED | ((index as u64 + 1).min(0x7fff) << 16);
    let _ = WORKER.try_with(|c| c.set(w));
}

/// A poll of the task owning `slot` starts: one store stamps its start
/// from the coarse clock, notes the worker and clears the slot's await
/// point; the thread's pending record is cleared. (A task polled inside
/// another's poll — a `LocalSet` — clears the outer poll's record: the
/// outer task then shows the await point it records after, or none.)
#[inline]
pub fn begin(slot: &WaitSlot) {
    // Relaxed: the slot is read by dumps only, which tolerate a stale
    // value (the sequence keeps one record whole).
    let since = u64::from(CLOCK.load(Relaxed)) << 32;
    let worker = WORKER.try_with(Cell::get).unwrap_or(POLLED);
    slot.word.store(since | worker, Relaxed);
    let _ = LAST.try_with(|l| l.point.set(ptr::null()));
}

/// The poll of the task owning `slot` returned `Pending`: the await point
/// recorded in it, if any, goes to the slot.
#[inline]
pub fn commit(slot: &WaitSlot) {
    let _ = LAST.try_with(|l| {
        if !l.point.get().is_null() {
            slot.write(l.get());
        }
    });
}

/// The await point recorded so far in this poll, to tell later whether
/// another recorded since ([`record_unless_since`]).
#[inline]
pub fn mark() -> Last {
    LAST.try_with(Pending::get).unwrap_or(Last {
        point: ptr::null(),
        location: ptr::null(),
        detail: 0,
    })
}

/// [`record`], unless an await point recorded since `mark` was taken (an
/// inner quell await point says more than the wrapper around it).
#[inline]
pub fn record_unless_since(
    mark: Last,
    point: &'static AwaitPoint,
    location: Option<&'static Location<'static>>,
    detail: u64,
) {
    if LAST.try_with(Pending::get).is_ok_and(|l| l == mark) {
        record(point, location, detail);
    }
}

/// The id of the task this thread is polling, if any: what a spawn
/// records as the new task's parent.
#[inline]
pub fn current_task() -> Option<u64> {
    crate::context::with_current(|t| t.map(|t| t.task_id())).filter(|&id| id != 0)
}

/// An await point of the current task is about to return `Pending`:
/// record it (what, where in the caller's source, one `u64` of detail its
/// [`AwaitPoint::describe`] renders) for this poll: three thread-local
/// stores. Outside a poll the record is never committed anywhere.
#[inline]
pub fn record(
    point: &'static AwaitPoint,
    location: Option<&'static Location<'static>>,
    detail: u64,
) {
    let _ = LAST.try_with(|l| {
        l.point.set(point);
        l.location.set(location.map_or(ptr::null(), ptr::from_ref));
        l.detail.set(detail);
    });
}

impl WaitSlot {
    /// A fresh slot (never polled).
    pub const fn new() -> WaitSlot {
        WaitSlot {
            word: AtomicU64::new(0),
            point: AtomicPtr::new(ptr::null_mut()),
            location: AtomicPtr::new(ptr::null_mut()),
            detail: AtomicU64::new(0),
        }
    }

    /// Publishes `last` (made by `record`: `point` a `&'static`,
    /// `location` null or a `&'static`) with the sequence.
    #[inline]
    fn write(&self, last: Last) {
        // One writer (the thread polling the task): plain load and store.
        let w = self.word.load(Relaxed);
        let seq = w & SEQ & !1;
        self.word.store((w & !SEQ) | (seq + 1), Relaxed);
        // Release: the odd sequence is visible before the fields change
        // (pairs with the Acquire fence in `read`, after it loads the
        // fields: a reader that saw any new field sees the odd or a later
        // sequence on its re-check).
        fence(Release);
        self.point.store(last.point.cast_mut(), Relaxed);
        self.location.store(last.location.cast_mut(), Relaxed);
        self.detail.store(last.detail, Relaxed);
        // Release: pairs with the Acquire load of `word` in `read`; a
        // reader that sees this even sequence sees all three fields. (Past
        // 32 767 records in one poll the sequence wraps to 0, "none": the
        // dump then shows a foreign future, never a torn record.)
        self.word.store((w & !SEQ) | ((seq + 2) & SEQ), Release);
    }

    /// What the slot says now (from any thread), `now` being the dump's
    /// time. Retries a few times while a record is being written; gives
    /// up on the await point (not the rest) if it keeps changing.
    pub fn read(&self, now: Instant) -> Waiting {
        let mut point = None;
        let mut w = self.word.load(Relaxed);
        for _ in 0..4 {
            // Acquire: pairs with the Release store of `word` in `write`.
            let w1 = self.word.load(Acquire);
            w = w1;
            if w1 & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let p = self.point.load(Relaxed);
            let l = self.location.load(Relaxed);
            let d = self.detail.load(Relaxed);
            // Acquire: the field loads above happen before the re-check
            // (pairs with the Release fence in `write`).
            fence(Acquire);
            if self.word.load(Relaxed) != w1 {
                continue;
            }
            point = if w1 & SEQ == 0 || p.is_null() {
                None
            } else {
                // SAFETY: both were made from `&'static` references (or
                // null, for the location) by `record`, and stored by
                // `write`, never anything else; the sequence says they
                // belong to one record.
                Some(unsafe { (&*p, l.cast_const().as_ref(), d) })
            };
            break;
        }
        let polled = w & POLLED != 0;
        let since = (w >> 32) as u32;
        let now_ms = millis(now) as u32;
        Waiting {
            point,
            polled,
            since: polled.then(|| Duration::from_millis(u64::from(now_ms.wrapping_sub(since)))),
            worker: match (w >> 16) & 0x7fff {
                0 => None,
                n => Some(n as usize - 1),
            },
        }
    }
}

/// Encodes an instant as inline detail (milliseconds since the epoch of
/// the coarse clock), for [`instant_of`] at dump time.
#[inline]
pub fn detail_of_instant(at: Instant) -> u64 {
    millis(at)
}

/// Decodes [`detail_of_instant`] (to the millisecond).
pub fn instant_of(detail: u64) -> Instant {
    epoch() + Duration::from_millis(detail)
}
