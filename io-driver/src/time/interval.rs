//! [`interval`], [`interval_at`], [`Interval`] and [`MissedTickBehavior`].

use quell_cancel::rt_internal::wait;
use std::future::poll_fn;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use quell_cancel::{rt_internal as cancel_cx, Cancelled};

use super::sleep::{deadline_after, saturating_after, shutdown_cancelled, Shutdown, Sleep};

/// Ticks every `period`, the first tick at once. See [`Interval`].
///
/// # Panics
///
/// If `period` is zero. The interval panics when polled on a thread
/// without a quell runtime, unless it was created on one.
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
///
/// As [`interval`].
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "`interval` period must be non-zero");
    Interval {
        timer: Sleep::new(start),
        period,
        missed: MissedTickBehavior::default(),
        cancel_yielded: false,
    }
}

/// What an [`Interval`] does when ticks were missed (the task was late to
/// call [`tick`](Interval::tick)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up (the schedule
    /// stays `start + n·period`).
    #[default]
    Burst,
    /// Restart the schedule from the late tick: the next is `period` after
    /// it was observed.
    Delay,
    /// Skip the missed ticks: the next is the next `start + n·period`
    /// after now.
    Skip,
}

/// A periodic timer: [`tick`](Self::tick) waits for the next tick.
///
/// Like [`Sleep`], a tick is a runtime await point: it answers
/// `Err(Cancelled)` at once when the current task's cancellation is
/// observed (the timer entry removed first), or with cause `Shutdown` if
/// the driver shut down.
#[derive(Debug)]
pub struct Interval {
    timer: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
    /// The stream form already yielded the current cancellation (see the
    /// `Stream` impl).
    cancel_yielded: bool,
}

/// The await point of a task waiting for an interval's tick (task dumps):
/// the tick's deadline.
static TICK: wait::AwaitPoint = wait::AwaitPoint {
    what: "Interval::tick",
    describe: Some(super::sleep::describe_sleep),
};

impl Interval {
    /// Waits for the next tick; returns the instant it was scheduled for.
    #[track_caller]
    pub fn tick(&mut self) -> impl std::future::Future<Output = Result<Instant, Cancelled>> + '_ {
        let at = std::panic::Location::caller();
        poll_fn(move |cx| {
            let p = self.poll_tick(cx);
            if p.is_pending() {
                let deadline = wait::detail_of_instant(self.timer.deadline());
                wait::record(&TICK, Some(at), deadline);
            }
            p
        })
    }

    /// Polls for the next tick (see [`tick`](Self::tick)).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Result<Instant, Cancelled>> {
        if let Some(c) = cancel_cx::observed() {
            self.timer.disarm();
            return Poll::Ready(Err(c));
        }
        ready!(crate::coop::poll_proceed(cx));
        if let Err(Shutdown) = ready!(self.timer.poll_timer(cx)) {
            return Poll::Ready(Err(shutdown_cancelled()));
        }
        let tick = self.timer.deadline();
        let now = Instant::now();
        // Every sum saturates (as `sleep` does) instead of overflowing
        // `Instant` for a huge period such as `Duration::MAX`.
        let scheduled = saturating_after(tick, self.period);
        let next = match self.missed {
            MissedTickBehavior::Burst => scheduled,
            MissedTickBehavior::Delay if now > scheduled => saturating_after(now, self.period),
            MissedTickBehavior::Delay => scheduled,
            MissedTickBehavior::Skip => {
                let behind = now.saturating_duration_since(tick).as_nanos();
                let periods = behind / self.period.as_nanos() + 1;
                // Saturate instead of overflowing on absurd gaps.
                let periods = u32::try_from(periods).unwrap_or(u32::MAX);
                tick.checked_add(self.period.saturating_mul(periods))
                    .unwrap_or_else(|| saturating_after(now, self.period))
            }
        };
        self.timer.reset(next);
        Poll::Ready(Ok(tick))
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.timer.reset(deadline_after(self.period));
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The behaviour when ticks were missed.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the behaviour when ticks were missed.
    pub fn set_missed_tick_behavior(&mut self, b: MissedTickBehavior) {
        self.missed = b;
    }
}

/// As a [`Stream`](futures_core::Stream), an `Interval` yields each tick's
/// scheduled instant. On cancel (or driver shutdown) it yields the
/// `Err(Cancelled)` **once** and then ends (`None`) for as long as the
/// cancel is observed, so `while let Some(t) = ticks.next().await` loops
/// stop — with the cause visible to a loop that looks at the items — and
/// never spin on a sticky error. Polled where the cancel is not observed
/// (inside a `shield`), it ticks again.
impl futures_core::Stream for Interval {
    type Item = Result<Instant, Cancelled>;

    fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match ready!(this.poll_tick(cx)) {
            Ok(t) => {
                this.cancel_yielded = false;
                Poll::Ready(Some(Ok(t)))
            }
            Err(_) if this.cancel_yielded => Poll::Ready(None),
            Err(c) => {
                this.cancel_yielded = true;
                Poll::Ready(Some(Err(c)))
            }
        }
    }
}
