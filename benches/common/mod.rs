//! Shared code of the head-to-head benches (quell vs tokio).
//!
//! ```text
//! rt.rs         the `Rt` trait: spawn / spawn_remote / yield_now / block_on,
//!               implemented by `Quell` and `Tokio` (both 2 workers)
//! slot.rs       a runtime-agnostic single-slot channel (Mutex + Waker)
//! probe.rs      a runtime-agnostic wake probe for wake latency
//! scenarios.rs  the workloads, generic over `Rt` (used by criterion benches
//!               and by `compare`)
//! harness.rs    alternating repetitions, medians, timeouts (for `compare`)
//! table.rs      `Row`, `Outcome`, `Budget` and the printed table
//! registry.rs   the list of `compare` scenarios: add a row here
//! cancel_lat.rs cancel latency of a parked task (channel recv, TCP read)
//! echo.rs       TCP echo over loopback (`NetRt`: from_std/read/write_all)
//! timers.rs     timer churn and sleep overshoot (`TimeRt`: sleep)
//! rows.rs       the `compare` rows of the three modules above
//! lifo.rs       task-to-task wake, busy waker per wake, abort → join, CPU use
//! sched_rows.rs the `compare` rows of `lifo.rs`
//! notes.rs      the extra tables: quell vs its own wake latency, rates
//! group.rs      task-group rows (TaskGroup / TryTaskGroup vs JoinSet)
//! current.rs    current-thread rows (quell's vs tokio's current_thread)
//! sync9.rs      sync-primitive rows (Mutex, Semaphore, broadcast, mpsc, watch)
//! crit.rs       criterion config and the quell/tokio group of the throughput benches
//! ```
//!
//! Every bench file does `mod common;` and uses a subset, hence the
//! `dead_code` allowance.
#![allow(dead_code, unused_imports)]

pub mod cancel_lat;
pub mod crit;
pub mod current;
pub mod echo;
pub mod group;
pub mod harness;
pub mod lifo;
pub mod notes;
pub mod probe;
pub mod registry;
pub mod rows;
pub mod rt;
pub mod scenarios;
pub mod sched_rows;
pub mod slot;
pub mod sync9;
pub mod table;
pub mod timers;

pub use rt::{Quell, Rt, Tokio, WORKERS};
pub use scenarios::Failed;

/// Unwraps a scenario result in a criterion bench. A failure (timeout,
/// wrong result) exits the process at once instead of unwinding: dropping
/// a runtime whose tasks hang could hang the bench too.
pub fn or_exit<T>(r: Result<T, Failed>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => {
            eprintln!("scenario failed: {}", e.0);
            std::process::exit(2);
        }
    }
}
