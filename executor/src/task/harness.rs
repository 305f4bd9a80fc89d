//! What happens to a task when it is polled, completed, joined, aborted or
//! shut down: the code behind the vtable, monomorphised per `(F, S)`.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use quell_cancel::rt_internal::wait;
use quell_cancel::{rt_internal as context, CancelToken, Cancelled, Cause};
use quell_io_driver::rt_internal::coop;

use super::error::JoinError;
use super::header::{Cell, Header, ScopeRef, Stage, Trailer};
use super::raw::{Notified, RawTask, Task};
use super::state::{TransitionToIdle, TransitionToNotified, TransitionToRunning, CANCELLED};
use super::{waker, Binding, Schedule};

struct Harness<F: Future, S: 'static> {
    cell: NonNull<Cell<F, S>>,
}

impl<F, S> Harness<F, S>
where
    F: Future + 'static,
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

    /// The task's scope, resolved against the scheduler's root token.
    fn scope(&self) -> ScopeRef<'_> {
        ScopeRef {
            scope: &self.trailer().scope,
            root: self.cell().scheduler.root_token(),
        }
    }

    fn raw(&self) -> RawTask {
        // SAFETY: live task.
        unsafe { RawTask::from_raw(self.header_ptr()) }
    }

    /// The future's poll, with the cancel context entered, a fresh
    /// cooperative budget, and panics caught. Caller holds RUNNING.
    fn poll_future(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, JoinError>> {
        let ctx = TaskCtx(self.scope(), self.header().id.0, self.header_ptr());
        wait::begin(&self.trailer().wait);
        let res = context::enter(&ctx, || {
            coop::budget(|| {
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
            })
        });
        match res {
            Ok(Poll::Pending) => {
                wait::commit(&self.trailer().wait);
                Poll::Pending
            }
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

    /// The poll returned `Pending`: bind to the scope's token (first park,
    /// or the first after the task's own node appeared), then the idle
    /// transition that re-checks NOTIFIED/ABORTED (C1, C2).
    fn after_pending(self, waker: &Waker) {
        self.bind_to_token(waker);
        match self.header().state.transition_to_idle() {
            TransitionToIdle::Ok => {}
            TransitionToIdle::OkNotified => {
                // SAFETY: transition_to_idle reserved a new ref for the
                // Notified; the worker keeps its own ref until the push
                // returned, so the scheduler borrowed from the cell stays
                // valid even if another worker completes the task meanwhile.
                let task = unsafe { Notified::from_raw(self.raw()) };
                self.cell().scheduler.yield_now(task);
                self.raw().drop_reference();
            }
            TransitionToIdle::OkDealloc => self.dealloc(),
            TransitionToIdle::Aborted => self.abort_and_complete(false),
        }
    }

    /// Contract C8, task side: register the task's waker with its scope's
    /// token *before* the idle transition. Either the token's cancel will
    /// find the waker (and wake the task, which is idle or about to
    /// re-check NOTIFIED), or registration reports the token already
    /// cancelled and we notify ourselves, so the idle transition re-queues
    /// us.
    fn bind_to_token(&self, waker: &Waker) {
        let s = self.scope();
        // SAFETY: we hold RUNNING.
        if unsafe { s.scope.bind(s.root, waker) } {
            // Already cancelled: the poll may have missed it. We hold
            // RUNNING, so this only sets NOTIFIED.
            let _ = self.header().state.transition_to_notified_by_ref();
        }
    }

    fn unbind(&self) {
        let s = self.scope();
        // SAFETY: we hold RUNNING (or own the future at shutdown).
        unsafe { s.scope.unbind(s.root) };
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
        let s = self.scope();
        // A task inheriting through its spawner lets go of it now at the
        // latest (its first park resolved it already, `lend.rs`).
        s.scope.resolve(s.root);
        // SAFETY: we hold RUNNING (or own the future at shutdown).
        unsafe { s.scope.seal_if_lent() };
        // Drop the future (if still there) and store the output.
        let output = match self.set_stage(Stage::Consumed) {
            Ok(()) => output,
            Err(p) => Err(JoinError::panicked(self.header().id, p)),
        };
        let _ = self.set_stage(Stage::Finished(output));
        self.cell().scheduler.task_terminated(self.header());

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

/// The task being polled, as the cancel context sees it: its scope, its
/// id and its header (what a spawn inherits through, `lend.rs`).
struct TaskCtx<'a>(ScopeRef<'a>, u64, NonNull<Header>);

/// What a spawn made while the frame `frame` is current inherits, for a
/// child on a scheduler whose root token is `root`: the task's own node,
/// or the task itself (`lend.rs`); with the task's id (the child's parent
/// in dumps). `None` if the task's root is another one (the caller then
/// inherits the scope token).
///
/// # Safety
///
/// `frame` is what the current frame answered to
/// `TaskCancel::runtime_task`, on this thread, while that frame is current.
#[inline]
pub(crate) unsafe fn inherit_from(
    frame: NonNull<()>,
    root: &CancelToken,
) -> Option<(Binding, u64)> {
    // SAFETY: only `TaskCtx` answers `runtime_task`, with itself; the frame
    // is current, so the poll that made it is still running.
    let ctx = unsafe { frame.cast::<TaskCtx<'_>>().as_ref() };
    if !ctx.0.root.is_some_and(|r| r.same(root)) {
        return None;
    }
    // SAFETY: the task is being polled on this thread (RUNNING), and the
    // header is its own.
    let binding = unsafe { ctx.0.scope.lend(ctx.0.root, RawTask::from_raw(ctx.2)) };
    Some((binding, ctx.1))
}

fn detached() -> &'static CancelToken {
    static DETACHED: OnceLock<CancelToken> = OnceLock::new();
    DETACHED.get_or_init(CancelToken::new)
}

impl context::TaskCancel for TaskCtx<'_> {
    fn token(&self) -> &CancelToken {
        // Binding off and no own node: a process-wide token nobody
        // cancels, resolved lazily (only a task that asks touches it).
        self.0.token().unwrap_or_else(|| detached())
    }

    fn scope_token(&self) -> CancelToken {
        // A task being polled is not complete, so its own slot is not
        // sealed: the own node (made now if needed) is always there.
        self.0.scope_token().unwrap_or_else(|| detached()).clone()
    }

    fn runtime_task(&self) -> Option<NonNull<()>> {
        Some(NonNull::from(self).cast())
    }

    fn cancelled(&self) -> Option<Cancelled> {
        self.0.scope.cancelled(self.0.root)
    }

    fn is_cancelled(&self) -> bool {
        self.0.scope.observes_cancel(self.0.root)
    }

    fn note_cancelled_scope(&self, token: &CancelToken, inside: bool) {
        self.0.scope.note_cancelled_scope(token, inside);
    }

    fn forced_yield(&self) {
        crate::metrics::stats::forced_yield();
    }

    fn task_id(&self) -> u64 {
        self.1
    }

    /// Cancel latency: one sample per task, only with histograms on (a
    /// thread-local read otherwise, on the cancelled path only).
    fn cancel_observed(&self, token: &CancelToken) {
        if !crate::metrics::stats::histograms_on() || !self.0.scope.first_cancel_observation() {
            return;
        }
        // A deadline scope's token, or the task's own scope (when the
        // enclosing scope's cancel is what the task sees).
        let at = token
            .cancelled_at()
            .or_else(|| self.0.token().and_then(CancelToken::cancelled_at));
        if let Some(at) = at {
            crate::metrics::stats::cancel_observed(at.elapsed());
        }
    }
}

// ---- vtable entry points ----

/// Vtable `poll`: runs one poll of the task (`Harness::poll`).
///
/// # Safety
///
/// `ptr` must point at a live task allocation of this exact `(F, S)`
/// (the vtable built by `raw::vtable::<F, S>` stores this function, so
/// calls through the task's own vtable satisfy this), and the caller must
/// own a `Notified` ref, which this call consumes.
pub(super) unsafe fn poll<F, S>(ptr: NonNull<Header>)
where
    F: Future + 'static,
    S: Schedule,
{
    // SAFETY: vtable contract: `ptr` is a live Cell<F, S>.
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll();
}

/// Vtable `schedule`: hands the task to its scheduler as a `Notified`.
///
/// # Safety
///
/// `ptr` must point at a live task allocation of this exact `(F, S)`
/// (the vtable built by `raw::vtable::<F, S>` stores this function, so
/// calls through the task's own vtable satisfy this), and the caller must
/// have reserved a ref (a `transition_to_notified_*` that answered
/// `Submit`), which moves into the `Notified`, and must hold another ref
/// of its own until the call returns (the push borrows the scheduler from
/// the task's allocation, which another worker may free once it is queued).
pub(super) unsafe fn schedule<F, S>(ptr: NonNull<Header>)
where
    F: Future + 'static,
    S: Schedule,
{
    // SAFETY: vtable contract; the caller reserved the ref and holds
    // another one until we return, so the cell (and the scheduler borrowed
    // from it) outlives the push even if the task completes meanwhile.
    let h = unsafe { Harness::<F, S>::from_raw(ptr) };
    // SAFETY: the ref reserved by the caller moves into the Notified.
    let task = unsafe { Notified::from_raw(h.raw()) };
    h.cell().scheduler.schedule(task);
}

/// Vtable `with_scope`: calls `f` with the task's scope.
///
/// # Safety
///
/// `ptr` must point at a live task allocation of this exact `(F, S)` (as
/// for every vtable entry), and the caller holds a ref for the call.
pub(super) unsafe fn with_scope<F, S>(ptr: NonNull<Header>, f: &mut super::header::ScopeFn<'_>)
where
    F: Future + 'static,
    S: Schedule,
{
    // SAFETY: vtable contract; the caller holds a ref.
    let h = unsafe { Harness::<F, S>::from_raw(ptr) };
    f(h.scope());
}

/// Vtable `dealloc`: frees the allocation.
///
/// # Safety
///
/// `ptr` must point at a live task allocation of this exact `(F, S)`
/// (the vtable built by `raw::vtable::<F, S>` stores this function, so
/// calls through the task's own vtable satisfy this), and the refcount must
/// have reached zero (no other pointer to the task is used afterwards).
pub(super) unsafe fn dealloc<F, S>(ptr: NonNull<Header>)
where
    F: Future + 'static,
    S: Schedule,
{
    // SAFETY: vtable contract.
    unsafe { Harness::<F, S>::from_raw(ptr) }.dealloc();
}

/// Vtable `try_read_output`: `JoinHandle::poll`'s body.
///
/// # Safety
///
/// `ptr` must point at a live task allocation of this exact `(F, S)`
/// (the vtable built by `raw::vtable::<F, S>` stores this function, so
/// calls through the task's own vtable satisfy this), and the caller must be
/// the task's `JoinHandle` (it owns JOIN_INTEREST and a ref), and `dst`
/// must be valid for writes of a `Poll<Result<F::Output, JoinError>>`.
pub(super) unsafe fn try_read_output<F, S>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker)
where
    F: Future + 'static,
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

/// Vtable `drop_join_handle_slow`: the `JoinHandle`'s drop after its fast
/// path failed.
///
/// # Safety
///
/// `ptr` must point at a live task allocation of this exact `(F, S)`
/// (the vtable built by `raw::vtable::<F, S>` stores this function, so
/// calls through the task's own vtable satisfy this), and the caller must
/// be the task's `JoinHandle`, whose ref this call consumes.
pub(super) unsafe fn drop_join_handle_slow<F, S>(ptr: NonNull<Header>)
where
    F: Future + 'static,
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

/// Vtable `shutdown`: runtime shutdown of one task (owned list).
///
/// # Safety
///
/// `ptr` must point at a live task allocation of this exact `(F, S)`
/// (the vtable built by `raw::vtable::<F, S>` stores this function, so
/// calls through the task's own vtable satisfy this), and the caller must
/// pass in the owned-list ref, which this call consumes.
pub(super) unsafe fn shutdown<F, S>(ptr: NonNull<Header>)
where
    F: Future + 'static,
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

/// `Schedule::wake_at` of the task's scheduler.
///
/// # Safety
///
/// `ptr` is the header of a live `Cell<F, S>` whose ref the caller holds.
pub(super) unsafe fn wake_at<F, S>(
    ptr: NonNull<Header>,
    deadline: std::time::Instant,
    waker: Waker,
) -> Result<(), Waker>
where
    F: Future + 'static,
    S: Schedule,
{
    // SAFETY: vtable contract; the caller holds a ref.
    let h = unsafe { Harness::<F, S>::from_raw(ptr) };
    h.cell().scheduler.wake_at(deadline, waker)
}

/// `JoinHandle::cancel`: cancel the task's own node (created now if the
/// task never needed it), so the task and every task that inherited its
/// scope see the cause. Only the call that cancels the node returns `true`:
/// if the scope was already cancelled (by an ancestor, a deadline, or an
/// earlier cancel), the cause the task observes stays the one it has
/// (scope.rs, invariant 3). Then the task itself is notified, since it may
/// be parked with its waker registered on the inherited token.
/// The caller's location is the cancel's call site (task dumps).
#[track_caller]
pub(crate) fn cancel(raw: RawTask, cause: Cause) -> bool {
    if raw.header().state.load().is_complete() {
        return false;
    }
    let by = std::panic::Location::caller();
    let mut cause = Some(cause);
    let mut first = false;
    raw.with_scope(&mut |s| {
        // No own slot: the task completed having lent its scope (its
        // children inherit what it inherited), after the check above.
        if let (Some(c), Some(own)) = (cause.take(), s.own()) {
            first = own.cancel_from(c, by);
        }
    });
    if first {
        notify_with(raw, CANCELLED);
    }
    first
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
/// flagged; its worker drops it at its next scheduling point. A task
/// bound to its thread (`Schedule::ANY_THREAD` false: `spawn_local`) is
/// queued for its owner instead, which drops the future. The caller's
/// location is noted as the abort's call site (task dumps).
#[track_caller]
pub(crate) fn abort(raw: RawTask) -> bool {
    // SAFETY: the caller holds a ref (every caller owns a handle's).
    unsafe { Header::trailer(raw.header_ptr()) }.note_aborted_by(std::panic::Location::caller());
    let (first, action) = raw
        .header()
        .state
        .transition_to_notified_and_flag(super::state::ABORTED);
    if action == TransitionToNotified::Submit {
        if raw.header().vtable.any_thread {
            // The Notified's ref (taken by the transition) moves into the poll.
            raw.poll();
        } else {
            // A thread-bound task (`spawn_local`): its future may be
            // dropped only by its owner, so queue it there; the owner's
            // poll sees ABORTED and drops it. The caller holds its own ref
            // across the push (the handle or the grace waker).
            raw.schedule();
        }
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
