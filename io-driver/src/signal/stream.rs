//! [`Signal`]: a stream of deliveries of one signal; [`signal`] and
//! [`ctrl_c`].

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use super::kind::SignalKind;
use super::pipe::SelfPipe;

/// A listener for one signal: each [`recv`](Signal::recv) completes once
/// the signal has been delivered to the process since the previous `recv`
/// completed (or since the listener was created).
///
/// Deliveries that arrive while nobody waits are kept, but coalesced: if
/// `SIGHUP` arrives three times between two `recv`s, the next `recv`
/// completes at once and the one after waits for a new delivery. Every
/// `Signal` sees every delivery: two listeners of one signal both wake.
///
/// Created by [`signal`]. Bound to the I/O driver that was current when it
/// was created; dropping it removes its signal-hook action and deregisters
/// it (the signal's OS-level handler stays installed, see the
/// [module docs](super)).
pub struct Signal {
    kind: SignalKind,
    pipe: SelfPipe,
    /// The stream form already yielded the current error (see the
    /// `Stream` impl).
    err_yielded: bool,
}

/// Starts listening for `kind` on the current thread's I/O driver.
///
/// From the moment this returns, every delivery of `kind` to the process
/// is seen by the returned [`Signal`] (none is lost between the call and
/// the first `recv`). It also replaces the signal's default action for the
/// rest of the process's life: for example, once anything listened for
/// `SIGTERM`, a `SIGTERM` no longer terminates the process, even after the
/// listener is dropped.
///
/// # Errors
///
/// * `InvalidInput` for a number that is not a signal or a signal that
///   cannot be handled (`SIGKILL`, `SIGSTOP`, `SIGILL`, `SIGFPE`,
///   `SIGSEGV`), or the error of `sigaction` for one the OS refuses.
/// * Outside a runtime (no current I/O driver); the signal's disposition is
///   then left untouched.
///
/// ```
/// use std::task::{Context, Waker};
/// use std::time::Duration;
/// use quell_io_driver::rt_internal::{context, Driver}; // what the executor does
/// use quell_io_driver::signal::{self, SignalKind};
///
/// let mut driver = Driver::new()?;
/// let _enter = context::enter(driver.handle().clone());
/// let mut usr2 = signal::signal(SignalKind::user_defined2())?;
///
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(usr2.poll_recv(&mut cx).is_pending());
/// // SAFETY: raise(3) is always safe to call; the handler has been
/// // installed by `signal` above, so SIGUSR2 does not kill the process.
/// unsafe { libc::raise(libc::SIGUSR2) };
/// driver.park(Some(Duration::ZERO)); // the pipe became readable: dispatch
/// assert!(usr2.poll_recv(&mut cx).is_ready());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signo = kind.check()?;
    Ok(Signal {
        kind,
        pipe: SelfPipe::new(signo)?,
        err_yielded: false,
    })
}

/// Waits for one `SIGINT` (Ctrl-C in a terminal).
///
/// The listener is installed when the returned future is first polled: a
/// `SIGINT` that arrives before that is not seen by it (and, if nothing
/// else in the process listens for `SIGINT`, still kills the process). Use
/// [`signal`]`(SignalKind::interrupt())` to start listening earlier, or
/// [`cancel_on`](fn@super::cancel_on) to turn Ctrl-C into a cancellation.
///
/// # Errors
///
/// As [`signal`] and [`Signal::recv`]: outside a runtime, when the current
/// task is cancelled (the `Cancelled` error inside the `io::Error`), or
/// when the driver shuts down.
///
/// ```
/// # async fn run() -> std::io::Result<()> {
/// // Inside a quell task:
/// quell_io_driver::signal::ctrl_c().await?;
/// println!("interrupted, shutting down");
/// # Ok(())
/// # }
/// ```
#[track_caller]
pub fn ctrl_c() -> impl std::future::Future<Output = io::Result<()>> {
    let at = std::panic::Location::caller();
    let fut = async move { signal(SignalKind::interrupt())?.recv().await };
    quell_cancel::rt_internal::wait::recorded(fut, &CTRL_C, at, 0)
}

/// `ctrl_c` (a task dump's await point).
static CTRL_C: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "ctrl_c",
        describe: None,
    };

/// `Signal::recv` (a task dump's await point).
static RECV: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "Signal::recv",
        describe: None,
    };

impl Signal {
    /// Waits for the next delivery.
    ///
    /// # Errors
    ///
    /// * The current task was cancelled: an `io::Error` carrying the
    ///   [`Cancelled`](quell_cancel::Cancelled) (recover it with
    ///   [`Cancelled::from_io`](quell_cancel::Cancelled::from_io)), like
    ///   every other runtime wait. The task's waker is removed from the
    ///   driver before the error is returned, and a delivery that was
    ///   pending stays pending for a later (shielded) `recv`.
    /// * The I/O driver shut down.
    #[track_caller]
    pub fn recv(&mut self) -> impl std::future::Future<Output = io::Result<()>> + '_ {
        let at = std::panic::Location::caller();
        poll_fn(move |cx| {
            let p = self.poll_recv(cx);
            if p.is_pending() {
                quell_cancel::rt_internal::wait::record(&RECV, Some(at), 0);
            }
            p
        })
    }

    /// Polls for the next delivery; the poll form of [`recv`](Self::recv),
    /// with the same errors. Stores `cx`'s waker when pending.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.pipe.poll_recv(cx)
    }

    /// The signal this listener is for.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    #[cfg(test)]
    pub(crate) fn has_waiter(&self) -> bool {
        self.pipe.has_waiter()
    }
}

/// As a [`Stream`](futures_core::Stream), a `Signal` yields `Ok(())` per
/// delivery. On cancel (or driver shutdown) it yields the error **once**
/// and then ends (`None`) while the cancel is observed, like
/// [`Interval`](crate::time::Interval)'s stream: loops stop, and never
/// spin on a sticky error. A delivery that raced the cancel stays pending
/// for a later (shielded) poll.
impl futures_core::Stream for Signal {
    type Item = io::Result<()>;

    fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match std::task::ready!(this.poll_recv(cx)) {
            Ok(()) => {
                this.err_yielded = false;
                Poll::Ready(Some(Ok(())))
            }
            Err(_) if this.err_yielded => Poll::Ready(None),
            Err(e) => {
                this.err_yielded = true;
                Poll::Ready(Some(Err(e)))
            }
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}
