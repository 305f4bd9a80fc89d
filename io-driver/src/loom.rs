//! The concurrency facade: `std` normally, `loom` under `cfg(loom)`.

#[cfg(not(loom))]
pub(crate) use std::sync::{atomic, Arc, Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::{atomic, Arc, Mutex, MutexGuard};
