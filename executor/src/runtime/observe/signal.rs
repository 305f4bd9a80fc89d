//! The dump on a signal ([`Builder::dump_on_signal`](crate::runtime::Builder::dump_on_signal)):
//! each delivery writes the task dump to stderr; the process carries on.
//!
//! The listening thread is the one behind `cancel_on` (io-driver
//! `signal/cancel_on.rs`: signal-hook's handler only writes to a pipe, the
//! thread does the rest), with this action instead of a cancel. A thread,
//! not a task: the dump is most wanted when every worker is stuck in a
//! busy task, and it must come then too. The thread holds a `Weak` of the
//! runtime, so it never keeps the runtime alive; shutdown drops the guard,
//! which stops and joins it.

use std::io::{self, Write};
use std::sync::Weak;

use quell_io_driver::rt_internal::signal::listen;
use quell_io_driver::signal::{CancelOnSignal, SignalKind};

use crate::runtime::handle::Inner;
use crate::runtime::Handle;

/// Starts listening for `signals`; the guard stops it.
pub(crate) fn start(handle: &Handle, signals: &[SignalKind]) -> io::Result<CancelOnSignal> {
    let rt: Weak<Inner> = std::sync::Arc::downgrade(&handle.inner);
    listen(
        "dump_on_signal",
        signals.iter().copied(),
        move |_, signo| {
            let Some(inner) = rt.upgrade() else { return };
            let text = Handle { inner }.dump().to_string();
            // Under stderr's lock, so that no other thread's stderr output
            // lands inside the dump; an error (stderr closed) is not worth
            // stopping the listener for.
            let _ = writeln!(
                io::stderr().lock(),
                "quell: task dump on signal {signo}\n{text}"
            );
        },
    )
}
