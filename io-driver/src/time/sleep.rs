//! [`Sleep`], [`sleep`] and [`sleep_until`].

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use quell_cancel::rt_internal::wait::{self, AwaitPoint};
use quell_cancel::{rt_internal as cancel_cx, Cancelled, Cause};

use super::entry::{Action, TimerKey};
use super::wheel::Insert;
use crate::driver::Handle;

/// Waits until `duration` has elapsed; `Err(Cancelled)` at once if the
/// current task is (or becomes) cancelled. See [`Sleep`].
///
/// # Panics
///
/// The returned future panics when polled on a thread without a quell
/// runtime (no current I/O driver), unless it was created on one.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(deadline_after(duration))
}

/// Waits until `deadline`; `Err(Cancelled)` at once if the current task is
/// (or becomes) cancelled. See [`Sleep`].
///
/// # Panics
///
/// As [`sleep`].
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// `now + d`, saturating at a far future (about 30 years) instead of
/// overflowing `Instant`.
pub(crate) fn deadline_after(d: Duration) -> Instant {
    saturating_after(Instant::now(), d)
}

/// `at + d`, saturating at a far future (about 30 years after `at`) instead
/// of overflowing `Instant`; `at` itself if even that overflows.
pub(crate) fn saturating_after(at: Instant, d: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);
    at.checked_add(d)
        .or_else(|| at.checked_add(FAR))
        .unwrap_or(at)
}

/// Future returned by [`sleep`] and [`sleep_until`].
///
/// Resolves to `Ok(())` once the deadline has passed (never earlier: the
/// deadline is rounded *up* to the wheel's 1 ms tick), or to
/// `Err(Cancelled)`:
///
/// * when the current task's cancellation is observed
///   (what `quell_cancel::current()` reports) — a sleep is a runtime await
///   point, so a cancelled task is woken and its sleep answers with the
///   cause at once; the timer entry is removed *before* the error is
///   returned (the timer analogue of contract C7);
/// * with cause [`Shutdown`](quell_cancel::CauseKind::Shutdown) if the
///   driver shut down before the deadline (the timer can never fire).
///
/// The timer entry is inserted on the first poll and removed in O(1) when
/// the `Sleep` is dropped. `Sleep` is `Unpin`.
///
/// # Panics
///
/// When polled on a thread without a quell runtime, unless it was created
/// on one.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    driver: Option<Handle>,
    key: Option<TimerKey>,
    /// Who created it (task dumps show where a task sleeps).
    at: &'static Location<'static>,
}

/// The await point of a parked `sleep` (task dumps): the deadline.
static SLEEP: AwaitPoint = AwaitPoint {
    what: "sleep",
    describe: Some(describe_sleep),
};

pub(crate) fn describe_sleep(detail: u64) -> Option<String> {
    let at = wait::instant_of(detail);
    let now = Instant::now();
    Some(match at.checked_duration_since(now) {
        Some(d) => format!("until {:.3}s from now", d.as_secs_f64()),
        None => format!("until {:.3}s ago", (now - at).as_secs_f64()),
    })
}

/// The wheel was shut down before the deadline.
pub(crate) struct Shutdown;

impl Sleep {
    #[track_caller]
    pub(crate) fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            driver: crate::context::with_current(|h| h.cloned()),
            key: None,
            at: Location::caller(),
        }
    }

    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Changes the deadline; the timer entry (if armed) moves in O(1).
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        if let (Some(key), Some(driver)) = (self.key, &self.driver) {
            match driver.inner.time.reset(key, deadline) {
                Ok(true) => driver.unpark(),
                Ok(false) => {}
                Err(()) => self.key = None,
            }
        }
    }

    fn driver(&mut self) -> &Handle {
        self.driver
            .get_or_insert_with(|| match crate::context::current() {
                Ok(h) => h,
                Err(e) => panic!("{e}"),
            })
    }

    /// Removes the timer entry, if any. O(1).
    pub(crate) fn disarm(&mut self) {
        if let (Some(key), Some(driver)) = (self.key.take(), &self.driver) {
            driver.inner.time.remove(key);
        }
    }

    /// The timer alone: no cancellation check, no budget. `Ok` once the
    /// deadline passed, `Err(Shutdown)` if it never will fire.
    pub(crate) fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Shutdown>> {
        if Instant::now() >= self.deadline {
            self.disarm();
            return Poll::Ready(Ok(()));
        }
        let deadline = self.deadline;
        let key = self.key;
        let driver = self.driver();
        let wheel = &driver.inner.time;
        match key {
            Some(key) => {
                if wheel.update_waker(key, cx.waker()) {
                    return Poll::Pending;
                }
                // Stale: it fired (so the deadline passed: a timer fires
                // only at a tick at or after its deadline), or shutdown.
                let done = if wheel.is_shutdown() && Instant::now() < deadline {
                    Err(Shutdown)
                } else {
                    Ok(())
                };
                self.key = None;
                Poll::Ready(done)
            }
            None => match wheel.insert(deadline, Action::Wake(cx.waker().clone())) {
                Insert::Armed { key, unpark } => {
                    if unpark {
                        driver.unpark();
                    }
                    self.key = Some(key);
                    Poll::Pending
                }
                Insert::Expired(_) => Poll::Ready(Ok(())),
                Insert::Shutdown(_) => Poll::Ready(Err(Shutdown)),
            },
        }
    }
}

/// The timer of `sleep` alone (through `rt_internal::time`): `Ready(true)`
/// once the deadline passed, `Ready(false)` if it never will (the driver
/// shut down first). No cancellation check, no cooperative budget, no
/// await-point record: what a shielded `Sleep` answers, for an adapter
/// whose timers are its own business and never observe cancellation
/// (quell-hyper's hyper timers, polled beside the socket reads that
/// record the task's await point).
pub fn poll_elapsed(sleep: &mut Sleep, cx: &mut Context<'_>) -> Poll<bool> {
    sleep.poll_timer(cx).map(|r| r.is_ok())
}

/// The `Cancelled` a timer answers after the driver shut down.
pub(crate) fn shutdown_cancelled() -> Cancelled {
    Cancelled::new(Cause::shutdown(), false)
}

impl Future for Sleep {
    type Output = Result<(), Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(c) = cancel_cx::observed() {
            this.disarm(); // before answering (C7 analogue)
            return Poll::Ready(Err(c));
        }
        ready!(crate::coop::poll_proceed(cx));
        match this.poll_timer(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(Shutdown)) => Poll::Ready(Err(shutdown_cancelled())),
            Poll::Pending => {
                let deadline = wait::detail_of_instant(this.deadline);
                wait::record(&SLEEP, Some(this.at), deadline);
                Poll::Pending
            }
        }
    }
}

impl Sleep {
    /// Records `point` at this sleep's caller with its deadline, unless a
    /// quell await point recorded since `mark` (a wrapper around a sleep:
    /// `timeout`).
    pub(crate) fn record_unless_since(&self, mark: wait::Last, point: &'static AwaitPoint) {
        let deadline = wait::detail_of_instant(self.deadline);
        wait::record_unless_since(mark, point, Some(self.at), deadline);
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.disarm();
    }
}
