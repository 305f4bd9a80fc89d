//! [`cancel_on`]: cancel a token when one of a set of signals arrives, from
//! a dedicated thread; [`drain_on`]: drain it on the first delivery and
//! cancel it on the second.
//!
//! # Why a thread
//!
//! The cancellation must happen even if no task polls: a runtime whose
//! workers are all busy (or blocked, or not started yet) must still see its
//! token cancelled on `SIGTERM`, and the check-the-flag await points then do
//! the rest when tasks next reach one. The signal handler itself cannot call
//! `CancelToken::cancel` (it takes locks, allocates and wakes: not
//! async-signal-safe), so some ordinary thread has to. A future the user
//! spawns would depend on the runtime's workers and on the user spawning it
//! detached (not under the token it cancels); a thread depends on nothing,
//! needs no runtime at all, and its cost (one parked thread per
//! `cancel_on`, usually one per program) is negligible.
//!
//! # Protocol
//!
//! 1. `cancel_on` checks every kind, then `signal_hook::iterator::Signals`
//!    registers one action per signal (installing signal-hook's handler if
//!    needed) *before it returns*: a signal sent after `cancel_on` returns
//!    is never missed.
//! 2. The thread blocks in `Signals::forever`, which the handler wakes
//!    through signal-hook's own self-pipe, and calls
//!    `token.cancel(Cause::signal(signo))` for each delivery. The first
//!    delivery wins (a token keeps its first cause); later ones are no-ops.
//!    For `drain_on`, the first delivery calls `token.drain(..)` instead
//!    and the second one (of any of the signals) `token.cancel(..)`.
//! 3. Dropping the [`CancelOnSignal`] closes the `Signals` handle (the
//!    iterator ends), joins the thread, and drops `Signals` (its actions are
//!    unregistered). The OS-level handlers stay installed (module docs).

use std::fmt;
use std::io;
use std::thread;

use quell_cancel::{CancelToken, Cause};
use signal_hook::iterator::{Handle as SignalsHandle, Signals};

use super::kind::SignalKind;

/// Cancels `token` with [`Cause::signal`]`(signo)` as soon as one of
/// `signals` is delivered to the process, until the returned guard drops.
///
/// The listening happens on a dedicated thread (named `quell-signal`), so
/// it works with or without a runtime, and however busy the runtime is.
/// Tasks bound to `token` (or a descendant) are then woken at their await
/// point with the `Cancelled` error, whose [`cause`](quell_cancel::Cancelled::cause)
/// names the signal. Deliveries after the first do nothing: the token keeps
/// its first cause.
///
/// Keep the guard alive for as long as the program should react (usually:
/// bind it in `main`). As with [`signal`](super::signal), the signals'
/// default actions are replaced for the rest of the process's life: after
/// the guard drops, those signals are ignored.
///
/// # Errors
///
/// `InvalidInput` for an empty set, a number that is not a signal, or one
/// that cannot be handled (see [`signal`](super::signal)); the errors of
/// `sigaction` and of spawning the thread. On error nothing stays
/// registered by this call.
///
/// ```
/// use quell_cancel::{CancelToken, CauseKind};
/// use quell_io_driver::signal::{self, SignalKind};
///
/// let token = CancelToken::new();
/// let _guard = signal::cancel_on([SignalKind::user_defined2()], &token)?;
/// // SAFETY: raise(3) is always safe to call; SIGUSR2's handler is
/// // installed, so the signal does not kill the process.
/// unsafe { libc::raise(libc::SIGUSR2) };
/// // The listening thread cancels the token (no runtime involved):
/// while !token.is_cancelled() {
///     std::thread::yield_now();
/// }
/// assert_eq!(token.cause().unwrap().kind(), &CauseKind::Signal(libc::SIGUSR2));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn cancel_on(
    signals: impl IntoIterator<Item = SignalKind>,
    token: &CancelToken,
) -> io::Result<CancelOnSignal> {
    let token = token.clone();
    listen("cancel_on", signals, move |_, signo| {
        token.cancel(Cause::signal(signo));
    })
}

/// The drain form of [`cancel_on`]: the **first** delivery of one of
/// `signals` *drains* `token` ([`CancelToken::drain`] with
/// [`Cause::signal`]`(signo)`: tasks see `is_draining()`, stop taking new
/// work and finish what is in flight; no await point answers `Cancelled`),
/// and a **second** delivery (of any of them) *cancels* it, with that
/// signal's cause. The usual server shape: the first `SIGTERM` or Ctrl-C
/// starts a graceful drain, a second one says "now". After the cancel,
/// further deliveries do nothing.
///
/// Deliveries that arrive together may coalesce into one (signals are not
/// queued), so "second" means a delivery the listening thread saw after it
/// handled the first. Whether a grace ends the drain is the program's (or
/// the executor's `Runtime::shutdown_with`) business; this guard only counts signals.
///
/// # Errors
///
/// As [`cancel_on`].
///
/// ```
/// use quell_cancel::{CancelToken, CauseKind};
/// use quell_io_driver::signal::{self, SignalKind};
///
/// let token = CancelToken::new();
/// let _guard = signal::drain_on([SignalKind::user_defined1()], &token)?;
/// // SAFETY: raise(3) is always safe to call; SIGUSR1's handler is
/// // installed, so the signal does not kill the process.
/// unsafe { libc::raise(libc::SIGUSR1) };
/// while !token.is_draining() {
///     std::thread::yield_now();
/// }
/// assert!(!token.is_cancelled(), "the first signal only drains");
/// assert_eq!(token.drain_cause().unwrap().kind(), &CauseKind::Signal(libc::SIGUSR1));
/// // SAFETY: as above.
/// unsafe { libc::raise(libc::SIGUSR1) };
/// while !token.is_cancelled() {
///     std::thread::yield_now();
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn drain_on(
    signals: impl IntoIterator<Item = SignalKind>,
    token: &CancelToken,
) -> io::Result<CancelOnSignal> {
    let token = token.clone();
    listen("drain_on", signals, move |n, signo| {
        if n == 0 {
            token.drain(Cause::signal(signo));
        } else {
            token.cancel(Cause::signal(signo));
        }
    })
}

/// Steps 1–2 for both forms, and for the executor's dump on a signal
/// (`rt_internal::signal::listen`): `on(n, signo)` runs on the listening
/// thread for the `n`-th delivery (from 0). `what` names the caller in the
/// errors.
///
/// # Errors
///
/// As [`cancel_on`].
pub fn listen(
    what: &str,
    signals: impl IntoIterator<Item = SignalKind>,
    mut on: impl FnMut(usize, i32) + Send + 'static,
) -> io::Result<CancelOnSignal> {
    let kinds: Vec<SignalKind> = signals.into_iter().collect();
    if kinds.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} needs at least one signal"),
        ));
    }
    let signos = kinds
        .iter()
        .map(|k| k.check())
        .collect::<io::Result<Vec<i32>>>()?;
    // Step 1: registered when `new` returns (or nothing is, on error).
    let mut listener = Signals::new(&signos)?;
    let handle = listener.handle();
    // Step 2. (Plain `std::thread`: this module is compiled out under loom.)
    let thread = thread::Builder::new()
        .name("quell-signal".into())
        .spawn(move || {
            for (n, signo) in listener.forever().enumerate() {
                on(n, signo);
            }
        })?; // on error the closure, and `listener` with it, was dropped
    Ok(CancelOnSignal {
        kinds,
        handle,
        thread: Some(thread),
    })
}

/// The guard returned by [`cancel_on`] and [`drain_on`]: while it lives,
/// the signals drain or cancel the token (or, for the executor's dump on a
/// signal, run its action). Dropping it stops the listening
/// thread and waits for it.
#[must_use = "dropping the guard stops listening for the signals"]
pub struct CancelOnSignal {
    kinds: Vec<SignalKind>,
    handle: SignalsHandle,
    thread: Option<thread::JoinHandle<()>>,
}

impl CancelOnSignal {
    /// The signals being listened for.
    pub fn signals(&self) -> &[SignalKind] {
        &self.kinds
    }
}

impl Drop for CancelOnSignal {
    fn drop(&mut self) {
        // Step 3: `close` ends `forever()` (it wakes the thread through
        // signal-hook's pipe); the thread then drops `Signals`.
        self.handle.close();
        if let Some(t) = self.thread.take() {
            // The thread only cancels a token; a panic there (a panicking
            // waker is contained by the token) is not ours to re-raise in a
            // destructor.
            let _ = t.join();
        }
    }
}

impl fmt::Debug for CancelOnSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelOnSignal")
            .field("signals", &self.kinds)
            .finish_non_exhaustive()
    }
}
