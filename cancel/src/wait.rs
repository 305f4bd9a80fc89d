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
//!   set at worker start); and it makes the slot current (a thread-local
//!   pointer, nulled when the poll ends);
//! * per `Pending` await point, [`record`] stores a `&'static` descriptor,
//!   a `&'static Location` and one `u64` of inline detail (a file
//!   descriptor, a deadline, a task id) in the current slot, with a
//!   sequence number around them so that a reader sees the three fields
//!   of one record;
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

// `WORKER`: `POLLED | (worker + 1) << 16` of this thread (`POLLED` alone:
// not a worker), what a poll's start stores in the slot's word. `SLOT`:
// the slot of the task this thread polls (null between polls). Under
// loom, model threads share one OS thread: loom thread-locals.
#[cfg(not(loom))]
std::thread_local! {
    static WORKER: Cell<u64> = const { Cell::new(POLLED) };
    static SLOT: Cell<*const WaitSlot> = const { Cell::new(ptr::null()) };
}

#[cfg(loom)]
loom::thread_local! {
    static WORKER: Cell<u64> = Cell::new(POLLED);
    static SLOT: Cell<*const WaitSlot> = Cell::new(ptr::null());
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

/// The slot of the task being polled is current while this guard lives
/// ([`begin`]); dropping it leaves no slot current.
#[must_use = "the slot is current only while the guard lives"]
pub struct Polling<'a>(std::marker::PhantomData<&'a WaitSlot>);

impl Drop for Polling<'_> {
    fn drop(&mut self) {
        let _ = SLOT.try_with(|s| s.set(ptr::null()));
    }
}

/// A poll of the task owning `slot` starts: one store stamps its start
/// from the coarse clock, notes the worker and clears the slot's await
/// point; `slot` is current (what [`record`] writes to) until the guard
/// drops. The current slot is not restored afterwards: a task polled
/// inside another's poll (a `LocalSet`) leaves none current for the rest
/// of the outer poll, whose later await points then go unrecorded (the
/// outer task shows the record of its poll so far, or none) — never a
/// slot that is not being polled.
///
/// # Safety
///
/// The guard must be dropped (not leaked) before the borrow of `slot`
/// ends: [`record`] writes to the current slot.
#[inline]
pub unsafe fn begin(slot: &WaitSlot) -> Polling<'_> {
    // Relaxed: the slot is read by dumps only, which tolerate a stale
    // value (the sequence keeps one record whole).
    let since = u64::from(CLOCK.load(Relaxed)) << 32;
    let worker = WORKER.try_with(Cell::get).unwrap_or(POLLED);
    slot.word.store(since | worker, Relaxed);
    let _ = SLOT.try_with(|s| s.set(slot));
    Polling(std::marker::PhantomData)
}

/// Calls `f` with the current slot, if a poll made one current.
#[inline]
fn with_slot(f: impl FnOnce(&WaitSlot)) {
    let slot = SLOT.try_with(Cell::get).unwrap_or(ptr::null());
    if !slot.is_null() {
        // SAFETY: a non-null `SLOT` was set by `begin`, whose guard nulls
        // it before the borrow of the slot ends (its contract); `f` runs
        // now, inside that borrow.
        f(unsafe { &*slot });
    }
}

/// The current slot's record sequence, to tell later whether an await
/// point recorded since ([`record_unless_since`]).
#[inline]
pub fn mark() -> u64 {
    let mut m = 0;
    with_slot(|s| m = s.word.load(Relaxed) & SEQ);
    m
}

/// [`record`], unless an await point recorded since `mark` was taken (an
/// inner quell await point says more than the wrapper around it).
#[inline]
pub fn record_unless_since(
    mark: u64,
    point: &'static AwaitPoint,
    location: Option<&'static Location<'static>>,
    detail: u64,
) {
    with_slot(|s| {
        if s.word.load(Relaxed) & SEQ == mark {
            s.write(point, location, detail);
        }
    });
}

/// The id of the task this thread is polling, if any: what a spawn
/// records as the new task's parent.
#[inline]
pub fn current_task() -> Option<u64> {
    crate::context::with_current(|t| t.map(|t| t.task_id())).filter(|&id| id != 0)
}

/// An await point of the current task is about to return `Pending`:
/// record it (what, where in the caller's source, one `u64` of detail its
/// [`AwaitPoint::describe`] renders) in the task's slot. Outside a poll, a
/// no-op.
#[inline]
pub fn record(
    point: &'static AwaitPoint,
    location: Option<&'static Location<'static>>,
    detail: u64,
) {
    with_slot(|s| s.write(point, location, detail));
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

    #[inline]
    fn write(
        &self,
        point: &'static AwaitPoint,
        location: Option<&'static Location<'static>>,
        detail: u64,
    ) {
        let location = location.map_or(ptr::null_mut(), |l| ptr::from_ref(l).cast_mut());
        // One writer (the thread polling the task): plain load and store.
        let w = self.word.load(Relaxed);
        let seq = w & SEQ & !1;
        self.word.store((w & !SEQ) | (seq + 1), Relaxed);
        // Release: the odd sequence is visible before the fields change
        // (pairs with the Acquire fence in `read`, after it loads the
        // fields: a reader that saw any new field sees the odd or a later
        // sequence on its re-check).
        fence(Release);
        self.point.store(ptr::from_ref(point).cast_mut(), Relaxed);
        self.location.store(location, Relaxed);
        self.detail.store(detail, Relaxed);
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
                // SAFETY: both were stored from `&'static` references (or
                // null, for the location) in `write`, never anything else;
                // the sequence says they belong to one record.
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
