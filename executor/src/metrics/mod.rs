//! Runtime metrics: cheap per-worker counters, opt-in histograms, and the
//! [`RuntimeMetrics`] snapshot that `Handle::metrics` returns.
//!
//! ```text
//! stats.rs      the live counters: one cache-padded block per worker,
//!               written only by its worker (a relaxed load + store, no RMW)
//! histogram.rs  log2-bucket histograms (poll time, schedule latency,
//!               cancel latency), on only with Builder::enable_metrics_histograms
//! snapshot.rs   RuntimeMetrics / WorkerMetrics / Histogram: plain data
//! ```
//!
//! # Cost
//!
//! Counters are single-writer: only the worker that owns a block writes
//! it, so an increment is a `Relaxed` load and store of a line that worker
//! already owns (no locked instruction, no sharing with other writers),
//! reached through a pointer its core holds (`Core::stats`), not through
//! the handle and the worker index. Counts are not batched: each is
//! visible to a snapshot as soon as it is bumped (a poll is counted before
//! it runs), so a snapshot taken after a join sees every poll of the task.
//! Snapshots read them with `Relaxed` loads from any thread; a snapshot is
//! therefore a consistent-enough view (each counter exact, the set not
//! taken at one instant). The only shared counter is the remote-schedule
//! count (a `Relaxed` `fetch_add` on the injector path, which already
//! pays a queue push and a `SeqCst` fence).
//!
//! With histograms and hooks off, the poll path pays one branch on a
//! flag of the core (`observe_polls`) and no clock read, a local schedule
//! one branch on another (`stamp_queued`), a spawn and a task's completion
//! one `None` check each (the hooks, called out of line); the cancel path
//! (only taken by a task observing its cancel) pays one thread-local read.
//! With histograms on, each poll reads the clock twice and each schedule
//! once (the queued stamp, taken where the task is queued: `schedule_local`
//! or `Handle::push_remote`).
//!
//! These counters are invisible to loom on purpose: they take part in no
//! protocol (nothing is decided from them), so they use `std` atomics
//! directly and the models' state space does not grow with them.

mod histogram;
mod snapshot;
pub(crate) mod stats;

pub use histogram::{Histogram, HistogramBucket};
pub use snapshot::{RuntimeHistograms, RuntimeMetrics, WorkerMetrics};
