//! quell-cancel: the cancellation tree of the quell runtime.
//!
//! Every quell task runs under a [`CancelToken`], a node of a tree like a Go
//! `context`. `spawn` gives a task its spawner's token (or a child of it);
//! cancelling a token cancels its whole subtree with one [`Cause`], and the
//! runtime wakes every task parked anywhere in that subtree. This crate holds
//! the data and the protocol; it has no I/O and no threads:
//!
//! - [`CancelToken`] / [`Cause`] / [`Cancelled`]: the tree, why it was
//!   cancelled (first cause wins, shared by the whole subtree), and the error
//!   await points return (also through [`std::io::Error`], under a kind std's
//!   retry loops do not retry).
//! - Deadlines as data: [`CancelToken::child_with_deadline`] stores
//!   `min(parent's, own)`; the I/O driver arms the timer.
//! - [`CancelToken::register_waker`]: how the runtime binds a parked task to
//!   its token (contract C8: registered, or sees the flag, never neither).
//! - The current-task context (internal): which task this thread is
//!   polling, so [`checkpoint`](fn@checkpoint), [`Cancellable`],
//!   [`current`] and [`is_cancelled`] need no `select!`. The executor
//!   enters it around each poll through [`rt_internal`], which is not API.
//! - [`shield`](fn@shield): a section (async cleanup) that does not
//!   observe the cancel.
//! - Drain, the advisory phase before a cancel: [`CancelToken::drain`]
//!   flows down the tree like a cancel, but no await point answers
//!   `Cancelled`; [`is_draining`] / [`draining`] observe it, inside shields
//!   too.
//! - [`with_token`](fn@with_token): run a future under an explicit token,
//!   with or without a runtime (the entry point of a user's loom model,
//!   docs/loom.md).
//!
//! ```text
//!            root  (Shutdown)                    cancel(root, cause):
//!           /    \                                 1. lock node, first cause wins
//!       server   metrics                           2. store cause, flag (Release)
//!       /    \       \                              3. take waiters + children, unlock
//!   conn#1  conn#2   flush (deadline = min(..))     4. wake waiters
//!     |                                             5. repeat below, inherited = true
//!   query
//! ```
//!
//! The protocol, its invariants and its lock order are documented beside the
//! code in `tree.rs`, and model-checked by the loom models in `src/tests/`.
//!
//! # Example
//!
//! ```
//! use std::task::{Context, Poll, Waker};
//! use std::future::Future;
//! use quell_cancel::{CancelToken, Cancelled, Cause, CauseKind};
//!
//! let server = CancelToken::new();
//! let conn = server.child();
//! let query = conn.child();
//!
//! // A future that resolves when `query` (or an ancestor) is cancelled.
//! let mut done = query.cancelled();
//! let mut cx = Context::from_waker(Waker::noop());
//! assert!(std::pin::Pin::new(&mut done).poll(&mut cx).is_pending());
//!
//! // Cancel the connection: the query below it sees the same cause.
//! assert!(conn.cancel(Cause::explicit("client went away")));
//! assert!(!server.is_cancelled());
//! match std::pin::Pin::new(&mut done).poll(&mut cx) {
//!     Poll::Ready(c) => {
//!         assert!(c.is_inherited());
//!         assert_eq!(c.cause().kind(), &CauseKind::Explicit);
//!         assert!(c.cause().same(&conn.cause().unwrap()));
//!         // Through io::Error and back:
//!         let io: std::io::Error = c.into();
//!         assert!(Cancelled::is_cancelled_io(&io));
//!     }
//!     Poll::Pending => unreachable!(),
//! }
//! ```
#![deny(unsafe_op_in_unsafe_fn)]

pub(crate) mod loom;

mod cause;
mod checkpoint;
mod context;
mod drain;
mod dump;
mod error;
mod guard;
mod node_ref;
#[doc(hidden)]
pub mod rt_internal;
mod shield;
mod token;
mod tree;
mod wait;
mod waiters;
mod with_token;

#[cfg(test)]
mod tests;

pub use cause::{Cause, CauseKind};
pub use checkpoint::{checkpoint, current, is_cancelled, Cancellable, CancellableExt, Checkpoint};
pub use drain::{draining, is_draining};
pub use error::Cancelled;
pub use guard::DropGuard;
pub use shield::{shield, Shield};
pub use token::{CancelToken, WaitForCancel, WaitForDrain, WaiterKey};
pub use with_token::{with_token, WithToken};
