//! The concurrency facade: `std` normally, `loom` under `cfg(loom)`.
//!
//! Code that loom must see imports atomics, locks and cells from here, never
//! from `std` directly (see CONVENTIONS.md, "Concurrency code").

#[cfg(not(loom))]
pub(crate) use std::sync::{atomic, Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::{atomic, Mutex, MutexGuard};

/// The tree counts its own references (`node_ref.rs`); only the tests
/// share data through an `Arc`.
#[cfg(all(test, not(loom)))]
pub(crate) use std::sync::Arc;

#[cfg(all(test, loom))]
pub(crate) use loom::sync::Arc;
