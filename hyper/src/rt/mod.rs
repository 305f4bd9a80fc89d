//! hyper's runtime traits on quell: [`QuellExecutor`] (`hyper::rt::Executor`),
//! [`QuellTimer`] (`hyper::rt::Timer`), [`QuellIo`] (`hyper::rt::Read` +
//! `hyper::rt::Write` over quell's TCP and Unix streams).

mod executor;
mod io;
mod timer;

pub use executor::QuellExecutor;
pub use io::{QuellIo, Stream};
pub use timer::{QuellSleep, QuellTimer};
