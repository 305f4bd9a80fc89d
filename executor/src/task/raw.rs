//! Type-erased task pointers and the owning handles built on them.
//!
//! Each handle owns exactly one ref of the state word (contract C4):
//! [`Task`] is the owned-task list's ref, [`Notified`] a queued task's.

use std::future::Future;
use std::marker::PhantomData;
use std::ptr::NonNull;

use super::harness;
use super::header::{Cell, Header, Vtable};
use super::Schedule;

/// A pointer to a task's header; copying it does not touch the refcount.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: the task is shared across threads by design; all shared state is
// behind the atomic state word or accessed under its ownership rules. A
// `spawn_local` task's future is `!Send`: its pointer still travels (in
// wakers, handles, queues), but only its owner thread polls or drops the
// future (`task::new_local_task`'s contract, `Schedule::ANY_THREAD`).
unsafe impl Send for RawTask {}
// SAFETY: as above.
unsafe impl Sync for RawTask {}

impl RawTask {
    pub(crate) fn new<F, S>(cell: Box<Cell<F, S>>) -> RawTask
    where
        F: Future + 'static,
        S: Schedule,
    {
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask { ptr }
    }

    /// # Safety
    ///
    /// `ptr` must point to the header of a live task.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(crate) fn header_ptr(&self) -> NonNull<Header> {
        self.ptr
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a RawTask is only made for live tasks, and every user holds
        // a ref (or is inside a call made under one).
        unsafe { self.ptr.as_ref() }
    }

    fn vtable(&self) -> &'static Vtable {
        self.header().vtable
    }

    pub(crate) fn poll(self) {
        // SAFETY: the caller owns a Notified ref, which `poll` consumes.
        unsafe { (self.vtable().poll)(self.ptr) }
    }

    pub(crate) fn dealloc(self) {
        // SAFETY: called when the refcount reached zero.
        unsafe { (self.vtable().dealloc)(self.ptr) }
    }

    /// # Safety
    ///
    /// `dst` must point to a `Poll<Result<T, JoinError>>` for the task's `T`.
    pub(crate) unsafe fn try_read_output(self, dst: *mut (), waker: &std::task::Waker) {
        // SAFETY: forwarded contract.
        unsafe { (self.vtable().try_read_output)(self.ptr, dst, waker) }
    }

    pub(crate) fn drop_join_handle_slow(self) {
        // SAFETY: called by the JoinHandle, which owns a ref.
        unsafe { (self.vtable().drop_join_handle_slow)(self.ptr) }
    }

    /// Queues the task. The caller reserved a ref for the new `Notified`
    /// and holds another one until this returns (the push must not run on
    /// a task that another worker may complete and free meanwhile).
    pub(crate) fn schedule(self) {
        // SAFETY: the caller reserved a ref for the new Notified and holds
        // one of its own across the call.
        unsafe { (self.vtable().schedule)(self.ptr) }
    }

    pub(crate) fn shutdown(self) {
        // SAFETY: the caller passes in the owned-list ref.
        unsafe { (self.vtable().shutdown)(self.ptr) }
    }

    /// Calls `f` with the task's cancel scope (see `header::ScopeRef`).
    pub(crate) fn with_scope(self, f: &mut super::header::ScopeFn<'_>) {
        // SAFETY: the caller holds a ref, so the task is live.
        unsafe { (self.vtable().with_scope)(self.ptr, f) }
    }

    /// Arms the task's scheduler's timer ([`Schedule::wake_at`]).
    #[cfg(not(loom))]
    pub(crate) fn wake_at(
        self,
        deadline: std::time::Instant,
        waker: std::task::Waker,
    ) -> Result<(), std::task::Waker> {
        // SAFETY: the caller holds a ref, so the header is a live Cell.
        unsafe { (self.vtable().wake_at)(self.ptr, deadline, waker) }
    }

    pub(crate) fn ref_inc(self) {
        self.header().state.ref_inc();
    }

    pub(crate) fn drop_reference(self) {
        if self.header().state.ref_dec() {
            self.dealloc();
        }
    }
}

/// The owned-task list's handle of a task (one ref).
pub(crate) struct Task<S: 'static> {
    raw: RawTask,
    _p: PhantomData<S>,
}

/// A task that is queued to be polled (one ref). Never in two queues at
/// once: a `Notified` is created only by a transition that set NOTIFIED on
/// an idle task, or by a worker re-queuing the task it ran (C3).
pub(crate) struct Notified<S: 'static>(Task<S>);

// SAFETY: see RawTask.
unsafe impl<S> Send for Task<S> {}
// SAFETY: see RawTask.
unsafe impl<S> Sync for Task<S> {}
// SAFETY: see RawTask.
unsafe impl<S> Send for Notified<S> {}
// SAFETY: see RawTask.
unsafe impl<S> Sync for Notified<S> {}

impl<S: 'static> Task<S> {
    /// # Safety
    ///
    /// The caller transfers one ref of `raw` to the new handle.
    pub(crate) unsafe fn from_raw(raw: RawTask) -> Task<S> {
        Task {
            raw,
            _p: PhantomData,
        }
    }

    pub(crate) fn raw(&self) -> RawTask {
        self.raw
    }

    pub(crate) fn header(&self) -> &Header {
        self.raw.header()
    }

    /// Gives up the handle without dropping its ref.
    pub(crate) fn into_raw(self) -> RawTask {
        let raw = self.raw;
        std::mem::forget(self);
        raw
    }

    /// Runtime shutdown of this task; consumes the owned-list ref.
    pub(crate) fn shutdown(self) {
        self.into_raw().shutdown();
    }
}

impl<S: 'static> Notified<S> {
    /// # Safety
    ///
    /// The caller transfers one reserved ref of `raw` to the new handle.
    pub(crate) unsafe fn from_raw(raw: RawTask) -> Notified<S> {
        // SAFETY: forwarded contract.
        Notified(unsafe { Task::from_raw(raw) })
    }

    pub(crate) fn header(&self) -> &Header {
        self.0.header()
    }

    pub(crate) fn into_raw(self) -> RawTask {
        self.0.into_raw()
    }

    /// Polls the task; the ref moves into the poll.
    pub(crate) fn run(self) {
        self.into_raw().poll();
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl<S: 'static> std::fmt::Debug for Notified<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Notified({})", self.header().id)
    }
}

/// Build the vtable for one `(F, S)`.
pub(crate) fn vtable<F, S>() -> &'static Vtable
where
    F: Future + 'static,
    S: Schedule,
{
    &Vtable {
        poll: harness::poll::<F, S>,
        schedule: harness::schedule::<F, S>,
        dealloc: harness::dealloc::<F, S>,
        try_read_output: harness::try_read_output::<F, S>,
        drop_join_handle_slow: harness::drop_join_handle_slow::<F, S>,
        shutdown: harness::shutdown::<F, S>,
        with_scope: harness::with_scope::<F, S>,
        wake_at: harness::wake_at::<F, S>,
        any_thread: S::ANY_THREAD,
    }
}

impl RawTask {
    /// The task of a header reference.
    pub(crate) fn from_header(h: &Header) -> RawTask {
        RawTask {
            ptr: NonNull::from(h),
        }
    }
}
