//! `JoinHandle` and `AbortHandle`.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use quell_cancel::Cause;

use super::error::JoinError;
use super::harness;
use super::id::Id;
use super::raw::RawTask;

/// An owned permission to join a task: awaiting it yields the task's output.
///
/// Dropping the handle *detaches* the task (it keeps running). Use
/// [`abort`](Self::abort) to drop the future, or [`cancel`](Self::cancel)
/// to ask it to stop cooperatively.
///
/// The three endings stay distinguishable:
///
/// * `Ok(value)`: the task returned (also when it observed `Cancelled` and
///   returned normally: its value says how it ended);
/// * `Err(e)` with `e.is_aborted()`: the future was dropped by `abort()` or
///   by shutdown;
/// * `Err(e)` with `e.is_panic()`: the task panicked (payload kept).
pub struct JoinHandle<T> {
    raw: Option<RawTask>,
    /// Set when spawning failed (e.g. after shutdown): yielded on first poll.
    failed: Option<JoinError>,
    id: Id,
    _p: PhantomData<T>,
}

// SAFETY: the handle only moves `T` out once the task completed, and `T: Send`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` gives no access to `T`.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    ///
    /// `raw` is a task whose output is `T`; one ref moves into the handle.
    pub(crate) unsafe fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            id: raw.header().id,
            raw: Some(raw),
            failed: None,
            _p: PhantomData,
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// Forcibly stops the task: its future is dropped at its next scheduling
    /// point (at once if it is idle), and the handle yields an error with
    /// `is_aborted()`. A task that already completed is unaffected.
    #[track_caller]
    pub fn abort(&self) {
        if let Some(raw) = self.raw {
            harness::abort(raw);
        }
    }

    /// Cooperatively cancels *this task* with `cause`: it is woken, and every
    /// runtime await point it reaches answers `Cancelled` (unless shielded).
    /// The first cause wins. Returns true if this call cancelled it.
    #[track_caller]
    pub fn cancel(&self, cause: Cause) -> bool {
        match self.raw {
            Some(raw) => harness::cancel(raw, cause),
            None => false,
        }
    }

    /// Cooperative first, forced last: cancels the task with `cause` now
    /// (as [`cancel`](Self::cancel)), and aborts it if it has not finished
    /// `grace` later (as [`abort`](Self::abort)). Returns what `cancel`
    /// returned (whether this call cancelled it).
    ///
    /// The abort is one entry on the timer wheel of the task's own runtime
    /// (no thread, no helper task), armed the same way from a task, from
    /// `block_on` or from a thread outside any runtime; it keeps the task's
    /// memory until it fires. A task that finishes within `grace` joins with
    /// its own output; one that does not joins with `is_aborted()`. With a
    /// zero `grace` the abort is immediate. If the runtime shuts down first,
    /// shutdown's own cancel → abort sequence applies; once it has shut down
    /// (no timer left to arm) the abort is immediate, never dropped.
    #[cfg(not(loom))]
    #[track_caller]
    pub fn cancel_with_grace(&self, cause: Cause, grace: std::time::Duration) -> bool {
        let cancelled = self.cancel(cause);
        self.abort_after(grace);
        cancelled
    }

    /// Turns the handle into one that cancels the task when dropped
    /// before it finished; see [`CancelOnDrop`](super::CancelOnDrop).
    #[cfg(not(loom))]
    pub fn cancel_on_drop(self) -> super::CancelOnDrop<T> {
        super::CancelOnDrop::new(self)
    }

    /// The forced half of [`cancel_with_grace`](Self::cancel_with_grace).
    #[cfg(not(loom))]
    pub(crate) fn abort_after(&self, grace: std::time::Duration) {
        if let Some(raw) = self.raw {
            super::grace::abort_after(raw, grace);
        }
    }

    /// True once the task has completed (returned, panicked or was aborted).
    pub fn is_finished(&self) -> bool {
        match self.raw {
            Some(raw) => raw.header().state.load().is_complete(),
            None => true,
        }
    }

    /// A handle that can abort or cancel the task without joining it.
    pub fn abort_handle(&self) -> AbortHandle {
        if let Some(raw) = self.raw {
            raw.ref_inc();
        }
        AbortHandle {
            raw: self.raw,
            id: self.id,
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A join is a cancel point (C11): a cancelled awaiter stops waiting
        // for a task outside its scope; one inside it is being cancelled
        // too, so we wait for its own result.
        if let Some(raw) = self.raw {
            if let Some(c) = quell_cancel::rt_internal::observed() {
                if !raw.header().state.load().is_complete() && !awaiter_scope_covers(raw) {
                    return Poll::Ready(Err(JoinError::awaiter_cancelled(self.id, c)));
                }
            }
        }
        let p = self.poll_completion(cx);
        if p.is_pending() {
            quell_cancel::rt_internal::wait::record(&JOIN, None, self.id.0);
        }
        p
    }
}

/// The await point of a task awaiting a [`JoinHandle`] (task dumps): the
/// id of the task joined.
static JOIN: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "JoinHandle",
        describe: Some(describe_join),
    };

fn describe_join(detail: u64) -> Option<String> {
    Some(format!("of task {detail}"))
}

impl<T> JoinHandle<T> {
    /// Polls for the task's own ending (output, abort or panic) without the
    /// awaiter's cancel point: task groups join their members this way
    /// (a member's result is never replaced by the group owner's cancel).
    pub(crate) fn poll_completion(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let Some(raw) = self.raw else {
            let err = self
                .failed
                .take()
                .expect("JoinHandle polled after completion");
            return Poll::Ready(Err(err));
        };
        let mut ret = Poll::Pending;
        // SAFETY: `ret` is a Poll<Result<T, JoinError>> and `T` is the task's output type.
        unsafe { raw.try_read_output(&mut ret as *mut _ as *mut (), cx.waker()) };
        ret
    }
}

/// Whether the awaited task runs inside the current (awaiting) scope: its
/// scope's token is the awaiter's or a descendant of it, so cancelling the
/// awaiter's scope cancels it too. Only asked once the awaiter is
/// cancelled; the walk up the tree is as deep as the nesting.
fn awaiter_scope_covers(raw: RawTask) -> bool {
    quell_cancel::rt_internal::with_current(|awaiter| {
        let Some(awaiter) = awaiter else { return false };
        let mine = awaiter.token();
        let mut covered = false;
        raw.with_scope(&mut |s| {
            covered = s
                .token()
                .is_some_and(|t| t.same(mine) || mine.is_ancestor_of(t));
        });
        covered
    })
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let Some(raw) = self.raw else { return };
        if raw.header().state.drop_join_handle_fast().is_ok() {
            return;
        }
        raw.drop_join_handle_slow();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("id", &self.id).finish()
    }
}

/// Aborts or cancels a task without the right to join it. Cloneable.
pub struct AbortHandle {
    raw: Option<RawTask>,
    id: Id,
}

impl AbortHandle {
    /// See [`JoinHandle::abort`].
    #[track_caller]
    pub fn abort(&self) {
        if let Some(raw) = self.raw {
            harness::abort(raw);
        }
    }

    /// See [`JoinHandle::cancel`].
    #[track_caller]
    pub fn cancel(&self, cause: Cause) -> bool {
        match self.raw {
            Some(raw) => harness::cancel(raw, cause),
            None => false,
        }
    }

    /// See [`JoinHandle::is_finished`].
    pub fn is_finished(&self) -> bool {
        self.raw
            .is_none_or(|raw| raw.header().state.load().is_complete())
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        if let Some(raw) = self.raw {
            raw.ref_inc();
        }
        AbortHandle {
            raw: self.raw,
            id: self.id,
        }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        if let Some(raw) = self.raw {
            raw.drop_reference();
        }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle").field("id", &self.id).finish()
    }
}
