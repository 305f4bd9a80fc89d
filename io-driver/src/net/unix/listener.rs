//! [`UnixListener`]: accepts Unix-domain stream connections.

use std::fmt;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use crate::driver::sys;
use crate::net::evented::{accept_retrying, Evented};
use crate::net::UnixStream;
use crate::scheduled_io::Direction;

/// A Unix-domain stream socket server.
///
/// `accept` is a cancel point with the same guarantees as
/// [`TcpListener::accept`](crate::net::TcpListener::accept): `Cancelled`
/// with the cause, waker removed, listener still usable, no connection
/// lost; descriptor exhaustion is returned for the caller to back off.
///
/// Dropping the listener closes it but does not unlink its path.
pub struct UnixListener {
    io: Evented<sys::net::UnixListener>,
}

impl UnixListener {
    /// Binds a listener to the filesystem `path` (which must not exist).
    /// Never waits.
    ///
    /// # Errors
    ///
    /// `bind(2)`/`listen(2)` failures, or no runtime on this thread.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::new(sys::net::UnixListener::bind(path)?)
    }

    /// Wraps a std listener (switching it to nonblocking mode) and
    /// registers it with the current thread's driver.
    ///
    /// # Errors
    ///
    /// No runtime on this thread, or registration failed.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::new(sys::net::UnixListener::from_std(listener))
    }

    fn new(l: sys::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Evented::new(l)?,
        })
    }

    /// Accepts a connection once one is pending.
    ///
    /// # Errors
    ///
    /// As [`TcpListener::accept`](crate::net::TcpListener::accept):
    /// `Cancelled`, or resource exhaustion (`EMFILE`, …: back off before
    /// accepting again), or another `accept(2)` error.
    #[track_caller]
    pub fn accept(
        &self,
    ) -> impl std::future::Future<Output = io::Result<(UnixStream, SocketAddr)>> + '_ {
        use crate::net::waiting::{on_pending, UNIX_ACCEPT};
        use std::os::fd::AsRawFd;
        let (at, fd) = (std::panic::Location::caller(), self.as_raw_fd());
        std::future::poll_fn(move |cx| on_pending(self.poll_accept(cx), &UNIX_ACCEPT, at, fd))
    }

    /// The poll form of [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let p = self.io.reg().poll_io(cx, Direction::Read, || {
            accept_retrying(|| self.io.get_ref().accept())
        });
        if p.is_pending() {
            // For a dump (no caller location: `accept` records its own).
            use std::os::fd::AsRawFd;
            let fd = self.as_raw_fd();
            crate::net::waiting::record_poll(&crate::net::waiting::UNIX_ACCEPT, fd);
        }
        let (s, addr) = std::task::ready!(p)?;
        Poll::Ready(UnixStream::from_mio(s).map(|s| (s, addr)))
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl std::os::fd::AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
