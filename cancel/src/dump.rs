//! What a task dump reads of the cancel tree: one node's state
//! ([`NodeInfo`]) and the walk from a token up to its root
//! ([`walk_up`]). Runtime-internal, reached through
//! [`rt_internal::dump`](crate::rt_internal::dump).

use std::panic::Location;
use std::time::Instant;

use crate::{CancelToken, Cause};

/// One node of the cancel tree as a dump shows it.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// The node's identity (its address, unique among live nodes).
    pub id: usize,
    /// Its parent's identity; `None` for a root or a disconnected node.
    pub parent: Option<usize>,
    /// Its cancellation, if cancelled.
    pub cancelled: Option<CancelInfo>,
    /// Its drain cause, if drained (or cancelled).
    pub drain: Option<Cause>,
    /// Its effective deadline.
    pub deadline: Option<Instant>,
}

/// A node's cancellation.
#[derive(Clone, Debug)]
pub struct CancelInfo {
    /// The originating cause.
    pub cause: Cause,
    /// Reached from an ancestor.
    pub inherited: bool,
    /// When the originating cancel was requested.
    pub at: Option<Instant>,
    /// Where it was requested.
    pub by: Option<&'static Location<'static>>,
    /// The identity of the node it was requested on.
    pub origin: usize,
}

/// The identity of `token`'s node ([`NodeInfo::id`]).
pub fn token_id(token: &CancelToken) -> usize {
    token.node().id()
}

/// The state of `token`'s node.
pub fn info(token: &CancelToken) -> NodeInfo {
    token.node().info().0
}

/// Calls `emit` with `token`'s node and each of its ancestors, nearest
/// first, stopping before the first node for which `seen` answers `true`
/// (a caller that marks what it emitted walks each node once). Takes each
/// node's lock once, one at a time; holds a ref of the node it reads, so
/// a node dropped meanwhile is never read after it is freed.
pub fn walk_up(
    token: &CancelToken,
    seen: &mut dyn FnMut(usize) -> bool,
    emit: &mut dyn FnMut(NodeInfo),
) {
    let mut cur = token.node().clone();
    loop {
        if seen(cur.id()) {
            return;
        }
        let (info, parent) = cur.info();
        emit(info);
        match parent {
            Some(p) => cur = p,
            None => return,
        }
    }
}
