//! [`Listener`]: what [`serve`](super::serve) accepts connections from.

use std::io;
use std::task::{Context, Poll};

use quell_io_driver::net::{TcpListener, TcpStream, UnixListener, UnixStream};

use crate::rt::Stream;

/// A quell listener the server driver can accept from: [`TcpListener`]
/// or [`UnixListener`]. Sealed.
pub trait Listener: sealed::Sealed + Send + 'static {}

pub(crate) mod sealed {
    use super::*;

    pub trait Sealed {
        /// The accepted stream.
        type Io: Stream + Send + 'static;

        /// One accept: the stream and a description of the peer (task
        /// names, reports). A cancel point.
        fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(Self::Io, String)>>;
    }
}

impl sealed::Sealed for TcpListener {
    type Io = TcpStream;

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, String)>> {
        TcpListener::poll_accept(self, cx).map_ok(|(s, peer)| {
            // Small responses are latency-bound: do not let Nagle hold them.
            let _ = s.set_nodelay(true);
            (s, peer.to_string())
        })
    }
}

impl Listener for TcpListener {}

impl sealed::Sealed for UnixListener {
    type Io = UnixStream;

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, String)>> {
        UnixListener::poll_accept(self, cx).map_ok(|(s, peer)| {
            let peer = match peer.as_pathname() {
                Some(p) => p.display().to_string(),
                None => "unix peer".to_owned(),
            };
            (s, peer)
        })
    }
}

impl Listener for UnixListener {}
