//! [`timeout`], [`timeout_at`], [`Timeout`] and [`Elapsed`].

use std::error::Error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::sleep::{deadline_after, Sleep};

/// Runs `fut` for at most `duration`: `Ok(output)` if it completes first,
/// `Err(Elapsed)` otherwise (the future is then dropped when the
/// `Timeout` is). See [`Timeout`].
///
/// For a deadline that *cancels* the work cooperatively (so it can clean
/// up), and that flows down to the tasks it spawns, use
/// [`with_timeout`](super::with_timeout) instead.
///
/// # Panics
///
/// The returned future panics when polled on a thread without a quell
/// runtime, unless it was created on one.
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, fut: F) -> Timeout<F::IntoFuture> {
    Timeout::new(fut.into_future(), deadline_after(duration))
}

/// Like [`timeout`], with an absolute deadline.
///
/// # Panics
///
/// As [`timeout`].
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, fut: F) -> Timeout<F::IntoFuture> {
    Timeout::new(fut.into_future(), deadline)
}

/// Future returned by [`timeout`] and [`timeout_at`].
///
/// Each poll polls the inner future first, then the timer; a future that
/// is ready when the deadline passes still wins. The timer part is *not*
/// itself a cancellation point: when the task is cancelled, the inner
/// future's own await points answer `Cancelled` and it decides; the
/// timeout keeps running meanwhile (so it still bounds an inner future
/// that ignores the cancellation). If the driver shuts down before the
/// deadline, the timer can never fire and the timeout reports `Elapsed`.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Timeout<F> {
    fut: F,
    timer: Sleep,
}

impl<F> Timeout<F> {
    #[track_caller]
    fn new(fut: F, deadline: Instant) -> Timeout<F> {
        Timeout {
            fut,
            timer: Sleep::new(deadline),
        }
    }

    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.fut
    }

    /// The inner future.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.fut
    }

    /// Unwraps the inner future (its timer entry is removed).
    pub fn into_inner(self) -> F {
        self.fut
    }

    /// The deadline.
    pub fn deadline(&self) -> Instant {
        self.timer.deadline()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `fut` only. `fut` is never moved
        // out of a pinned `Timeout` (`into_inner` takes `self` by value,
        // which needs an unpinned one), `Timeout` has no `Drop` impl, and it
        // is `Unpin` only if `F` is (auto trait). `timer` is `Unpin` and not
        // structurally pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above: `fut` stays pinned where it is.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        let mark = quell_cancel::rt_internal::wait::mark();
        if let Poll::Ready(v) = fut.poll(cx) {
            this.timer.disarm();
            return Poll::Ready(Ok(v));
        }
        match this.timer.poll_timer(cx) {
            Poll::Ready(_) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => {
                this.timer.record_unless_since(mark, &TIMEOUT);
                Poll::Pending
            }
        }
    }
}

/// The await point of a task whose innermost quell await point is a
/// [`timeout`] around a foreign future (task dumps): its deadline.
static TIMEOUT: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "timeout",
        describe: Some(super::sleep::describe_sleep),
    };

/// The error of a [`Timeout`] whose deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(e: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}
