//! The concurrency facade: `std` normally, `loom` under `cfg(loom)`.
//!
//! Code that loom must see imports atomics, locks and cells from here, never
//! from `std` directly (see CONVENTIONS.md, "Concurrency code").

#[cfg(not(loom))]
pub(crate) use std::sync::{atomic, Arc, Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::{atomic, Arc, Mutex, MutexGuard};
