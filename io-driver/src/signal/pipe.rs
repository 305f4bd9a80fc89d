//! One listener's self-pipe: a Unix socket pair whose write half belongs to
//! a signal-hook action and whose read half is registered with a driver.
//!
//! # Protocol
//!
//! 1. Create the pair (both halves non-blocking) and register the read half
//!    with the current thread's driver, *before* touching the signal's
//!    disposition: outside a runtime this fails and the process is left as
//!    it was.
//! 2. `signal_hook::low_level::pipe::register(signo, write)`: signal-hook
//!    installs its process-wide handler for `signo` if none is installed yet
//!    and appends an action that owns `write`. In the handler, the action
//!    does one `send(fd, "X", MSG_DONTWAIT)`: async-signal-safe, never
//!    blocks; a full socket buffer drops the byte, which is harmless because
//!    the unread bytes already make the read half readable (deliveries
//!    coalesce).
//! 3. The driver sees the read half become readable and wakes the waiter
//!    (scheduled_io.rs steps 1–2). The waiter drains every byte until
//!    `WouldBlock` and reports one delivery; it leaves the readiness set, so
//!    the next wait first reads `WouldBlock` and clears it with the tick
//!    check (step 3): a byte written after the drain is never lost.
//! 4. Drop: `unregister(id)` first (signal-hook waits for handlers running
//!    the action to finish, then drops it, closing `write`), then deregister
//!    and close the read half. The OS-level handler stays installed; see
//!    the module docs.
//!
//! # Invariants
//!
//! - While a `SelfPipe` lives, its write half is open (owned by the action),
//!   so the read half never reports EOF; an EOF is reported as an error
//!   rather than spun on.
//! - The read half is registered with exactly one driver, the one current
//!   when the pipe was created.

use std::io::{self, Read};
use std::task::{Context, Poll};

use signal_hook::SigId;

use crate::driver::sys;
use crate::registration::Registration;
use crate::scheduled_io::Direction;

pub(crate) struct SelfPipe {
    read: sys::net::UnixStream,
    registration: Registration,
    id: SigId,
}

impl SelfPipe {
    /// Steps 1–2: a pipe for `signo` (already checked by
    /// `SignalKind::check`), registered with the current driver.
    pub(crate) fn new(signo: i32) -> io::Result<SelfPipe> {
        let (mut read, write) = sys::net::UnixStream::pair()?;
        let registration = Registration::new(&mut read, sys::Interest::READABLE)?;
        match signal_hook::low_level::pipe::register(signo, write) {
            Ok(id) => Ok(SelfPipe {
                read,
                registration,
                id,
            }),
            Err(e) => {
                registration.deregister(&mut read);
                Err(e)
            }
        }
    }

    /// Step 3: waits until at least one delivery arrived since the last
    /// one reported, consuming all of them. `Err` with the `Cancelled`
    /// error inside if the current task is cancelled (its waker is removed
    /// first), or if the driver shut down.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.registration
            .poll_io(cx, Direction::Read, || drain(&self.read))
    }

    /// Whether a task's waker is stored with the driver (tests, C7).
    #[cfg(test)]
    pub(crate) fn has_waiter(&self) -> bool {
        self.registration.has_waiter(Direction::Read)
    }
}

/// Reads every pending byte. `Ok` if there was at least one, `WouldBlock`
/// if there was none (the caller clears readiness and waits again).
fn drain(mut read: &sys::net::UnixStream) -> io::Result<()> {
    let mut buf = [0u8; 64];
    let mut got = false;
    loop {
        match read.read(&mut buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the signal self-pipe was closed",
                ))
            }
            Ok(_) => got = true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && got => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

impl Drop for SelfPipe {
    fn drop(&mut self) {
        // Step 4, in this order: after `unregister` returns no handler can
        // write to `write` any more, so closing `read` races with nothing.
        signal_hook::low_level::unregister(self.id);
        self.registration.deregister(&mut self.read);
    }
}
