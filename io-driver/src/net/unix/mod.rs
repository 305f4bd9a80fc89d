//! Unix-domain stream sockets: [`UnixListener`], [`UnixStream`].

mod listener;
mod stream;

pub use listener::UnixListener;
pub use stream::UnixStream;
