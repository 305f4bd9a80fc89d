//! Task groups: structured concurrency on top of the cancel tree.
//!
//! ```text
//! TaskGroup<T>        spawn members, join in completion order / all      (tokio's JoinSet)
//! TryTaskGroup<T, E>  + the first failure cancels the siblings, is returned (Go's errgroup)
//! scope(|s| ...)      a fallible group awaited in place, body included    (Trio nursery, Kotlin coroutineScope)
//! ```
//!
//! Every group owns a token, a child of the scope it was created in
//! (`quell_cancel::current()`, or an explicit parent); members run under it,
//! so cancelling the parent reaches them with the parent's cause, and each
//! member's own spawns inherit it. No member outlives its group: waiting
//! returns only once every member finished, and dropping a group cancels
//! its members (cause "task group dropped") and aborts, on the runtime's
//! timer wheel, those still running after the drop grace.
//!
//! ```text
//! core.rs        the shared part: member set, token, runtime, drop policy
//! set.rs         the members, joined in completion order: O(1) per completion
//! failure.rs     exactly one first failure, and the token cancelled with it (loom: loom_group)
//! error.rs       GroupError: the first failure, as the cause members saw
//! task_group.rs  TaskGroup
//! try_group.rs   TryTaskGroup
//! scope.rs       scope, Scope
//! ```
//!
//! docs/cancellation.md ("Structured concurrency") compares the three
//! forms with errgroup, Trio's nurseries, `JoinSet` and `coroutineScope`.
//!
//! ```
//! use std::time::Duration;
//! use quell_cancel::CauseKind;
//! use quell_executor::task::TryTaskGroup;
//!
//! let rt = quell_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let mut g = TryTaskGroup::new();
//!     for i in 0..3u64 {
//!         g.spawn(async move {
//!             if i == 1 {
//!                 return Err(std::io::Error::other("shard 1 failed"));
//!             }
//!             // The siblings see the failure at their next await point.
//!             let err = quell_io_driver::time::sleep(Duration::from_secs(3600))
//!                 .await
//!                 .unwrap_err();
//!             assert_eq!(err.cause().kind(), &CauseKind::GroupFailure);
//!             Ok(i)
//!         });
//!     }
//!     let err = g.wait().await.unwrap_err();
//!     assert_eq!(err.error().unwrap().to_string(), "shard 1 failed");
//! });
//! ```

#[cfg(not(loom))]
mod core;
#[cfg(not(loom))]
mod error;
pub(crate) mod failure;
#[cfg(not(loom))]
mod scope;
#[cfg(not(loom))]
mod set;
#[cfg(not(loom))]
mod task_group;
#[cfg(not(loom))]
mod try_group;

#[cfg(not(loom))]
pub use self::core::DEFAULT_DROP_GRACE;
#[cfg(not(loom))]
pub use error::GroupError;
#[cfg(not(loom))]
pub use scope::{scope, Scope};
#[cfg(not(loom))]
pub use task_group::TaskGroup;
#[cfg(not(loom))]
pub use try_group::TryTaskGroup;
