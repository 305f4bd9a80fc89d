//! Deadline scopes: [`with_timeout`], [`with_deadline`], [`DeadlineScope`].
//!
//! A scope runs a future under a child token of the current one whose
//! deadline is `min(parent's, own)`, and arms a timer for that effective
//! deadline which cancels the child token with
//! `Cause::deadline_exceeded()`. Everything inside sees the scope's token:
//! `quell_cancel::current()`, the await points (which then answer
//! `Cancelled`), and `spawn` (so tasks spawned inside inherit it and are
//! cancelled by the deadline too).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use quell_cancel::{context as cancel_cx, CancelToken, Cause, WaiterKey};

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
pub fn with_timeout<F: IntoFuture>(duration: Duration, fut: F) -> DeadlineScope<F::IntoFuture> {
    with_deadline(deadline_after(duration), fut)
}

/// Runs `fut` in a cancel scope with deadline `deadline` (or the enclosing
/// deadline, if earlier). See [`DeadlineScope`].
///
/// # Panics
///
/// As [`with_timeout`].
pub fn with_deadline<F: IntoFuture>(deadline: Instant, fut: F) -> DeadlineScope<F::IntoFuture> {
    DeadlineScope {
        fut: fut.into_future(),
        deadline,
        state: State::Idle,
    }
}

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
/// [`enter_scope(&child, ..)`](quell_cancel::context::enter_scope), and the
/// task's waker is registered with `child` (re-registered if it changes),
/// so the task is woken when the scope is cancelled.
///
/// # Output: the inner future's, not a `Result`
///
/// The scope resolves to `F::Output`. When the deadline passes, the scope
/// does *not* drop the future: the inner await points answer `Cancelled`
/// (cause `DeadlineExceeded`) and the future decides — propagate with `?`,
/// clean up, return a partial result. A future that keeps going after the
/// deadline is simply polled on (cooperative cancellation, like the rest of
/// quell: forced stops are `abort`'s job). Wrapping the output in
/// `Result<_, Cancelled>` would either be redundant (the future already
/// returned its own `Err(Cancelled)`) or require dropping it without its
/// cleanup. For the drop-on-deadline behaviour, use [`timeout`](super::timeout).
///
/// # End of the scope
///
/// When the inner future completes (or the scope is dropped) the timer is
/// removed, the waker deregistered and the scope's handle of the child
/// token dropped, so the child leaves the tree. Tasks spawned inside that
/// are still running keep the token (and see a cancel of any ancestor), but
/// the scope's deadline timer is disarmed with the scope: join them inside
/// the scope if they must obey its deadline.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct DeadlineScope<F> {
    fut: F,
    deadline: Instant,
    state: State,
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
    timer: Option<(Handle, TimerKey)>,
    waiter: Option<(WaiterKey, Waker)>,
}

impl Armed {
    fn start(deadline: Instant) -> Armed {
        let parent = if cancel_cx::is_shielded() {
            CancelToken::new()
        } else {
            quell_cancel::current()
        };
        let token = parent.child_with_deadline(deadline);
        let effective = token.deadline().unwrap_or(deadline);
        let mut timer = None;
        if Instant::now() >= effective {
            token.cancel(Cause::deadline_exceeded());
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
                    token.cancel(Cause::deadline_exceeded());
                }
                // Shutting down: the root cancel reaches the scope anyway.
                Insert::Shutdown(_) => {}
            }
        }
        Armed {
            token,
            timer,
            waiter: None,
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
        if let Some((driver, key)) = self.timer.take() {
            driver.inner.time.remove(key);
        }
        if let Some((key, _)) = self.waiter.take() {
            self.token.deregister_waker(key);
        }
    }
}

impl<F> DeadlineScope<F> {
    /// The scope's own deadline (the effective one may be earlier: see
    /// `quell_cancel::current().deadline()` inside).
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl<F: Future> Future for DeadlineScope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `fut` only: it is never moved out
        // of a pinned `DeadlineScope`, which has no `Drop` impl (the `Armed`
        // state has one, but does not touch `fut`) and is `Unpin` only if
        // `F` is. `deadline` and `state` are not structurally pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if let State::Idle = this.state {
            this.state = State::Running(Armed::start(this.deadline));
        }
        let State::Running(armed) = &mut this.state else {
            panic!("`DeadlineScope` polled after completion");
        };
        if !armed.token.is_cancelled() {
            armed.register(cx.waker());
        }
        // SAFETY: see above: `fut` stays pinned where it is.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        let out = cancel_cx::enter_scope(&armed.token, || fut.poll(cx));
        if out.is_ready() {
            this.state = State::Done; // disarms the timer, drops the token
        }
        out
    }
}
