//! Unit tests (`unit`) and loom models (`loom_sync_*`) of the sync primitives.
//!
//! The loom models also run without loom (each closure once, on real
//! threads). Under loom:
//! `RUSTFLAGS="--cfg loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p quell-executor --lib loom_sync -- --test-threads=2`.

mod loom_sync_fanout;
mod loom_sync_mpsc;
mod loom_sync_notify;
mod loom_sync_oneshot;
mod loom_sync_semaphore;
#[cfg(not(loom))]
mod unit;
#[cfg(not(loom))]
mod unit_fanout;
#[cfg(not(loom))]
mod unit_lock;
#[cfg(not(loom))]
mod unit_mpsc;
mod util;
