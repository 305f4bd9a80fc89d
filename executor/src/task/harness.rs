//! What happens to a task when it is polled, completed, joined, aborted or
//! shut down: the code behind the vtable, monomorphised per `(F, S)`.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use quell_cancel::{context, CancelToken, Cause};

use super::error::JoinError;
use super::header::{Bind, Cell, Header, Stage, Trailer};
use super::raw::{Notified, RawTask, Task};
use super::state::{TransitionToIdle, TransitionToNotified, TransitionToRunning, CANCELLED};
use super::{waker, Schedule};

struct Harness<F: Future, S: 'static> {
    cell: NonNull<Cell<F, S>>,
}

impl<F, S> Harness<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    /// # Safety
    ///
    /// `ptr` is the header of a live `Cell<F, S>`.
    unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Harness { cell: ptr.cast() }
    }

    fn cell(&self) -> &Cell<F, S> {
        // SAFETY: live per `from_raw`'s contract, and refs keep it live.
        unsafe { self.cell.as_ref() }
    }

    fn header(&self) -> &Header {
        &self.cell().header
    }

    fn header_ptr(&self) -> NonNull<Header> {
        self.cell.cast()
    }

    fn trailer(&self) -> &Trailer {
        &self.cell().trailer
    }

    /// The token this task is bound to, if any.
    fn token(&self) -> Option<&CancelToken> {
        let trailer = self.trailer();
        match &trailer.token {
            Some(t) => Some(t),
            None if trailer.root => self.cell().scheduler.root_token(),
            None => None,
        }
    }

    fn raw(&self) -> RawTask {
        // SAFETY: live task.
        unsafe { RawTask::from_raw(self.header_ptr()) }
    }

    /// The future's poll, with the cancel context entered and panics caught.
    /// Caller holds RUNNING.
    fn poll_future(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, JoinError>> {
        let ctx = TaskCtx {
            header: self.header(),
            trailer: self.trailer(),
            token: self.token(),
        };
        let res = context::enter(&ctx, || {
            catch_unwind(AssertUnwindSafe(|| {
                self.cell().stage.with_mut(|stage| {
                    // SAFETY: RUNNING gives this thread exclusive access to
                    // the stage; the future is pinned in the heap cell and
                    // never moved until dropped in place.
                    match unsafe { &mut *stage } {
                        Stage::Running(fut) => {
                            // SAFETY: see above: the future never moves.
                            unsafe { std::pin::Pin::new_unchecked(fut) }.poll(cx)
                        }
                        _ => unreachable!("polled a task that is not running"),
                    }
                })
            }))
        });
        match res {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Err(payload) => Poll::Ready(Err(JoinError::panicked(self.header().id, payload))),
        }
    }

    /// Replace the stage; a panicking destructor is contained (and reported
    /// as a panic if we were about to store an output).
    fn set_stage(&self, new: Stage<F>) -> Result<(), Box<dyn std::any::Any + Send>> {
        let mut new = Some(new);
        catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the caller holds RUNNING or, after COMPLETE, the
            // join-handle's exclusive right to the output.
            self.cell()
                .stage
                .with_mut(|p| unsafe { *p = new.take().unwrap() });
        }))
        .inspect_err(|_| {
            // The old value's destructor panicked; the slot now holds
            // whatever unwinding left. Store the new stage without dropping.
            if let Some(v) = new.take() {
                // SAFETY: as above.
                self.cell()
                    .stage
                    .with_mut(|p| unsafe { std::ptr::write(p, v) });
            }
        })
    }

    fn poll(self) {
        match self.header().state.transition_to_running() {
            TransitionToRunning::Success => {
                let waker = ManuallyDrop::new(waker::waker_ref::<S>(self.header_ptr()));
                let mut cx = Context::from_waker(&waker);
                match self.poll_future(&mut cx) {
                    Poll::Ready(out) => self.complete(out),
                    Poll::Pending => self.after_pending(&waker),
                }
            }
            TransitionToRunning::Aborted => self.abort_and_complete(false),
            TransitionToRunning::Failed => {}
            TransitionToRunning::Dealloc => self.dealloc(),
        }
    }

    /// The poll returned `Pending`: bind to the token (first park only),
    /// then the idle transition that re-checks NOTIFIED/ABORTED (C1, C2).
    fn after_pending(self, waker: &Waker) {
        self.bind_to_token(waker);
        match self.header().state.transition_to_idle() {
            TransitionToIdle::Ok => {}
            TransitionToIdle::OkNotified => {
                // SAFETY: transition_to_idle handed the worker's ref to the
                // new Notified.
                let task = unsafe { Notified::from_raw(self.raw()) };
                self.cell().scheduler.yield_now(task);
            }
            TransitionToIdle::OkDealloc => self.dealloc(),
            TransitionToIdle::Aborted => self.abort_and_complete(false),
        }
    }

    /// Contract C8, task side: register the task's waker with its token
    /// *before* the idle transition. Either the token's cancel will find
    /// the waker (and wake the task, which is idle or about to re-check
    /// NOTIFIED), or registration reports the token already cancelled and we
    /// notify ourselves, so the idle transition re-queues us.
    fn bind_to_token(&self, waker: &Waker) {
        let trailer = self.trailer();
        // SAFETY: `bind` is only accessed by the RUNNING owner (us).
        let bind = trailer.bind.with(|p| unsafe { *p });
        if bind != Bind::Unbound {
            return;
        }
        let Some(token) = self.token() else {
            // Unbound with no token: a root binding on a scheduler without
            // a root (never built so); nothing to bind to.
            // SAFETY: `bind` is only accessed by the RUNNING owner (us).
            trailer.bind.with_mut(|p| unsafe { *p = Bind::Done });
            return;
        };
        let next = match token.register_waker(waker) {
            Some(key) => Bind::Registered(key),
            None => {
                // Already cancelled: the poll may have missed it. We hold
                // RUNNING, so this only sets NOTIFIED.
                let _ = self.header().state.transition_to_notified_by_ref();
                Bind::Done
            }
        };
        // SAFETY: as above.
        trailer.bind.with_mut(|p| unsafe { *p = next });
    }

    fn unbind(&self) {
        let trailer = self.trailer();
        // SAFETY: RUNNING owner.
        let bind = trailer
            .bind
            .with_mut(|p| unsafe { std::mem::replace(&mut *p, Bind::Done) });
        if let (Bind::Registered(key), Some(token)) = (bind, self.token()) {
            token.deregister_waker(key);
        }
    }

    /// Drop the future (we hold RUNNING) and complete as aborted.
    fn abort_and_complete(self, by_shutdown: bool) {
        let id = self.header().id;
        let out = match self.set_stage(Stage::Consumed) {
            Ok(()) => Err(JoinError::aborted(id, by_shutdown)),
            Err(p) => Err(JoinError::panicked(id, p)),
        };
        self.complete(out);
    }

    fn complete(self, output: Result<F::Output, JoinError>) {
        self.unbind();
        // Drop the future (if still there) and store the output.
        let output = match self.set_stage(Stage::Consumed) {
            Ok(()) => output,
            Err(p) => Err(JoinError::panicked(self.header().id, p)),
        };
        let _ = self.set_stage(Stage::Finished(output));

        let snapshot = self.header().state.transition_to_complete();
        if !snapshot.is_join_interested() {
            // No JoinHandle: we drop the output.
            let _ = self.set_stage(Stage::Consumed);
        } else if snapshot.is_join_waker_set() {
            // SAFETY: rule 4: COMPLETE and JOIN_WAKER are set.
            unsafe { self.trailer().wake_join() };
            if !self
                .header()
                .state
                .unset_waker_after_complete()
                .is_join_interested()
            {
                // The handle was dropped meanwhile; the slot is ours.
                // SAFETY: rule 4.
                unsafe { self.trailer().set_waker(None) };
            }
        }
        // Release from the owned list (its ref) plus the running ref.
        // SAFETY: we borrow the owned-list entry's identity only.
        let me = ManuallyDrop::new(unsafe { Task::<S>::from_raw(self.raw()) });
        let released = self.cell().scheduler.release(&me);
        let count = if let Some(task) = released {
            let _ = task.into_raw();
            2
        } else {
            1
        };
        if self.header().state.transition_to_terminal(count) {
            self.dealloc();
        }
    }

    fn dealloc(self) {
        // SAFETY: the refcount is zero, so no one else can reach the cell;
        // it was allocated by Box in `Cell::new`.
        drop(unsafe { Box::from_raw(self.cell.as_ptr()) });
    }
}

/// What the cancel context sees of the task being polled.
struct TaskCtx<'a> {
    header: &'a Header,
    trailer: &'a Trailer,
    token: Option<&'a CancelToken>,
}

fn detached() -> &'static CancelToken {
    static DETACHED: OnceLock<CancelToken> = OnceLock::new();
    DETACHED.get_or_init(CancelToken::new)
}

impl context::TaskCancel for TaskCtx<'_> {
    fn token(&self) -> &CancelToken {
        // Resolved lazily: `detached()` is a process-wide static, only
        // touched by a task without a token that asks for one.
        self.token.unwrap_or_else(|| detached())
    }

    fn own_cause(&self) -> Option<Cause> {
        // Acquire (in `load`) pairs with the AcqRel RMW that set CANCELLED
        // after the cause was stored; the mutex then gives us the cause.
        if !self.header.state.load().is_cancelled() {
            return None;
        }
        self.trailer
            .own_cause
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

// ---- vtable entry points ----

pub(super) unsafe fn poll<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: vtable contract: `ptr` is a live Cell<F, S>.
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll();
}

pub(super) unsafe fn schedule<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: vtable contract; the caller reserved the ref.
    let h = unsafe { Harness::<F, S>::from_raw(ptr) };
    // SAFETY: the ref reserved by the caller moves into the Notified.
    let task = unsafe { Notified::from_raw(h.raw()) };
    h.cell().scheduler.schedule(task);
}

pub(super) unsafe fn dealloc<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: vtable contract.
    unsafe { Harness::<F, S>::from_raw(ptr) }.dealloc();
}

pub(super) unsafe fn try_read_output<F, S>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: vtable contract.
    let h = unsafe { Harness::<F, S>::from_raw(ptr) };
    if can_read_output(h.header(), h.trailer(), waker) {
        // SAFETY: COMPLETE is set and the handle is the only reader of the
        // output (JOIN_INTEREST is ours).
        let stage = h
            .cell()
            .stage
            .with_mut(|p| unsafe { std::mem::replace(&mut *p, Stage::Consumed) });
        let out = match stage {
            Stage::Finished(out) => out,
            _ => panic!("JoinHandle polled after completion"),
        };
        // SAFETY: the caller passes a Poll<Result<F::Output, JoinError>>.
        unsafe { *(dst as *mut Poll<Result<F::Output, JoinError>>) = Poll::Ready(out) };
    }
}

/// JOIN_WAKER rules 1–3 (see `state.rs`). True when the output is ready.
fn can_read_output(header: &Header, trailer: &Trailer, waker: &Waker) -> bool {
    let snapshot = header.state.load();
    debug_assert!(snapshot.is_join_interested());
    if snapshot.is_complete() {
        return true;
    }
    let res = if !snapshot.is_join_waker_set() {
        set_join_waker(header, trailer, waker.clone())
    } else {
        // SAFETY: with JOIN_WAKER set the handle may read the slot.
        if unsafe { trailer.will_wake(waker) } {
            return false;
        }
        header
            .state
            .unset_waker()
            .and_then(|_| set_join_waker(header, trailer, waker.clone()))
    };
    match res {
        Ok(_) => false,
        Err(s) => {
            debug_assert!(s.is_complete());
            true
        }
    }
}

fn set_join_waker(
    header: &Header,
    trailer: &Trailer,
    waker: Waker,
) -> Result<super::state::Snapshot, super::state::Snapshot> {
    // SAFETY: rule 1: JOIN_WAKER is clear, the handle owns the slot.
    unsafe { trailer.set_waker(Some(waker)) };
    let res = header.state.set_join_waker();
    if res.is_err() {
        // Completed meanwhile: the slot is still ours; clear it.
        // SAFETY: rule 1 still holds (we never set JOIN_WAKER).
        unsafe { trailer.set_waker(None) };
    }
    res
}

pub(super) unsafe fn drop_join_handle_slow<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: vtable contract.
    let h = unsafe { Harness::<F, S>::from_raw(ptr) };
    let t = h.header().state.transition_to_join_handle_dropped();
    if t.drop_output {
        // The task completed: the output is the handle's to drop.
        let _ = h.set_stage(Stage::Consumed);
    }
    if t.drop_waker {
        // SAFETY: rule 1: JOIN_WAKER is clear, the slot is the handle's.
        unsafe { h.trailer().set_waker(None) };
    }
    if h.header().state.ref_dec() {
        h.dealloc();
    }
}

pub(super) unsafe fn shutdown<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: vtable contract.
    let h = unsafe { Harness::<F, S>::from_raw(ptr) };
    if h.header().state.transition_to_shutdown() {
        // We own the future now (RUNNING), holding the owned-list ref.
        h.abort_and_complete(true);
    } else {
        // Running or complete: whoever owns it drops the future at its
        // next scheduling point (ABORTED is set). Drop the owned-list ref.
        h.raw().drop_reference();
    }
}

/// `JoinHandle::cancel`: store the cause (first wins), then set CANCELLED
/// and notify. The cause is written before the flag's AcqRel RMW, which
/// pairs with the Acquire load in `TaskCtx::own_cause`.
pub(crate) fn cancel(raw: RawTask, cause: Cause) -> bool {
    let trailer_cause = {
        // SAFETY: the caller holds a ref (JoinHandle/AbortHandle).
        unsafe { Header::trailer(raw.header_ptr()) }
    };
    {
        let mut slot = trailer_cause
            .own_cause
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if raw.header().state.load().is_complete() {
            return false;
        }
        if slot.is_none() {
            *slot = Some(cause);
        }
    }
    notify_with(raw, CANCELLED)
}

/// `abort()`. An idle task is aborted on the calling thread: the
/// transition that sets ABORTED hands us a `Notified` (the task is not
/// queued anywhere), and polling it drops the future and completes the
/// task at once (`transition_to_running` sees ABORTED; the future is never
/// polled). Only the join waiter's wake then crosses threads, instead of a
/// trip through the injector to a worker first. The future's destructor
/// therefore runs here, as it does at shutdown (so the caller must not hold
/// a lock that destructor takes): I/O resources deregister
/// through their own driver handle, wakes it makes go to the injector (or,
/// on a worker, its own queue), a panic in it is caught and reported to
/// the join (`abort_and_complete`). A running or queued task is only
/// flagged; its worker drops it at its next scheduling point.
pub(crate) fn abort(raw: RawTask) -> bool {
    let (first, action) = raw
        .header()
        .state
        .transition_to_notified_and_flag(super::state::ABORTED);
    if action == TransitionToNotified::Submit {
        // The Notified's ref (taken by the transition) moves into the poll.
        raw.poll();
    }
    first
}

fn notify_with(raw: RawTask, flag: usize) -> bool {
    let (first, action) = raw.header().state.transition_to_notified_and_flag(flag);
    if action == TransitionToNotified::Submit {
        raw.schedule();
    }
    first
}
