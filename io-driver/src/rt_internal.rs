//! **Runtime-internal, not API.** Hidden from the docs, not re-exported by
//! the `quell` facade, and free to change in any release: what the executor
//! needs to run the driver.
//!
//! * [`Driver`] / [`Handle`]: the reactor a worker parks in, and the handle
//!   that unparks it, counts its sources and timers, and shuts it down.
//! * [`context`]: the current thread's driver, and the blocking hook
//!   through which name lookups reach the executor's blocking pool.
//! * [`coop`]: the cooperative budget, set per poll by the executor and
//!   spent by every runtime resource (docs/architecture.md says why it
//!   lives in this crate).
//! * [`signal`]: the listening thread behind `cancel_on`, with any action
//!   (the executor's dump on a signal).
//! * [`time`]: a sleep's timer polled alone, for quell-hyper's timers
//!   (no cancel check, budget or await-point record).

pub use crate::driver::{Driver, Handle};

/// The current thread's driver and the blocking hook.
pub mod context {
    pub use crate::context::{
        current, enter, set_blocking_hook, with_current, BlockingHook, BlockingJob, EnterGuard,
    };
}

/// The cooperative budget.
pub mod coop {
    pub use crate::coop::{budget, poll_proceed, BUDGET};
}

/// A sleep's timer alone (quell-hyper's `QuellSleep`).
pub mod time {
    pub use crate::time::sleep::poll_elapsed;
}

/// The signal-listening thread of `cancel_on` with a caller's action.
#[cfg(not(loom))]
pub mod signal {
    pub use crate::signal::cancel_on::listen;
}
