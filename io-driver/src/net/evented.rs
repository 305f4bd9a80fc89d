//! [`Evented`]: a mio source plus its [`Registration`], the body of every
//! net type; and the helpers they share (address resolution, accept-error
//! classification).
//!
//! Every wait goes through [`Registration::poll_io`] / `poll_ready`, so it
//! checks the current task's cancellation first and removes its waker on
//! the way out (C7). An I/O call is made only after that check, once per
//! readiness: a call that moved bytes returns them; a call that did not
//! happen reports `Cancelled`.

use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::SocketAddr;
use std::task::{Context, Poll};

use crate::driver::sys;
use crate::loom::Arc;
use crate::registration::Registration;
use crate::scheduled_io::{Direction, ScheduledIo};

/// A registered mio source. Deregistered (then closed) on drop.
pub(crate) struct Evented<E: sys::Source> {
    io: E,
    reg: Registration,
}

impl<E: sys::Source> Evented<E> {
    /// Registers `io` with the current thread's driver for read and write
    /// readiness (edge-triggered).
    pub(crate) fn new(mut io: E) -> io::Result<Evented<E>> {
        let interest = sys::Interest::READABLE.add(sys::Interest::WRITABLE);
        let reg = Registration::new(&mut io, interest)?;
        Ok(Evented { io, reg })
    }

    pub(crate) fn get_ref(&self) -> &E {
        &self.io
    }

    pub(crate) fn reg(&self) -> &Registration {
        &self.reg
    }

    /// Whether a task's waker is parked on `dir` (C7 checks in tests).
    pub(crate) fn has_waiter(&self, dir: Direction) -> bool {
        self.reg.has_waiter(dir)
    }

    /// A probe of this source's waiter slots that other threads can hold.
    pub(crate) fn probe(&self) -> IoProbe {
        IoProbe {
            io: self.reg.scheduled_io(),
        }
    }

    /// Waits for write readiness after a nonblocking `connect`, then
    /// reports the connect's outcome (`take_error`, then `is_connected`).
    pub(crate) fn poll_connected(
        &self,
        cx: &mut Context<'_>,
        take_error: impl Fn(&E) -> io::Result<Option<io::Error>>,
        is_connected: impl Fn(&E) -> io::Result<()>,
    ) -> Poll<io::Result<()>> {
        loop {
            let ev = std::task::ready!(self.reg.poll_ready(cx, Direction::Write))?;
            if let Some(e) = take_error(&self.io)? {
                return Poll::Ready(Err(e));
            }
            match is_connected(&self.io) {
                Ok(()) => return Poll::Ready(Ok(())),
                // Spurious writability before the handshake finished.
                Err(e)
                    if e.kind() == io::ErrorKind::NotConnected
                        || e.raw_os_error() == Some(libc::EINPROGRESS) =>
                {
                    self.reg.clear_readiness(ev)
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl<E: sys::Source> Evented<E> {
    /// One read-like call `op` (`read(2)`, `recv(MSG_PEEK)`, …) once
    /// readable: `n` bytes, EOF (`0`), an error, or `Cancelled` (then
    /// nothing was read). An empty `buf` is `Ok(0)` at once.
    pub(crate) fn poll_read_with(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        mut op: impl FnMut(&E, &mut [u8]) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.reg
            .poll_io(cx, Direction::Read, || op(&self.io, &mut *buf))
    }

    /// `poll_read_with` as an async fn.
    pub(crate) async fn read_with(
        &self,
        buf: &mut [u8],
        mut op: impl FnMut(&E, &mut [u8]) -> io::Result<usize>,
    ) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read_with(cx, buf, &mut op)).await
    }
}

/// The byte-stream operations of `TcpStream`, its halves and `UnixStream`:
/// each is one syscall after the cancel check.
impl<E: sys::Source> Evented<E>
where
    for<'a> &'a E: Read + Write,
{
    /// One `read(2)` once readable: `n` bytes, EOF (`0`), an error, or
    /// `Cancelled` (then nothing was read).
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, buf, |mut io, buf| io.read(buf))
    }

    /// One `readv(2)` once readable.
    pub(crate) fn poll_read_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.reg
            .poll_io(cx, Direction::Read, || (&self.io).read_vectored(bufs))
    }

    /// One `write(2)` once writable: `n` bytes written, an error, or
    /// `Cancelled` (then nothing was written).
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.reg
            .poll_io(cx, Direction::Write, || (&self.io).write(buf))
    }

    /// One `writev(2)` once writable.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.reg
            .poll_io(cx, Direction::Write, || (&self.io).write_vectored(bufs))
    }

    /// `poll_read` as an async fn.
    pub(crate) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// `poll_read_vectored` as an async fn.
    pub(crate) async fn read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read_vectored(cx, bufs)).await
    }

    /// `poll_write` as an async fn.
    pub(crate) async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// `poll_write_vectored` as an async fn.
    pub(crate) async fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write_vectored(cx, bufs)).await
    }

    /// Writes all of `buf`, one `write` at a time (`WriteZero` if a write
    /// makes no progress). On `Cancelled` a prefix may have been sent.
    pub(crate) async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }
}

impl<E: sys::Source> Drop for Evented<E> {
    fn drop(&mut self) {
        // Deregister while we still own the fd; it is closed right after,
        // when `io` drops.
        self.reg.deregister(&mut self.io);
    }
}

/// Resolves `addr` (blocking for host names; instant for IP literals).
pub(crate) fn resolve(addr: impl std::net::ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<_> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        ));
    }
    Ok(addrs)
}

/// Tries each address in turn; returns the first success, else the last
/// error. A cancellation ends the search at once.
pub(crate) async fn each_addr<T, F, Fut>(addrs: Vec<SocketAddr>, mut f: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in addrs {
        match f(a).await {
            Ok(v) => return Ok(v),
            Err(e) if quell_cancel::Cancelled::is_cancelled_io(&e) => return Err(e),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

/// `accept(2)` with the transient per-connection failures retried: the
/// connection in the backlog died before we took it (`ECONNABORTED`, and
/// `EPROTO` on Linux), or a signal interrupted the call. Each retry takes
/// a connection off the backlog, so the loop ends.
///
/// Resource exhaustion (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) is *not*
/// retried: it is returned to the caller, who must back off (see the
/// listeners' `accept` docs).
pub(crate) fn accept_retrying<R>(mut accept: impl FnMut() -> io::Result<R>) -> io::Result<R> {
    loop {
        match accept() {
            Err(e) if is_transient_accept_error(&e) => continue,
            r => return r,
        }
    }
}

fn is_transient_accept_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNABORTED) | Some(libc::EPROTO) | Some(libc::EINTR)
    ) || e.kind() == io::ErrorKind::Interrupted
}

/// Whether `e` is an accept failure caused by resource exhaustion (the
/// process or system is out of descriptors or memory): the listener is
/// fine, the caller should back off before accepting again.
pub fn is_resource_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::ENOBUFS) | Some(libc::ENOMEM)
    )
}

/// Observes whether tasks are parked on a socket, from any thread, while a
/// task owns the socket (tests of contract C7: a cancelled wait leaves no
/// waker behind). Not part of the stable API.
#[doc(hidden)]
#[derive(Clone)]
pub struct IoProbe {
    io: Arc<ScheduledIo>,
}

impl IoProbe {
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
