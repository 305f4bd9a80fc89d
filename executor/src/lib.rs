//! quell-executor: the M:P:G work-stealing executor of quell.
//!
//! ```text
//!  G  task      one allocation: state word, vtable, cancel binding, future/output
//!  P  core      local FIFO queue (crossbeam-deque) + stealable LIFO slot
//!  M  worker    a thread running a core: local → injector → steal → park
//! ```
//!
//! * [`task`]: spawning, `JoinHandle`, `yield_now`, the task state machine,
//!   task-local values ([`task_local!`], exported at this crate's root
//!   by `#[macro_export]` from `task/task_local.rs`), and `spawn_local` /
//!   `LocalSet` for `!Send` futures.
//! * [`runtime`]: `Runtime`, `runtime::Builder`, `Handle`, `block_on`, blocking
//!   pool; the multi-thread flavor (above) and the current-thread flavor
//!   (`Builder::new_current_thread`: no workers, `block_on` runs the tasks).
//! * `scheduler` (internal): queues, idle/park protocol, stealing; and
//!   `current_thread`, the small single-threaded scheduler of the
//!   current-thread flavor and of `LocalSet`.
//! * [`metrics`]: the [`RuntimeMetrics`](metrics::RuntimeMetrics) snapshot
//!   (`Handle::metrics`); `hooks` (internal) runs the builder's callbacks
//!   (thread start/stop, task spawn/terminate, before/after poll).
//!
//! Every task runs under a cancel token from `quell_cancel`; the executor
//! binds a task to its token the first time it parks, so cancelling the
//! token wakes it wherever it waits (contracts C2, C8). The life of a task,
//! the state-word table and the park protocol are in docs/architecture.md.
//!
//! ```
//! use quell_executor::Runtime;
//! let rt = Runtime::new().unwrap();
//! let sum = rt.block_on(async {
//!     let hs: Vec<_> = (0..10u64).map(|i| quell_executor::spawn(async move { i * i })).collect();
//!     let mut sum = 0;
//!     for h in hs { sum += h.await.unwrap(); }
//!     sum
//! });
//! assert_eq!(sum, 285);
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
// Under loom the runtime is compiled out (only the models drive the task
// and scheduler code), so much of the crate is unused there.
#![cfg_attr(loom, allow(dead_code, unused_imports))]

pub(crate) mod hooks;
pub(crate) mod loom;
pub mod metrics;

#[cfg(not(loom))]
pub mod runtime;
pub(crate) mod scheduler;
pub mod sync;
pub mod task;

#[cfg(not(loom))]
pub use runtime::{Handle, Runtime};
#[cfg(not(loom))]
pub use task::spawn;
pub use task::{JoinError, JoinHandle};

#[cfg(all(test, loom))]
mod tests;
