//! Abort after a grace: the forced half of "cooperative first, forced last"
//! ([`JoinHandle::cancel_with_grace`](super::JoinHandle::cancel_with_grace),
//! a dropped task group's members).
//!
//! The policy lives with the runtime: the abort is a waker armed on the
//! task's own scheduler's timer wheel ([`Schedule::wake_at`](super::Schedule::wake_at)),
//! reached through the task's vtable, so it works the same from a worker,
//! from `block_on`, or from a thread outside any runtime, and costs one
//! wheel entry (O(1), no thread, no task, no allocation: the waker *is* a
//! ref of the task).
//!
//! The waker owns one ref of the task, so the task's memory stays until the
//! timer fires (or the wheel shuts down). Waking it aborts the task, a no-op
//! if it has completed meanwhile. Never lost:
//!
//! * armed: the wheel wakes it at the deadline, or wakes every entry when it
//!   shuts down (after the runtime's shutdown has already aborted every
//!   task, so the abort is then a no-op);
//! * refused (the timer has shut down, or the scheduler has none — a
//!   blocking-pool task): aborted at once. A shut-down runtime has already
//!   aborted its tasks; a blocking closure that is running cannot be
//!   dropped mid-call by anyone and its output is discarded.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};
use std::time::{Duration, Instant};

use super::harness;
use super::header::Header;
use super::raw::RawTask;

/// Aborts `raw` once `grace` has passed, unless it completed before.
/// The caller holds a ref (a handle); this takes a new one for the timer.
pub(crate) fn abort_after(raw: RawTask, grace: Duration) {
    if raw.header().state.load().is_complete() {
        return;
    }
    if grace.is_zero() {
        harness::abort(raw);
        return;
    }
    let now = Instant::now();
    // A grace too long to represent never ends: nothing to arm.
    let Some(deadline) = now.checked_add(grace) else {
        return;
    };
    raw.ref_inc();
    // SAFETY: the ref taken just above moves into the waker.
    let waker = unsafe { abort_waker(raw) };
    if let Err(waker) = raw.wake_at(deadline, waker) {
        waker.wake(); // no timer (module docs): abort now, never drop it
    }
}

/// # Safety
///
/// The caller transfers one ref of `raw` to the waker.
unsafe fn abort_waker(raw: RawTask) -> Waker {
    // SAFETY: the vtable below upholds the RawWaker contract: the data
    // pointer is a live header whose ref the waker owns (clone takes one
    // more, wake/drop give it back).
    unsafe { Waker::from_raw(raw_waker(raw.header_ptr())) }
}

fn raw_waker(header: NonNull<Header>) -> RawWaker {
    RawWaker::new(header.as_ptr() as *const (), &ABORT_VTABLE)
}

static ABORT_VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

fn raw(ptr: *const ()) -> RawTask {
    // SAFETY: the data pointer of an abort waker is a live header, kept
    // live by the ref the waker owns.
    unsafe { RawTask::from_raw(NonNull::new_unchecked(ptr as *mut Header)) }
}

/// # Safety
///
/// `ptr` is the data pointer of a live abort waker (a task header whose
/// ref that waker owns).
unsafe fn clone(ptr: *const ()) -> RawWaker {
    let task = raw(ptr);
    task.ref_inc();
    raw_waker(task.header_ptr())
}

/// # Safety
///
/// `ptr` is the data pointer of a live abort waker (a task header whose
/// ref that waker owns).
unsafe fn wake(ptr: *const ()) {
    let task = raw(ptr);
    harness::abort(task);
    task.drop_reference();
}

/// # Safety
///
/// `ptr` is the data pointer of a live abort waker (a task header whose
/// ref that waker owns).
unsafe fn wake_by_ref(ptr: *const ()) {
    harness::abort(raw(ptr));
}

/// # Safety
///
/// `ptr` is the data pointer of a live abort waker (a task header whose
/// ref that waker owns).
unsafe fn drop_waker(ptr: *const ()) {
    raw(ptr).drop_reference();
}
