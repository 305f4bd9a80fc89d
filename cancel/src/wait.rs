//! What a task waits on, for task dumps: each task has a [`WaitSlot`]
//! that its await points fill on their `Pending` path, and that a dump
//! reads from another thread.
//!
//! Cost model (the always-on part of "dump-readiness"):
//!
//! * per poll, the executor's [`enter`] stores the slot's address in a
//!   thread-local, and clears the slot's await point, stamps the poll's
//!   start from a *coarse* clock (one relaxed load of a process-wide
//!   millisecond counter, no clock read) and notes the worker index;
//! * per `Pending` await point, [`record`] reads the thread-local and
//!   stores a `&'static` descriptor, a `&'static Location` and one `u64`
//!   of inline detail (a file descriptor, a deadline, a task id), with a
//!   sequence number around them so a reader sees the three of one record;
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

/// One task's record of what it waits on. All fields are `std` atomics:
/// the slot is an observation aid, part of no protocol that loom checks.
#[derive(Debug)]
pub struct WaitSlot {
    /// Even: stable; odd: a record is being written (seqlock; one writer,
    /// the thread polling the task).
    seq: AtomicU32,
    point: AtomicPtr<AwaitPoint>,
    location: AtomicPtr<Location<'static>>,
    detail: AtomicU64,
    /// The coarse clock at the start of the last poll (0: never polled).
    since: AtomicU64,
    /// 1 + the index of the worker that polls the task now or polled it
    /// last (0: a thread that is not a worker).
    worker: AtomicU32,
    /// The id of the task that owns the slot (what [`current_task`]
    /// answers while it is polled).
    task: u64,
}

/// What a [`WaitSlot`] said when read.
#[derive(Clone, Copy, Debug)]
pub struct Waiting {
    /// The await point of the last poll, if it passed one that returned
    /// `Pending` (`None`: no quell await point was pending).
    pub point: Option<(&'static AwaitPoint, Option<&'static Location<'static>>, u64)>,
    /// How long ago the last poll started (coarse), if ever polled.
    pub since: Option<Duration>,
    /// Index of the worker that polls (or last polled) the task.
    pub worker: Option<usize>,
}

struct Current {
    slot: Cell<*const WaitSlot>,
    worker: Cell<u32>,
}

#[cfg(not(loom))]
std::thread_local! {
    static CURRENT: Current = const {
        Current { slot: Cell::new(ptr::null()), worker: Cell::new(0) }
    };
}

// Under loom, model threads share one OS thread: the pointer must be a
// loom thread-local or one model thread would record into another's slot.
#[cfg(loom)]
loom::thread_local! {
    static CURRENT: Current = Current { slot: Cell::new(ptr::null()), worker: Cell::new(0) };
}

/// Milliseconds since [`epoch`], plus one (0: never ticked).
static CLOCK: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn millis(at: Instant) -> u64 {
    at.saturating_duration_since(epoch()).as_millis() as u64 + 1
}

/// Advances the coarse clock to `now` (the I/O driver, after a turn).
/// Writes only when the millisecond changed.
#[inline]
pub fn tick(now: Instant) {
    let ms = millis(now);
    // Relaxed: a clock for display, ordered with nothing.
    if CLOCK.load(Relaxed) < ms {
        CLOCK.store(ms, Relaxed);
    }
}

/// Marks this thread as worker `index` of its runtime (at thread start).
pub fn set_worker(index: usize) {
    let _ = CURRENT.try_with(|c| c.worker.set(index as u32 + 1));
}

/// The current slot while a task is polled ([`enter`]); restores the
/// previous one on drop.
#[must_use = "the slot is current only while the guard lives"]
pub struct Polling<'a> {
    prev: *const WaitSlot,
    _slot: std::marker::PhantomData<&'a WaitSlot>,
}

impl Drop for Polling<'_> {
    fn drop(&mut self) {
        let prev = self.prev;
        let _ = CURRENT.try_with(|c| c.slot.set(prev));
    }
}

/// Makes `slot` (that of the task about to be polled) the current slot
/// until the guard drops: clears its await point, stamps the poll's start
/// from the coarse clock and notes the worker.
///
/// # Safety
///
/// The guard must be dropped (not leaked) before the borrow of `slot`
/// ends, and guards must drop in the reverse order of their creation:
/// [`record`] and [`current_task`] dereference the current slot.
#[inline]
pub unsafe fn enter(slot: &WaitSlot) -> Polling<'_> {
    // Relaxed throughout: the slot is read by dumps only, which tolerate
    // a stale value (the seqlock in `record` keeps one record whole).
    slot.point.store(ptr::null_mut(), Relaxed);
    // At least 1: a slot polled before the clock first ticked still
    // reads as polled.
    slot.since.store(CLOCK.load(Relaxed).max(1), Relaxed);
    let prev = CURRENT.with(|c| {
        slot.worker.store(c.worker.get(), Relaxed);
        c.slot.replace(slot)
    });
    Polling {
        prev,
        _slot: std::marker::PhantomData,
    }
}

/// The id of the task this thread is polling (as given to
/// [`WaitSlot::new`]), if any: what a spawn records as the new task's
/// parent.
#[inline]
pub fn current_task() -> Option<u64> {
    with_slot(|s| s.task)
}

/// An await point of the current task is about to return `Pending`:
/// record it (what, where in the caller's source, one `u64` of detail its
/// [`AwaitPoint::describe`] renders). Outside a task, a no-op.
#[inline]
pub fn record(
    point: &'static AwaitPoint,
    location: Option<&'static Location<'static>>,
    detail: u64,
) {
    with_slot(|slot| slot.write(point, location, detail));
}

/// Calls `f` with the current slot, if this thread is polling a task.
#[inline]
fn with_slot<R>(f: impl FnOnce(&WaitSlot) -> R) -> Option<R> {
    let slot = CURRENT.try_with(|c| c.slot.get()).unwrap_or(ptr::null());
    // SAFETY: a non-null `CURRENT.slot` was set by `enter`, whose guard
    // resets it before the borrow of the slot ends (its contract); `f`
    // runs now, inside that borrow.
    (!slot.is_null()).then(|| f(unsafe { &*slot }))
}

/// The current slot's record count, to tell later whether an await point
/// recorded since ([`record_unless_since`]). 0 outside a task.
#[inline]
pub fn mark() -> u32 {
    with_slot(|s| s.seq.load(Relaxed)).unwrap_or(0)
}

/// [`record`], unless an await point recorded since `mark` was taken (an
/// inner quell await point says more than the wrapper around it).
#[inline]
pub fn record_unless_since(
    mark: u32,
    point: &'static AwaitPoint,
    location: Option<&'static Location<'static>>,
    detail: u64,
) {
    with_slot(|slot| {
        if slot.seq.load(Relaxed) == mark {
            slot.write(point, location, detail);
        }
    });
}

impl WaitSlot {
    fn write(
        &self,
        point: &'static AwaitPoint,
        location: Option<&'static Location<'static>>,
        detail: u64,
    ) {
        let slot = self;
        let location = location.map_or(ptr::null_mut(), |l| ptr::from_ref(l).cast_mut());
        // One writer (the thread polling the task): plain load and store.
        let seq = slot.seq.load(Relaxed);
        slot.seq.store(seq.wrapping_add(1), Relaxed);
        // Release: the odd `seq` is visible before the fields change (pairs
        // with the Acquire fence in `read`, after it loads the fields: a
        // reader that saw any new field sees the odd or the next even seq).
        fence(Release);
        slot.point.store(ptr::from_ref(point).cast_mut(), Relaxed);
        slot.location.store(location, Relaxed);
        slot.detail.store(detail, Relaxed);
        // Release: pairs with the Acquire load of `seq` in `read`; a reader
        // that sees the even seq sees all three fields of this record.
        slot.seq.store(seq.wrapping_add(2), Release);
    }
}

impl WaitSlot {
    /// A fresh slot (never polled) of task `task`.
    pub const fn new(task: u64) -> WaitSlot {
        WaitSlot {
            seq: AtomicU32::new(0),
            point: AtomicPtr::new(ptr::null_mut()),
            location: AtomicPtr::new(ptr::null_mut()),
            detail: AtomicU64::new(0),
            since: AtomicU64::new(0),
            worker: AtomicU32::new(0),
            task,
        }
    }

    /// What the slot says now (from any thread), `now` being the dump's
    /// time. Retries a few times while a record is being written; gives
    /// up on the await point (not the rest) if it keeps changing.
    pub fn read(&self, now: Instant) -> Waiting {
        let mut point = None;
        for _ in 0..4 {
            // Acquire: pairs with the Release store of `seq` in `record`.
            let s1 = self.seq.load(Acquire);
            if s1 % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let p = self.point.load(Relaxed);
            let l = self.location.load(Relaxed);
            let d = self.detail.load(Relaxed);
            // Acquire: the field loads above happen before the re-check
            // (pairs with the Release fence in `record`).
            fence(Acquire);
            if self.seq.load(Relaxed) != s1 {
                continue;
            }
            point = if p.is_null() {
                None
            } else {
                // SAFETY: both were stored from `&'static` references (or
                // null, for the location) in `write`, never anything else;
                // the seqlock says they belong to one record.
                Some(unsafe { (&*p, l.cast_const().as_ref(), d) })
            };
            break;
        }
        let since = self.since.load(Relaxed);
        let now_ms = millis(now);
        Waiting {
            point,
            since: (since != 0).then(|| Duration::from_millis(now_ms.saturating_sub(since))),
            worker: match self.worker.load(Relaxed) {
                0 => None,
                w => Some(w as usize - 1),
            },
        }
    }
}

/// Encodes an instant as inline detail (milliseconds since the epoch of
/// the coarse clock, plus one), for [`instant_of`] at dump time.
#[inline]
pub fn detail_of_instant(at: Instant) -> u64 {
    millis(at)
}

/// Decodes [`detail_of_instant`] (to the millisecond).
pub fn instant_of(detail: u64) -> Instant {
    epoch() + Duration::from_millis(detail.saturating_sub(1))
}
