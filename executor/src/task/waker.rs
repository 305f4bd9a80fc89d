//! The waker vtable: a waker is one ref of the task.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::header::Header;
use super::raw::RawTask;
use super::state::TransitionToNotified;
use super::Schedule;

/// A waker for the task that does not own a ref: the caller must not drop
/// it (wrap it in `ManuallyDrop`) and must hold a ref while it is used.
/// Cloning it makes a normal, ref-owning waker.
pub(super) fn waker_ref<S: Schedule>(header: NonNull<Header>) -> Waker {
    // SAFETY: the vtable functions below uphold the RawWaker contract; the
    // data pointer is a live task header (the caller holds a ref).
    unsafe { Waker::from_raw(raw_waker(header)) }
}

fn raw_waker(header: NonNull<Header>) -> RawWaker {
    RawWaker::new(header.as_ptr() as *const (), &WAKER_VTABLE)
}

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone, wake_by_val, wake_by_ref, drop_waker);

fn raw(ptr: *const ()) -> RawTask {
    // SAFETY: the data pointer of our wakers is always a live header (each
    // waker owns a ref, or is a `waker_ref` used under one).
    unsafe { RawTask::from_raw(NonNull::new_unchecked(ptr as *mut Header)) }
}

/// `RawWakerVTable::clone`: a new waker owning a new ref.
///
/// # Safety
///
/// `ptr` must be the data pointer of one of our wakers (a live task
/// header) that owns a ref or is a `waker_ref` used under one.
unsafe fn clone(ptr: *const ()) -> RawWaker {
    let task = raw(ptr);
    task.ref_inc();
    raw_waker(task.header_ptr())
}

/// `RawWakerVTable::wake`: notifies the task, consuming the waker's ref.
///
/// # Safety
///
/// `ptr` must be the data pointer of one of our ref-owning wakers; the
/// waker is consumed (its ref is moved into the notification or dropped).
unsafe fn wake_by_val(ptr: *const ()) {
    let task = raw(ptr);
    match task.header().state.transition_to_notified_by_val() {
        TransitionToNotified::Submit => {
            // A ref was reserved for the Notified; ours (the waker's) keeps
            // the task alive across the push and is dropped after it.
            task.schedule();
            task.drop_reference();
        }
        TransitionToNotified::DoNothing => {}
        TransitionToNotified::Dealloc => task.dealloc(),
    }
}

/// `RawWakerVTable::wake_by_ref`: notifies the task, keeping the waker.
///
/// # Safety
///
/// As for `clone`: a live header whose ref the caller's waker holds.
unsafe fn wake_by_ref(ptr: *const ()) {
    let task = raw(ptr);
    match task.header().state.transition_to_notified_by_ref() {
        TransitionToNotified::Submit => task.schedule(),
        TransitionToNotified::DoNothing => {}
        TransitionToNotified::Dealloc => unreachable!("wake_by_ref does not drop a ref"),
    }
}

/// `RawWakerVTable::drop`: drops the waker's ref.
///
/// # Safety
///
/// `ptr` must be the data pointer of one of our ref-owning wakers, which
/// is not used again.
unsafe fn drop_waker(ptr: *const ()) {
    raw(ptr).drop_reference();
}
