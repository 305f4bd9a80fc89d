//! [`QuellTimer`]: hyper's `Timer` on quell's timer wheel.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use quell_io_driver::rt_internal::time::poll_elapsed;
use quell_io_driver::time;

/// hyper's timers (HTTP/1 header-read timeout, HTTP/2 keep-alive pings,
/// the client pool's idle timeout) on quell's timer wheel.
///
/// A quell `sleep` is a cancel point: in a cancelled task it answers
/// `Err(Cancelled)` at once. hyper has no way to hear "cancelled", only
/// "elapsed", so a plain sleep would make every hyper timeout fire the
/// moment its connection is cancelled. hyper's timers are hyper's own
/// business, so [`QuellSleep`] polls only its sleep's timer, as a
/// [`shield`](quell_cancel::shield)ed sleep would answer: it completes at
/// its deadline and at no other time. Stopping a connection is the server driver's job
/// (graceful shutdown on drain, dropping it after the cancel grace).
///
/// When the runtime's timer wheel has shut down (the runtime is being
/// dropped, and with it every task) a sleep stays pending rather than
/// reporting a deadline that did not pass.
///
/// ```
/// use std::time::{Duration, Instant};
/// use hyper::rt::Timer;
/// use quell_cancel::Cause;
/// use quell_hyper::rt::QuellTimer;
///
/// let rt = quell_executor::Runtime::new()?;
/// let sleeper = rt.spawn(async {
///     let start = Instant::now();
///     QuellTimer.sleep(Duration::from_millis(20)).await;
///     start.elapsed()
/// });
/// // A cancel does not cut hyper's sleep short.
/// sleeper.cancel(Cause::explicit("stop"));
/// assert!(rt.block_on(sleeper).unwrap() >= Duration::from_millis(20));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct QuellTimer;

/// The [`hyper::rt::Sleep`] of [`QuellTimer`]: a quell sleep's timer, which
/// never observes cancellation.
#[derive(Debug)]
pub struct QuellSleep {
    inner: time::Sleep,
}

impl QuellSleep {
    /// The deadline.
    pub fn deadline(&self) -> Instant {
        self.inner.deadline()
    }
}

impl Future for QuellSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // The timer alone, as a shielded sleep answers: no cancel check.
        // It also records no await point (the connection task's is the
        // socket read hyper polls beside it) and charges no budget (the
        // reads do). `false`: the timer wheel shut down, the deadline did
        // not pass, so do not say it did.
        match poll_elapsed(&mut self.inner, cx) {
            Poll::Ready(true) => Poll::Ready(()),
            Poll::Ready(false) | Poll::Pending => Poll::Pending,
        }
    }
}

impl hyper::rt::Sleep for QuellSleep {}

impl hyper::rt::Timer for QuellTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(QuellSleep {
            inner: time::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(QuellSleep {
            inner: time::sleep_until(deadline),
        })
    }

    /// Moves the timer-wheel entry in place (no new allocation) when the
    /// sleep is one of ours.
    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<QuellSleep>() {
            Some(s) => s.get_mut().inner.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
