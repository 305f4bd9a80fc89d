//! Unit tests (`tree`, `error`, `observe`) and loom models (`loom_*`).
//!
//! The loom models also run without loom (each closure once, on real
//! threads); run them under loom with
//! `RUSTFLAGS="--cfg loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=2 cargo test -p quell-cancel --release --lib loom`.

#[cfg(not(loom))]
mod error;
mod loom_tree;
#[cfg(not(loom))]
mod observe;
#[cfg(not(loom))]
mod tree;
mod util;
