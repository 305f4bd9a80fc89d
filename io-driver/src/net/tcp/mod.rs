//! TCP: [`TcpListener`], [`TcpStream`] and its owned halves.

mod listener;
pub(crate) mod split;
mod stream;

pub use listener::TcpListener;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use stream::TcpStream;
