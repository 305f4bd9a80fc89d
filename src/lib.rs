#![doc = include_str!("../README.md")]
//!
//! # Crates
//!
//! * [`cancel`]: the token tree, causes, `Cancelled`, `checkpoint`, `shield`.
//! * [`runtime`], [`task`]: the executor (re-exported from `quell-executor`).

pub use quell_cancel as cancel;
pub use quell_executor::{runtime, spawn, task, Builder, Handle, JoinError, JoinHandle, Runtime};
