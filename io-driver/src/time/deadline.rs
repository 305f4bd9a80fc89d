//! Deadline scopes: [`with_timeout`], [`with_deadline`], [`DeadlineScope`].
//!
//! A scope runs a future under a child token of the current one whose
//! deadline is `min(parent's, own)`, and arms a timer for that effective
//! deadline which cancels the child token with
//! `Cause::deadline_exceeded()`. Everything inside sees the scope's token:
//! `quell_cancel::current()`, the await points (which then answer
//! `Cancelled`), and `spawn` (so tasks spawned inside inherit it and are
//! cancelled by the deadline too). A deadline bounds everything under it
//! (contract C11): the inner future is cut off a short grace after the
//! deadline if it ignores the cancel, and the deadline timer stays armed
//! past the scope's end for as long as a task spawned inside still holds
//! the scope's token.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use quell_cancel::{rt_internal as cancel_cx, CancelToken, Cancelled, Cause, WaiterKey};

use super::entry::{Action, TimerKey};
use super::sleep::deadline_after;
use super::wheel::Insert;
use crate::driver::Handle;

/// Runs `fut` in a cancel scope whose deadline is `duration` from now (or
/// the enclosing deadline, if earlier). See [`DeadlineScope`].
///
/// # Panics
///
/// The scope panics when first polled on a thread without a quell runtime
/// (it needs the driver's timer wheel), unless its deadline has already
/// passed.
#[track_caller]
pub fn with_timeout<F: IntoFuture>(duration: Duration, fut: F) -> DeadlineScope<F::IntoFuture> {
    with_deadline(deadline_after(duration), fut)
}

/// Runs `fut` in a cancel scope with deadline `deadline` (or the enclosing
/// deadline, if earlier). See [`DeadlineScope`].
///
/// # Panics
///
/// As [`with_timeout`].
#[track_caller]
pub fn with_deadline<F: IntoFuture>(deadline: Instant, fut: F) -> DeadlineScope<F::IntoFuture> {
    DeadlineScope {
        fut: Some(fut.into_future()),
        deadline,
        grace: DEFAULT_GRACE,
        state: State::Idle,
        at: std::panic::Location::caller(),
    }
}

/// The await point of a task whose innermost quell await point is a
/// deadline scope around a foreign future (task dumps): its deadline.
static SCOPE: cancel_cx::wait::AwaitPoint = cancel_cx::wait::AwaitPoint {
    what: "with_deadline",
    describe: Some(super::sleep::describe_sleep),
};

/// How long a scope waits, after its deadline, for an inner future that
/// ignores the cancel before it drops it ([`DeadlineScope::grace`]).
pub const DEFAULT_GRACE: Duration = Duration::from_millis(50);

/// Future returned by [`with_timeout`] and [`with_deadline`].
///
/// On its first poll the scope creates `child = parent.child_with_deadline(t)`,
/// where `parent` is the current token ([`quell_cancel::current`]) — or,
/// inside a [`shield`](quell_cancel::shield), a fresh root: the shield keeps
/// blocking the outer cancellation, but the scope's own deadline still
/// applies (Go's `WithoutCancel` + `WithTimeout`). The effective deadline is
/// `child.deadline()`, i.e. `min(parent's, t)`. A timer armed for it
/// cancels `child` with cause `DeadlineExceeded`; if the parent's deadline
/// is the earlier, the parent's own scope timer fires first (timers due on
/// the same tick fire in insertion order) and the child reports the
/// parent's cause, inherited.
///
/// Every poll of the inner future runs inside
/// a cancel scope of `child` (`quell_cancel::rt_internal::enter_scope`), and the
/// task's waker is registered with `child` (re-registered if it changes),
/// so the task is woken when the scope is cancelled.
///
/// # Output: finished or cut off
///
/// The scope resolves to `Ok(F::Output)` when the inner future finished,
/// and to `Err(Cancelled)` (cause `DeadlineExceeded`) when it was **cut
/// off**. When the deadline passes, the scope does not drop the future at
/// once: the inner await points answer `Cancelled` (cause
/// `DeadlineExceeded`) and the future decides — propagate with `?`, clean
/// up, return a partial result — and that still counts as finished
/// (`Ok`). A future that is still pending [`grace`](Self::grace) after the
/// deadline (default [`DEFAULT_GRACE`]) — typically one awaiting something
/// quell does not own, which does not answer `Cancelled` — is dropped and
/// the scope returns `Err`. So no future runs much past the deadline it
/// reports, foreign futures included. A cancel of an enclosing scope
/// before the deadline is cooperative only (the future is not cut off for
/// it). For the drop-at-the-deadline behaviour with no grace, use
/// [`timeout`](fn@super::timeout).
///
/// # End of the scope
///
/// When the inner future completes or is cut off (or the scope is
/// dropped), the scope deregisters its waker and drops its handle of the
/// child token. The deadline timer is removed only if nobody else holds the
/// token; if a task spawned inside (or a child token made from it) is
/// still alive, the timer stays armed and cancels it at the deadline, so
/// no task runs past the deadline that its `cancel::current().deadline()`
/// reports. The armed timer then holds the token until the deadline.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct DeadlineScope<F> {
    /// `None` once cut off (dropped in place).
    fut: Option<F>,
    deadline: Instant,
    grace: Duration,
    state: State,
    /// The caller of `with_timeout` / `with_deadline`: the deadline's site
    /// (the cancel's call site when it fires), and where a dump shows a
    /// task waiting in the scope.
    at: &'static std::panic::Location<'static>,
}

#[derive(Debug)]
enum State {
    Idle,
    Running(Armed),
    Done,
}

/// What a running scope owns; released on drop.
#[derive(Debug)]
struct Armed {
    token: CancelToken,
    /// The effective deadline (`min(parent's, own)`).
    effective: Instant,
    timer: Option<(Handle, TimerKey)>,
    waiter: Option<(WaiterKey, Waker)>,
    /// The cut-off timer (deadline + grace), armed once the deadline
    /// passed with the inner future still pending.
    cut_off: Option<(Handle, TimerKey, Waker)>,
    /// Whether the task was told it is inside this cancelled scope
    /// (`context::note_cancelled_scope`), to be told again when it ends.
    noted: bool,
}

impl Armed {
    fn start(deadline: Instant, at: &'static std::panic::Location<'static>) -> Armed {
        let parent = if cancel_cx::is_shielded() {
            CancelToken::new()
        } else {
            quell_cancel::current()
        };
        let token = parent.child_with_deadline_from(deadline, at);
        // The site of the effective deadline (a parent's, if earlier).
        let site = token.deadline_site().unwrap_or(at);
        let effective = token.deadline().unwrap_or(deadline);
        let mut timer = None;
        if Instant::now() >= effective {
            token.cancel_from(Cause::deadline_exceeded(), site);
        } else if !token.is_cancelled() {
            let driver = match crate::context::current() {
                Ok(h) => h,
                Err(e) => panic!("{e}"),
            };
            match driver
                .inner
                .time
                .insert(effective, Action::Cancel(token.clone()))
            {
                Insert::Armed { key, unpark } => {
                    if unpark {
                        driver.unpark();
                    }
                    timer = Some((driver, key));
                }
                Insert::Expired(_) => {
                    token.cancel_from(Cause::deadline_exceeded(), site);
                }
                // Shutting down: the root cancel reaches the scope anyway.
                Insert::Shutdown(_) => {}
            }
        }
        Armed {
            token,
            effective,
            timer,
            waiter: None,
            cut_off: None,
            noted: false,
        }
    }

    /// Ends the scope: the task is no longer inside a cancelled scope.
    /// Harmless when run in another task's context (a scope dropped
    /// there): only the token that was noted is forgotten.
    fn end(&mut self) {
        if std::mem::take(&mut self.noted) {
            cancel_cx::note_cancelled_scope(&self.token, false);
        }
    }

    /// Arms (or re-arms, for a new waker) the timer that wakes the task at
    /// `at` to cut the inner future off. `false`: no timer can be armed (no
    /// driver on this thread, or shutting down): cut off now.
    fn arm_cut_off(&mut self, at: Instant, waker: &Waker) -> bool {
        if matches!(&self.cut_off, Some((_, _, w)) if w.will_wake(waker)) {
            return true;
        }
        if let Some((driver, key, _)) = self.cut_off.take() {
            driver.inner.time.remove(key);
        }
        let Ok(driver) = crate::context::current() else {
            return false;
        };
        match driver.inner.time.insert(at, Action::Wake(waker.clone())) {
            Insert::Armed { key, unpark } => {
                if unpark {
                    driver.unpark();
                }
                self.cut_off = Some((driver, key, waker.clone()));
                true
            }
            Insert::Expired(_) | Insert::Shutdown(_) => false,
        }
    }

    /// Registers `waker` with the scope token, once per distinct waker.
    fn register(&mut self, waker: &Waker) {
        if matches!(&self.waiter, Some((_, w)) if w.will_wake(waker)) {
            return;
        }
        if let Some((key, _)) = self.waiter.take() {
            self.token.deregister_waker(key);
        }
        // `None`: already cancelled; the inner await points will see it.
        if let Some(key) = self.token.register_waker(waker) {
            self.waiter = Some((key, waker.clone()));
        }
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        self.end();
        if let Some((driver, key)) = self.timer.take() {
            release_deadline(&driver.inner.time, key, &self.token);
        }
        if let Some((driver, key, _)) = self.cut_off.take() {
            driver.inner.time.remove(key);
        }
        if let Some((key, _)) = self.waiter.take() {
            self.token.deregister_waker(key);
        }
    }
}

/// The end of a scope whose deadline timer `key` (an `Action::Cancel` of a
/// clone of `token`) was armed, seen from the scope's own handle `token`:
/// the timer is removed if nobody else holds the token, else left armed so
/// that it cancels the holders at the deadline (C11). Returns whether it
/// was left armed.
///
/// # Protocol (model: `loom_deadline_scope_end_vs_fire`)
///
/// 1. Count the token's holders: its handles and child nodes. Ours and the
///    timer entry's are two handles (one if the timer already fired and
///    dropped its clone, which it does only after cancelling the token).
/// 2. More than those two, or any child: leave the timer armed. Nobody can
///    start holding the token after step 1 (a clone or a child needs a
///    handle, and the only other one is the timer's, which never hands it
///    out), so the count can only fall later: leaving the timer is never
///    wrong, at worst later than needed.
/// 3. Otherwise remove the timer (a no-op if it fired meanwhile).
pub(crate) fn release_deadline(wheel: &super::Wheel, key: TimerKey, token: &CancelToken) -> bool {
    const OURS_AND_THE_TIMERS: usize = 2;
    let held = token.handle_count() > OURS_AND_THE_TIMERS || token.child_count() > 0;
    if !held {
        wheel.remove(key);
    }
    held
}

impl<F> DeadlineScope<F> {
    /// The scope's own deadline (the effective one may be earlier: see
    /// `quell_cancel::current().deadline()` inside).
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// How long after the deadline an inner future that is still pending
    /// is cut off (dropped; the scope then returns `Err`). Default
    /// [`DEFAULT_GRACE`]; `Duration::ZERO` cuts off at the deadline, after
    /// one poll in which the inner future can see the cancel.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
}

impl<F: Future> Future for DeadlineScope<F> {
    type Output = Result<F::Output, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `fut` only: it is never moved out
        // of a pinned `DeadlineScope` (it is dropped in place when cut
        // off), which has no `Drop` impl (the `Armed` state has one, but
        // does not touch `fut`) and is `Unpin` only if `F` is. `deadline`,
        // `grace` and `state` are not structurally pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if let State::Idle = this.state {
            this.state = State::Running(Armed::start(this.deadline, this.at));
        }
        let State::Running(armed) = &mut this.state else {
            panic!("`DeadlineScope` polled after completion");
        };
        if !armed.token.is_cancelled() {
            armed.register(cx.waker());
        }
        // SAFETY: see above: `fut` stays pinned where it is.
        let mut fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        let inner = fut
            .as_mut()
            .as_pin_mut()
            .expect("inner future present while running");
        let mark = cancel_cx::wait::mark();
        if let Poll::Ready(v) = cancel_cx::enter_scope(&armed.token, || inner.poll(cx)) {
            this.state = State::Done; // see "End of the scope"
            return Poll::Ready(Ok(v));
        }
        // Still pending. Past the deadline it gets `grace` more, then it is
        // cut off (C11: a deadline bounds foreign futures too).
        if armed.token.is_cancelled() {
            if !armed.noted {
                armed.noted = true;
                cancel_cx::note_cancelled_scope(&armed.token, true);
            }
            let now = Instant::now();
            if now >= armed.effective {
                let cut = armed
                    .effective
                    .checked_add(this.grace)
                    .unwrap_or(armed.effective);
                if now >= cut || !armed.arm_cut_off(cut, cx.waker()) {
                    let err = armed
                        .token
                        .cancelled_error()
                        .expect("a cancelled token has a cause");
                    // Drop the inner future in place, inside the scope so
                    // its destructor sees the scope's cancel.
                    cancel_cx::enter_scope(&armed.token, || fut.set(None));
                    this.state = State::Done;
                    return Poll::Ready(Err(err));
                }
            }
        }
        let deadline = cancel_cx::wait::detail_of_instant(armed.effective);
        cancel_cx::wait::record_unless_since(mark, &SCOPE, Some(this.at), deadline);
        Poll::Pending
    }
}
