//! A source registered with the driver: what every net type holds.

use std::future::poll_fn;
use std::io;
use std::task::{ready, Context, Poll};

use quell_cancel::context as cancel_cx;

use crate::driver::{sys, Handle};
use crate::loom::Arc;
use crate::scheduled_io::{Direction, ReadyEvent, ScheduledIo, WaitError};

/// The registration of one source. Deregistration happens in
/// [`Registration::deregister`] (called by the owner's `Drop`, which still
/// has the source).
pub(crate) struct Registration {
    handle: Handle,
    io: Arc<ScheduledIo>,
    token: usize,
}

impl Registration {
    /// Registers `source` with the current thread's driver.
    pub(crate) fn new(
        source: &mut impl sys::Source,
        interest: sys::Interest,
    ) -> io::Result<Registration> {
        let handle = crate::context::current()?;
        let (io, token) = handle.register(source, interest)?;
        Ok(Registration { handle, io, token })
    }

    /// Waits for readiness in `dir`; `Err` if the current task is
    /// cancelled (the `Cancelled` error inside an `io::Error`, see
    /// `quell_cancel::Cancelled::from_io`) or the driver shut down.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        match ready!(self.io.poll_ready(cx, dir)) {
            Ok(ev) => Poll::Ready(Ok(ev)),
            Err(WaitError::Cancelled(c)) => Poll::Ready(Err(c.into())),
            Err(WaitError::Shutdown) => Poll::Ready(Err(io::Error::other(
                "the quell runtime's I/O driver has shut down",
            ))),
        }
    }

    /// Clears the readiness `ev` reported (after a `WouldBlock`).
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        self.io.clear_readiness(ev);
    }

    /// Runs the non-blocking `op` when `dir` is ready, retrying after
    /// `WouldBlock`. The cooperative budget is charged once per call.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(cancel_cx::poll_proceed(cx));
        loop {
            let ev = ready!(self.poll_ready(cx, dir))?;
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(ev),
                r => return Poll::Ready(r),
            }
        }
    }

    /// [`Registration::poll_io`] for a read that consumes what it reads
    /// (`read(2)`, `readv(2)`, not a peek) into `len` bytes of buffer. A
    /// short read (`0 < n < len`) drained the socket's receive queue, so
    /// it also clears the read readiness it was made under (step 3 of
    /// scheduled_io.rs: not if a newer event arrived since): the next read
    /// then waits for the next edge instead of paying a `read(2)` that
    /// answers `EAGAIN`. What arrives after the read raises a new edge, a
    /// new tick, and so is never cleared by this.
    pub(crate) fn poll_read_io(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        mut op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        ready!(cancel_cx::poll_proceed(cx));
        loop {
            let ev = ready!(self.poll_ready(cx, Direction::Read))?;
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(ev),
                Ok(n) if n > 0 && n < len => {
                    self.clear_readiness(ev);
                    return Poll::Ready(Ok(n));
                }
                r => return Poll::Ready(r),
            }
        }
    }

    /// Runs the non-blocking `op` now, without waiting and without a
    /// cancel check (the `try_*` calls); a `WouldBlock` clears the
    /// readiness seen before the call, so the next wait really waits.
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let ev = self.io.ready_now(dir);
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_readiness(ev);
                Err(e)
            }
            r => r,
        }
    }

    /// Removes the waiter whose waker is `waker` from `dir` (a wait on
    /// both directions that ended in the other one).
    pub(crate) fn remove_waiter(&self, dir: Direction, waker: &std::task::Waker) {
        self.io.remove_waiter(dir, waker);
    }

    /// `poll_io` as an async fn.
    pub(crate) async fn async_io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_io(cx, dir, &mut op)).await
    }

    /// Deregisters `source` (call once, from the owner's `Drop`).
    pub(crate) fn deregister(&self, source: &mut impl sys::Source) {
        self.handle.deregister(source, self.token);
    }

    /// The shared readiness state, for a test probe that must outlive a
    /// borrow of the owner (see `net::IoProbe`).
    #[cfg(not(loom))]
    pub(crate) fn scheduled_io(&self) -> Arc<ScheduledIo> {
        self.io.clone()
    }

    /// Whether a waiter is stored for `dir` (C7 checks in tests).
    #[allow(dead_code)]
    pub(crate) fn has_waiter(&self, dir: Direction) -> bool {
        self.io.has_waiter(dir)
    }
}
