//! Test probes (feature `test-util`): is a task's waker parked on a socket?

use crate::loom::Arc;
use crate::scheduled_io::{Direction, ScheduledIo};

/// Observes whether tasks are parked on a socket, from any thread, while a
/// task owns the socket (tests of contract C7: a cancelled wait leaves no
/// waker behind). Only with the `test-util` feature; not for production
/// code.
#[derive(Clone)]
pub struct IoProbe {
    io: Arc<ScheduledIo>,
}

impl IoProbe {
    pub(crate) fn new(io: Arc<ScheduledIo>) -> IoProbe {
        IoProbe { io }
    }

    /// Whether a waker is stored for reading (or accepting).
    pub fn has_read_waiter(&self) -> bool {
        self.io.has_waiter(Direction::Read)
    }

    /// Whether a waker is stored for writing (or connecting).
    pub fn has_write_waiter(&self) -> bool {
        self.io.has_waiter(Direction::Write)
    }
}

impl std::fmt::Debug for IoProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoProbe")
            .field("read_waiter", &self.has_read_waiter())
            .field("write_waiter", &self.has_write_waiter())
            .finish()
    }
}
