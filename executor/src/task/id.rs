//! Task ids.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// An opaque, process-unique task id.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct Id(pub(crate) u64);

impl Id {
    pub(crate) fn next() -> Id {
        // Not part of any protocol loom checks: uniqueness is all we need,
        // which Relaxed RMW gives (every RMW reads the latest value).
        #[cfg(not(loom))]
        static NEXT: AtomicU64 = AtomicU64::new(1);
        // Under loom the id must not depend on earlier executions or on
        // models running in parallel: it picks the owned-list shard (a loom
        // mutex), and loom replays an execution only if it is deterministic.
        #[cfg(loom)]
        loom::lazy_static! {
            static ref NEXT: AtomicU64 = AtomicU64::new(1);
        }
        Id(NEXT.fetch_add(1, Relaxed))
    }

    /// The id as a number (stable for the task's life, never reused in a process).
    pub fn as_u64(&self) -> u64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
