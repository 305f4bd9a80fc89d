//! [`Evented`]: a mio source plus its [`Registration`], the body of every
//! net type; and the helpers they share (readiness waits, `try_*` calls,
//! reads into uninitialised memory, accept-error classification).
//!
//! Every wait goes through [`Registration::poll_io`] / `poll_ready`, so it
//! checks the current task's cancellation first and removes its waker on
//! the way out (C7). An I/O call is made only after that check, once per
//! readiness: a call that moved bytes returns them; a call that did not
//! happen reports `Cancelled`.

use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{Context, Poll};

use crate::driver::sys;
use crate::net::{Interest, Partial};
use crate::registration::Registration;
use crate::scheduled_io::{Direction, Ready};

/// What `read_buf` reserves when the `Vec` has no spare capacity.
const READ_BUF_RESERVE: usize = 8 * 1024;

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
    #[cfg(feature = "test-util")]
    pub(crate) fn has_waiter(&self, dir: Direction) -> bool {
        self.reg.has_waiter(dir)
    }

    /// A probe of this source's waiter slots that other threads can hold.
    #[cfg(feature = "test-util")]
    pub(crate) fn probe(&self) -> super::IoProbe {
        super::IoProbe::new(self.reg.scheduled_io())
    }

    /// Waits until the source is ready for `interest` (either direction
    /// if both): the readiness seen, or `Cancelled`. Nothing is read or
    /// written, and the readiness is not cleared (a `try_*` call that
    /// answers `WouldBlock` clears it). However the wait ends, no waker of
    /// this task stays in either direction's list (C7).
    pub(crate) fn poll_ready_for(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<Ready>> {
        let mut one = |dir| self.reg.poll_ready(cx, dir).map_ok(|ev| ev.ready());
        match (interest.is_readable(), interest.is_writable()) {
            (true, false) => one(Direction::Read),
            (false, true) => one(Direction::Write),
            _ => {
                if let Poll::Ready(r) = one(Direction::Read) {
                    self.reg.remove_waiter(Direction::Write, cx.waker());
                    return Poll::Ready(r);
                }
                let r = std::task::ready!(one(Direction::Write));
                self.reg.remove_waiter(Direction::Read, cx.waker());
                Poll::Ready(r)
            }
        }
    }

    /// `poll_ready_for` as an async fn.
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        poll_fn(|cx| self.poll_ready_for(cx, interest)).await
    }

    /// One nonblocking call `op` now (no wait, no cancel check): its
    /// result, `WouldBlock` included (which clears the readiness seen, so
    /// that the next `ready` really waits).
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        self.reg.try_io(dir, || op(&self.io))
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
/// each is one syscall after the cancel check. A poll that returns
/// `Pending` records itself for task dumps as `AsyncRead::poll_read` /
/// `AsyncWrite::poll_write` on the socket (what a poll-based caller, such
/// as hyper through quell-hyper or a tokio-io adapter, parks on); the
/// inherent `read`/`write` futures then record themselves over it with the
/// caller's location.
impl<E: sys::Source + AsRawFd> Evented<E>
where
    for<'a> &'a E: Read + Write,
{
    /// One `read(2)` once readable: `n` bytes, EOF (`0`), an error, or
    /// `Cancelled` (then nothing was read). A short read clears the read
    /// readiness (`Registration::poll_read_io`).
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let len = buf.len();
        let p = self
            .reg
            .poll_read_io(cx, len, || (&self.io).read(&mut *buf));
        pending_read(p, self.io.as_raw_fd())
    }

    /// One `readv(2)` once readable.
    pub(crate) fn poll_read_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        let p = self
            .reg
            .poll_read_io(cx, len, || (&self.io).read_vectored(bufs));
        pending_read(p, self.io.as_raw_fd())
    }

    /// One `write(2)` once writable: `n` bytes written, an error, or
    /// `Cancelled` (then nothing was written).
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let p = self
            .reg
            .poll_io(cx, Direction::Write, || (&self.io).write(buf));
        pending_write(p, self.io.as_raw_fd())
    }

    /// One `writev(2)` once writable.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let p = self
            .reg
            .poll_io(cx, Direction::Write, || (&self.io).write_vectored(bufs));
        pending_write(p, self.io.as_raw_fd())
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

    /// Writes all of `buf`, one `write` at a time. `Err(Partial)` says how
    /// many bytes went out before the error (`WriteZero` if a write made no
    /// progress; `Cancelled` moved nothing, so the count is what the peer
    /// gets).
    pub(crate) async fn write_all(&self, buf: &[u8]) -> Result<(), Partial> {
        let mut done = 0;
        while done < buf.len() {
            match self.write(&buf[done..]).await {
                Ok(0) => return Err(Partial::new(done, io::ErrorKind::WriteZero.into())),
                Ok(n) => done += n,
                Err(e) => return Err(Partial::new(done, e)),
            }
        }
        Ok(())
    }

    /// Fills all of `buf`, one `read` at a time. `Err(Partial)` says how
    /// many bytes (at the front of `buf`) were read before the error
    /// (`UnexpectedEof` at EOF).
    pub(crate) async fn read_exact(&self, buf: &mut [u8]) -> Result<(), Partial> {
        let mut done = 0;
        while done < buf.len() {
            match self.read(&mut buf[done..]).await {
                Ok(0) => return Err(Partial::new(done, io::ErrorKind::UnexpectedEof.into())),
                Ok(n) => done += n,
                Err(e) => return Err(Partial::new(done, e)),
            }
        }
        Ok(())
    }

    /// `read(2)` now into `buf`, without waiting (`WouldBlock` if no data).
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_io(Direction::Read, |mut io| io.read(buf))
    }

    /// `readv(2)` now, without waiting.
    pub(crate) fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.try_io(Direction::Read, |mut io| io.read_vectored(bufs))
    }

    /// `write(2)` now, without waiting (`WouldBlock` if the send buffer is
    /// full).
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.try_io(Direction::Write, |mut io| io.write(buf))
    }

    /// `writev(2)` now, without waiting.
    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.try_io(Direction::Write, |mut io| io.write_vectored(bufs))
    }
}

/// Reads into uninitialised memory (no zero-fill): `read_buf`,
/// `read_to_end`, and the tokio-io adapter's `poll_read`.
impl<E: sys::Source + AsRawFd> Evented<E>
where
    for<'a> &'a E: Read + Write,
{
    /// One `read(2)` once readable into `buf`, which need not be
    /// initialised: `n` means the first `n` bytes of `buf` are now
    /// initialised. Cancel, EOF and the short-read clear as `poll_read`.
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let fd = self.io.as_raw_fd();
        let len = buf.len();
        let p = self
            .reg
            .poll_read_io(cx, len, || read_uninit(fd, &mut *buf));
        pending_read(p, fd)
    }

    /// `poll_read_uninit` as an async fn, returning the initialised part.
    pub(crate) async fn read_uninit<'b>(
        &self,
        buf: &'b mut [MaybeUninit<u8>],
    ) -> io::Result<&'b mut [u8]> {
        let n = poll_fn(|cx| self.poll_read_uninit(cx, &mut *buf)).await?;
        // SAFETY: `read(2)` returned `n`, so it wrote (initialised) the
        // first `n` bytes of `buf` (`n <= buf.len()`); `MaybeUninit<u8>`
        // and `u8` have the same layout, and the borrow is `buf`'s.
        Ok(unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), n) })
    }

    /// One `read(2)` appended to `buf`'s spare capacity (reserving some if
    /// there is none); returns the bytes added, `0` at EOF.
    pub(crate) async fn read_buf(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        if buf.len() == buf.capacity() {
            buf.reserve(READ_BUF_RESERVE);
        }
        let n = self.read_uninit(buf.spare_capacity_mut()).await?.len();
        // SAFETY: `read_uninit` initialised the first `n` bytes of the
        // spare capacity, so `len + n` bytes are initialised and within
        // the capacity.
        unsafe { buf.set_len(buf.len() + n) };
        Ok(n)
    }

    /// Appends to `buf` until EOF; returns the bytes added. On an error
    /// (`Cancelled` included) what was read so far stays in `buf`.
    pub(crate) async fn read_to_end(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let start = buf.len();
        loop {
            if self.read_buf(buf).await? == 0 {
                return Ok(buf.len() - start);
            }
        }
    }
}

/// `read(2)` on `fd` into possibly uninitialised memory.
fn read_uninit(fd: RawFd, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: `buf` is an exclusive borrow valid for writes of
    // `buf.len()` bytes; `read(2)` writes at most that many and never
    // reads them, so their being uninitialised is fine. `fd` belongs to
    // the caller's `Evented`, which is borrowed (so open) for the call.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        // `n <= buf.len()`, so it fits in `usize`.
        Ok(n as usize)
    }
}

impl<E: sys::Source> Drop for Evented<E> {
    fn drop(&mut self) {
        // Deregister while we still own the fd; it is closed right after,
        // when `io` drops.
        self.reg.deregister(&mut self.io);
    }
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

/// `p`, recorded as a pending `AsyncRead::poll_read` on `fd` if pending.
#[inline]
fn pending_read<T>(p: Poll<T>, fd: RawFd) -> Poll<T> {
    if p.is_pending() {
        crate::net::waiting::record_poll(&crate::net::waiting::POLL_READ, fd);
    }
    p
}

/// `p`, recorded as a pending `AsyncWrite::poll_write` on `fd` if pending.
#[inline]
fn pending_write<T>(p: Poll<T>, fd: RawFd) -> Poll<T> {
    if p.is_pending() {
        crate::net::waiting::record_poll(&crate::net::waiting::POLL_WRITE, fd);
    }
    p
}
