//! quell: an async runtime in which cancellation is part of the runtime.
//!
//! (facade; see README.md)

pub use quell_cancel as cancel;
pub use quell_executor::{runtime, spawn, task, Builder, Handle, JoinError, JoinHandle, Runtime};
