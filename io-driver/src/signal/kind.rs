//! [`SignalKind`]: which signal a listener is for, and which numbers may be
//! listened to at all.

use std::io;

/// A Unix signal that a [`Signal`](super::Signal) stream or
/// [`cancel_on`](fn@super::cancel_on) can listen for.
///
/// The named constructors cover the signals programs usually handle;
/// [`SignalKind::from_raw`] takes any number. Whether the number can be
/// listened to is checked when a listener is created (see
/// [`signal`](super::signal)), not here.
///
/// ```
/// use quell_io_driver::signal::SignalKind;
///
/// assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
/// assert_eq!(SignalKind::from_raw(libc::SIGUSR1), SignalKind::user_defined1());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignalKind(i32);

impl SignalKind {
    /// Any signal, by number (for example a real-time signal).
    pub const fn from_raw(signo: i32) -> SignalKind {
        SignalKind(signo)
    }

    /// The signal number.
    pub const fn as_raw_value(self) -> i32 {
        self.0
    }

    /// `SIGINT`: the terminal's interrupt key (Ctrl-C).
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: a polite request to terminate (what `kill` and service
    /// managers send first).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the controlling terminal went away; daemons use it to
    /// reload their configuration.
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGQUIT`: the terminal's quit key (Ctrl-\\).
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGUSR1`: user-defined.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`: user-defined.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGALRM`: a timer set with `alarm(2)` expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGPIPE`: a write to a pipe or socket with no reader.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGWINCH`: the terminal window changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }

    /// Checks that a handler may be installed for this signal.
    ///
    /// signal-hook *panics* on the signals it refuses
    /// (`signal_hook::consts::FORBIDDEN`: `SIGKILL` and `SIGSTOP`, which
    /// cannot be caught, and `SIGILL`, `SIGFPE`, `SIGSEGV`, which cannot be
    /// handled safely) and on numbers outside its table, so those are turned
    /// into `InvalidInput` errors here first. Numbers the OS does not know
    /// are rejected later by `sigaction` itself (also an `io::Error`).
    pub(crate) fn check(self) -> io::Result<i32> {
        // signal-hook's iterator keeps a table of 128 slots and asserts
        // that the number fits (`MAX_SIGNUM`); no Unix has more signals.
        const MAX_SIGNUM: i32 = 128;
        let signo = self.0;
        if signo <= 0 || signo >= MAX_SIGNUM {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{signo} is not a signal number"),
            ));
        }
        if signal_hook::consts::FORBIDDEN.contains(&signo) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal {signo} cannot be handled (it is in signal-hook's FORBIDDEN set)"),
            ));
        }
        Ok(signo)
    }
}

impl From<SignalKind> for i32 {
    fn from(kind: SignalKind) -> i32 {
        kind.0
    }
}
