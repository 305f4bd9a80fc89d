//! **Runtime-internal, not API.** Hidden from the docs, not re-exported by
//! the `quell` facade, and free to change in any release: the seams that
//! quell's own crates (the I/O driver, the executor) need from this one.
//!
//! * The current-task context: the executor [`enter`]s it around every
//!   poll of a task; deadline and token scopes [`enter_scope`]; the await
//!   points of the other crates ask it what they must [`observe`](observed).
//!   User code that could call [`enter`] could impersonate a task (make
//!   `current()` answer with a token of its choosing), which is why none of
//!   this is reachable from `quell`.
//! * [`waiters`]: the one waiter list and the one "wake a user waker"
//!   helper of every quell crate.

pub use crate::context::{
    enter, enter_scope, is_shielded, note_cancelled_scope, observed, with_current, TaskCancel,
};

/// The waiter list and the waker helpers (see the `waiters` module docs
/// in the source: slab + FIFO list with generation keys; wakers are woken
/// outside locks, their panics contained).
pub mod waiters {
    pub use crate::waiters::{
        lock, set_batch_hook, wake, wake_all, wake_by_ref, BatchHook, Key, Taken, WaiterList,
        WakeBatch,
    };
}
