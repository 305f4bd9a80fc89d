//! What a runtime runs beside its workers to watch its tasks, all opt-in
//! on the builder (docs/observability.md):
//!
//! ```text
//! watchdog.rs  the leak watchdog: a task alive a threshold after its
//!              cancel is reported once (a callback, or a stderr line)
//! signal.rs    the dump on a signal: the task dump to stderr
//! ```
//!
//! Each is a thread of its own holding a `Weak` of the runtime, started
//! by `Builder::build` after the workers and stopped by the runtime's
//! shutdown before them. A runtime without them has neither thread nor
//! any state: nothing on the task paths knows about them.
//!
//! Compiled out under `cfg(loom)` (threads, time and signals that no model
//! explores).

mod signal;
mod watchdog;

use std::io;
use std::time::Duration;

use quell_io_driver::signal::{CancelOnSignal, SignalKind};

use super::Handle;
pub use watchdog::Leak;
pub(crate) use watchdog::LeakHook;
use watchdog::Watchdog;

/// The builder's settings for these.
#[derive(Clone, Default)]
pub(crate) struct Settings {
    /// `Builder::leak_watchdog`.
    pub(crate) leak_threshold: Option<Duration>,
    /// `Builder::on_leak`.
    pub(crate) on_leak: Option<LeakHook>,
    /// `Builder::dump_on_signal`, every call's signal.
    pub(crate) dump_signals: Vec<SignalKind>,
}

impl Settings {
    /// The settings' own errors (`build` reports them as `InvalidInput`).
    pub(crate) fn validate(&self) -> Result<(), &'static str> {
        match self.leak_threshold {
            Some(t) if t.is_zero() => Err("leak_watchdog's threshold must be more than zero"),
            None if self.on_leak.is_some() => {
                Err("on_leak needs the leak watchdog: set Builder::leak_watchdog(threshold)")
            }
            _ => Ok(()),
        }
    }
}

/// The running observers of one runtime.
#[derive(Default)]
pub(crate) struct Observers {
    watchdog: Option<Watchdog>,
    dump_signal: Option<CancelOnSignal>,
}

impl Observers {
    /// Starts what `settings` asks for (nothing, by default). On error
    /// what was started is stopped again.
    pub(crate) fn start(settings: &Settings, handle: &Handle) -> io::Result<Observers> {
        let mut o = Observers::default();
        if !settings.dump_signals.is_empty() {
            o.dump_signal = Some(signal::start(handle, &settings.dump_signals)?);
        }
        if let Some(threshold) = settings.leak_threshold {
            o.watchdog = Some(Watchdog::start(
                handle,
                threshold,
                settings.on_leak.clone(),
            )?);
        }
        Ok(o)
    }

    /// Stops and joins every observer thread (shutdown, before the
    /// workers stop).
    pub(crate) fn stop(&mut self) {
        // Dropping each stops and joins its thread.
        self.watchdog = None;
        self.dump_signal = None;
    }
}
