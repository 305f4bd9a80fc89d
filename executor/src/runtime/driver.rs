//! Glue between the executor's parking traits and quell-io-driver.

use std::time::Duration;

use quell_io_driver as io;

use crate::scheduler::park::{Driver, DriverUnpark};

/// The I/O driver, as the executor parks in it.
pub(crate) struct IoDriver(pub(crate) io::Driver);

impl Driver for IoDriver {
    fn park(&mut self, timeout: Option<Duration>) {
        self.0.park(timeout);
    }
}

/// Interrupts the I/O driver's wait (its mio waker).
pub(crate) struct IoUnpark(pub(crate) io::Handle);

impl DriverUnpark for IoUnpark {
    fn unpark(&self) {
        self.0.unpark();
    }

    fn has_sources(&self) -> bool {
        self.0.has_sources()
    }

    fn wake_at(
        &self,
        deadline: std::time::Instant,
        waker: std::task::Waker,
    ) -> Result<(), std::task::Waker> {
        self.0.wake_at(deadline, waker)
    }
}
