//! The node of the cancellation tree and its protocol.
//!
//! A [`Node`] is shared through `Arc`s: its [`CancelToken`](crate::CancelToken)
//! handle holds one, each child holds one to its parent, and the parent holds
//! one to each live, uncancelled child (so a cancel can walk down).
//!
//! # Invariants
//!
//! 1. `cancelled` is `false` until the first cancel (a born-cancelled node,
//!    2., starts `true` before it is shared); it is set exactly once,
//!    with `Release`, while the node's lock is held and *after* `cause` was
//!    written. Once set, it never clears. `inner.cause.is_some()` ⇔
//!    `cancelled` for anyone holding the lock.
//! 2. A child is registered in its parent's `children` only while the
//!    parent's lock is held *and* the parent is not cancelled. Otherwise the
//!    child is born cancelled with the parent's cause (`inherited = true`) and
//!    is not registered (`slot == None`). Hence a child created concurrently
//!    with a parent's cancel either is in the set the canceller takes, or
//!    sees the parent cancelled under the same lock.
//! 3. Cancelling a node takes (empties) its `children` and `waiters` under the
//!    lock; afterwards both stay empty forever (2. and 4. refuse new entries).
//!    A stale `remove`/`deregister` is a harmless no-op: keys carry a
//!    generation unique within their list (`waiters::Key`).
//! 4. `register_waker` inserts a waker only under the lock and only if the
//!    node is not cancelled (contract C8); otherwise it returns `None`. Every
//!    inserted waker is either removed by `deregister_waker` or taken by the
//!    cancel and woken exactly once, never both.
//! 5. Before the first cancel, the slot `node.slot` in the parent's
//!    `children` holds this node and only this node removes it.
//! 6. A node is *dead* when its handle is gone (`handle_alive == false`) and
//!    it has no children. A node becomes dead at most once, under its lock,
//!    by (a) the last token clone dropping, (b) the last child unlinking, or
//!    (c) a cancel taking its children. In cases (a) and (b) the one who made
//!    it dead unlinks it from its parent (and continues upwards if that makes
//!    the parent dead). Case (c) only happens to a node whose handle is gone,
//!    i.e. one cancelled by inheritance, whose parent was cancelled first and
//!    so already dropped the link (3.): nothing to unlink. Nobody can revive a
//!    dead node (creating a child or cloning needs a handle), so no parent
//!    keeps a link to a node nobody can reach: no leak. Waiters still
//!    registered on a dead node are dropped with it, unwoken (whoever
//!    registered them let go of the token, so could not deregister either).
//!
//! 7. **Drain** (advisory, before cancel). `draining` is `false` until the
//!    first drain or cancel of the node; it is set exactly once, with
//!    `Release`, under the node's lock, *after* `drain` was written, and
//!    never clears: `inner.drain.is_some()` ⇔ `draining` under the lock.
//!    A cancel implies a drain: `cancel_one` sets `drain` too if it is
//!    unset. `drain` is written once (by whichever of drain/cancel reaches
//!    the node first, or at birth) and never changes, so the drain cause
//!    anyone observes is stable. Its value is: a drain's cause; for a node
//!    first reached by a cancel walk, the drain cause of the parent it was
//!    reached from (so a cancel racing a drain down a subtree cannot give a
//!    descendant another drain cause than its ancestor); else the cancel's
//!    cause. A child of a draining parent is born draining with the parent's
//!    drain cause (checked under the parent's lock, as invariant 2) and is
//!    still registered in `children` unless born cancelled (a later cancel
//!    must reach it). `drain_waiters` follows invariant 4 with "draining"
//!    for "cancelled"; a cancel takes them too.
//!
//! # Drain protocol (for `drain(node, cause)`)
//!
//! 1. Lock `node`. If it is already draining (drained or cancelled),
//!    unlock and return `false` (first drain cause wins).
//! 2. Store `cause` in `drain`, then set `draining` (Release).
//! 3. Take the drain waiters and *clone* the children list (a drain does not
//!    unlink: the children stay for a later cancel); unlock.
//! 4. Wake the drain waiters (as cancel step 4).
//! 5. Repeat 1–4 for every child with the same cause, explicit stack. A
//!    child already draining stops the walk below it (its own drain or a
//!    cancel covered, or is covering, its subtree; children created since
//!    are born draining).
//!
//! # Cancel protocol (for `cancel(node, cause)`)
//!
//! 1. Lock `node`. If already cancelled, unlock and return `false` (first
//!    cause wins).
//! 2. Store `cause` and the `inherited` flag, then set `cancelled` (Release).
//! 3. Take the waiters and the children out of the node; unlock.
//! 4. Wake the waiters through `waiters::wake_all`, each inside
//!    `catch_unwind` (a panicking waker is ignored: it must not stop the
//!    canceller).
//! 5. Repeat 1–4 for every taken child, with `inherited = true` and the same
//!    `Cause` (a clone of one `Arc`), using an explicit stack (no recursion,
//!    so deep trees can't overflow the stack). A child that was already
//!    cancelled stops the walk below it: its subtree was cancelled by it.
//!
//! # Deadlock safety
//!
//! **At most one node lock is held at any time.** The cancel walk releases a
//! node's lock before taking a child's; `child()` locks only the parent (the
//! child is not yet shared); unlinking releases the child's lock before taking
//! the parent's; wakers are woken and `Arc`s dropped (which may free a node)
//! only with no lock held. User code (waker `clone`) runs under a lock only in
//! `update_waker` (`register_waker` clones before locking), and a waker's
//! `clone` must not call back into a token (the same rule as every `Waker`
//! holder); poisoning is tolerated.

use std::task::Waker;
use std::time::Instant;

use crate::loom::atomic::{AtomicBool, Ordering};
use crate::loom::{Arc, Mutex, MutexGuard};
use crate::waiters::{self, Key, WaiterList};
use crate::{Cancelled, Cause, WaiterKey};

/// One node of the cancellation tree.
pub(crate) struct Node {
    /// Invariant 1. Read with one `Acquire` load on the hot path.
    cancelled: AtomicBool,
    /// Invariant 7: drained or cancelled. One `Acquire` load.
    draining: AtomicBool,
    /// Effective deadline: `min(parent's, own)`, fixed at creation.
    deadline: Option<Instant>,
    /// The parent, kept alive by this node (`None` for a root).
    parent: Option<Arc<Node>>,
    /// This node's key in `parent.children` (`None`: root or born cancelled).
    slot: Option<Key>,
    inner: Mutex<Inner>,
}

struct Inner {
    cause: Option<Cause>,
    inherited: bool,
    /// Invariant 7.
    drain: Option<Cause>,
    children: WaiterList<Arc<Node>>,
    waiters: WaiterList<Waker>,
    /// Woken on drain or cancel (invariant 7).
    drain_waiters: WaiterList<Waker>,
    /// Whether the (single) handle object of this node still exists.
    handle_alive: bool,
}

impl Inner {
    fn new(cause: Option<Cause>, inherited: bool, drain: Option<Cause>) -> Inner {
        Inner {
            cause,
            inherited,
            drain,
            children: WaiterList::new(),
            waiters: WaiterList::new(),
            drain_waiters: WaiterList::new(),
            handle_alive: true,
        }
    }

    fn list(&mut self, which: List) -> &mut WaiterList<Waker> {
        match which {
            List::Cancel => &mut self.waiters,
            List::Drain => &mut self.drain_waiters,
        }
    }

    /// Whether `which`'s event has happened (registration is refused).
    fn fired(&self, which: List) -> bool {
        match which {
            List::Cancel => self.cause.is_some(),
            List::Drain => self.drain.is_some(),
        }
    }
}

/// Which waiter list of a node: woken on cancel, or on drain (or cancel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum List {
    Cancel,
    Drain,
}

impl Node {
    /// A fresh, uncancelled root.
    pub(crate) fn new_root() -> Arc<Node> {
        Arc::new(Node {
            cancelled: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            deadline: None,
            parent: None,
            slot: None,
            inner: Mutex::new(Inner::new(None, false, None)),
        })
    }

    /// A child of `parent` whose effective deadline is `min(parent's, own)`;
    /// born cancelled if `parent` is cancelled (invariant 2), born draining
    /// if it is draining (invariant 7).
    pub(crate) fn new_child(parent: &Arc<Node>, own: Option<Instant>) -> Arc<Node> {
        let deadline = match (parent.deadline, own) {
            (Some(p), Some(o)) => Some(p.min(o)),
            (p, o) => p.or(o),
        };
        let mut g = parent.lock();
        // Invariant 7: the parent's drain cause, read under its lock.
        let drain = g.drain.clone();
        if let Some(cause) = g.cause.clone() {
            drop(g);
            return Arc::new(Node {
                // Born cancelled (and draining): the node is not shared
                // yet, so the initial values are published by whatever
                // shares the `Arc`.
                cancelled: AtomicBool::new(true),
                draining: AtomicBool::new(true),
                deadline,
                parent: Some(parent.clone()),
                slot: None,
                inner: Mutex::new(Inner::new(Some(cause), true, drain)),
            });
        }
        // Invariant 2: registered under the parent's lock, parent uncancelled.
        let slot = g.children.vacant_key();
        let node = Arc::new(Node {
            cancelled: AtomicBool::new(false),
            // Not shared yet: published with the `Arc`, as above.
            draining: AtomicBool::new(drain.is_some()),
            deadline,
            parent: Some(parent.clone()),
            slot: Some(slot),
            inner: Mutex::new(Inner::new(None, false, drain)),
        });
        let got = g.children.push_back(node.clone());
        debug_assert_eq!(got, slot);
        drop(g);
        node
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic under the lock (only a user `Waker::clone` in
        // `update_waker` can) leaves `Inner` consistent: every update is a
        // single assignment.
        waiters::lock(&self.inner)
    }

    /// The effective deadline.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The parent node, if any.
    pub(crate) fn parent(&self) -> Option<&Arc<Node>> {
        self.parent.as_ref()
    }

    /// One `Acquire` load. Pairs with the `Release` store in `cancel_one`
    /// (step 2), so whoever sees `true` also sees everything the canceller did
    /// before cancelling (its own writes, and the cause). With `Relaxed`, a
    /// task that saw the flag could read state its canceller set up before
    /// cancelling and find it stale.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// The cause and inherited flag, if cancelled. Fast path: one load.
    pub(crate) fn cancelled_error(&self) -> Option<Cancelled> {
        if !self.is_cancelled() {
            return None;
        }
        let g = self.lock();
        g.cause.clone().map(|c| Cancelled::new(c, g.inherited))
    }

    /// Whether the node is draining (drained or cancelled, invariant 7).
    /// One `Acquire` load; pairs with the `Release` stores in `drain_one`
    /// and `cancel_one`, so whoever sees `true` also sees what the drainer
    /// did before draining (as for `is_cancelled`).
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// The drain cause, if draining (invariant 7: stable once `Some`).
    pub(crate) fn drain_cause(&self) -> Option<Cause> {
        if !self.is_draining() {
            return None;
        }
        self.lock().drain.clone()
    }

    /// Number of live children registered in this node (tests, leak checks).
    pub(crate) fn child_count(&self) -> usize {
        self.lock().children.len()
    }

    /// Contract C8 / invariant 4 (invariant 7 for the drain list).
    pub(crate) fn register_waker(&self, which: List, waker: &Waker) -> Option<WaiterKey> {
        // Cloned before locking (user code). If the node turns out to be
        // cancelled, the clone is dropped after the lock is released.
        let clone = waker.clone();
        let mut g = self.lock();
        if g.fired(which) {
            drop(g);
            drop(clone);
            return None;
        }
        let key = g.list(which).push_back(clone);
        Some(WaiterKey {
            slot: key.index(),
            generation: key.generation(),
        })
    }

    /// Removes the waker registered under `key`, if the cancel did not take
    /// it already; returns whether it removed it. The waker is dropped after
    /// the lock is released.
    pub(crate) fn deregister_waker(&self, which: List, key: WaiterKey) -> bool {
        let removed = self
            .lock()
            .list(which)
            .remove(Key::from_parts(key.slot, key.generation));
        removed.is_some()
    }

    /// Replaces the waker under `key` with `waker` unless it would wake the
    /// same task. Returns `false` if the key is no longer registered (the
    /// cancel took it: the caller was or is being woken).
    pub(crate) fn update_waker(&self, which: List, key: WaiterKey, waker: &Waker) -> bool {
        let mut g = self.lock();
        match g
            .list(which)
            .get_mut(Key::from_parts(key.slot, key.generation))
        {
            Some(w) => {
                if !w.will_wake(waker) {
                    let old = std::mem::replace(w, waker.clone());
                    drop(g);
                    drop(old);
                }
                true
            }
            _ => false,
        }
    }

    /// The handle object of `node` is gone: maybe unlink (invariant 6a).
    pub(crate) fn release_handle(node: &Arc<Node>) {
        let dead = {
            let mut g = node.lock();
            g.handle_alive = false;
            g.children.is_empty()
        };
        if dead {
            Node::unlink_upwards(node.clone());
        }
    }

    /// `node` just became dead: remove it from its parent, and continue with
    /// the parent if that made it dead (invariant 6b). No lock is held on
    /// entry; one at a time inside.
    fn unlink_upwards(mut node: Arc<Node>) {
        loop {
            let (Some(parent), Some(slot)) = (node.parent.clone(), node.slot) else {
                return;
            };
            let (removed, parent_dead) = {
                let mut g = parent.lock();
                let removed = g.children.remove(slot);
                if let Some(r) = &removed {
                    debug_assert!(Arc::ptr_eq(r, &node), "slot held another node");
                }
                // Only the removal that empties the parent makes it dead.
                let dead = removed.is_some() && !g.handle_alive && g.children.is_empty();
                (removed, dead)
            };
            // Dropped with no lock held: this may free `node`.
            drop(removed);
            if !parent_dead {
                return;
            }
            node = parent;
        }
    }

    /// Cancels `node` and its subtree (protocol steps 1–5). Returns `true`
    /// if this call cancelled `node` itself.
    pub(crate) fn cancel(node: &Arc<Node>, cause: Cause) -> bool {
        let Some((children, drain)) = node.cancel_one(&cause, false, &cause) else {
            return false;
        };
        // Each child with the drain cause of the parent it is reached from
        // (invariant 7).
        let mut stack: Vec<(Arc<Node>, Cause)> =
            children.into_iter().map(|c| (c, drain.clone())).collect();
        while let Some((child, parent_drain)) = stack.pop() {
            if let Some((grandchildren, drain)) = child.cancel_one(&cause, true, &parent_drain) {
                stack.extend(grandchildren.into_iter().map(|c| (c, drain.clone())));
            }
            // `child` dropped here, no lock held.
        }
        true
    }

    /// Steps 1–4 for one node; `None` if it was already cancelled. Returns
    /// the taken children and the node's drain cause (set to `drain` if it
    /// was not draining, invariant 7).
    fn cancel_one(
        &self,
        cause: &Cause,
        inherited: bool,
        drain: &Cause,
    ) -> Option<(Vec<Arc<Node>>, Cause)> {
        let (waiters, drain_waiters, children, drain) = {
            let mut g = self.lock();
            if g.cause.is_some() {
                return None;
            }
            g.cause = Some(cause.clone());
            g.inherited = inherited;
            let drain = g.drain.get_or_insert_with(|| drain.clone()).clone();
            // Release: pairs with the Acquire load in `is_cancelled`; the
            // cause (and the canceller's earlier writes) happen-before any
            // observer that sees `true`.
            self.cancelled.store(true, Ordering::Release);
            // Release: pairs with the Acquire load in `is_draining` (the
            // drain cause just written is visible to whoever sees `true`).
            self.draining.store(true, Ordering::Release);
            let waiters = g.waiters.take_all();
            let drain_waiters = g.drain_waiters.take_all();
            let children: Vec<Arc<Node>> = g.children.take_all().into_iter().collect();
            // Invariant 6c: becoming dead here needs nothing unlinked.
            debug_assert!(g.handle_alive || inherited || children.is_empty());
            (waiters, drain_waiters, children, drain)
        };
        // Step 4: a panicking waker is ignored (contained by the helper).
        waiters::wake_all(waiters);
        waiters::wake_all(drain_waiters);
        Some((children, drain))
    }

    /// Drains `node` and its subtree (drain protocol steps 1–5). Returns
    /// `true` if this call started the drain of `node` itself.
    pub(crate) fn drain(node: &Arc<Node>, cause: Cause) -> bool {
        let Some(mut stack) = node.drain_one(&cause) else {
            return false;
        };
        while let Some(child) = stack.pop() {
            if let Some(grandchildren) = child.drain_one(&cause) {
                stack.extend(grandchildren);
            }
            // `child` dropped here, no lock held.
        }
        true
    }

    /// Drain steps 1–4 for one node; `None` if it was already draining.
    fn drain_one(&self, cause: &Cause) -> Option<Vec<Arc<Node>>> {
        let (waiters, children) = {
            let mut g = self.lock();
            if g.drain.is_some() {
                return None;
            }
            // A cancelled node always has its drain cause (invariant 7).
            debug_assert!(g.cause.is_none());
            g.drain = Some(cause.clone());
            // Release: pairs with the Acquire load in `is_draining`.
            self.draining.store(true, Ordering::Release);
            let waiters = g.drain_waiters.take_all();
            let children: Vec<Arc<Node>> = g.children.iter().cloned().collect();
            (waiters, children)
        };
        waiters::wake_all(waiters);
        Some(children)
    }
}

impl Drop for Node {
    /// Frees a chain of ancestors iteratively: a node may hold the last
    /// reference to its parent, which may hold the last to its own, and a
    /// recursive drop of a deep chain would overflow the stack.
    fn drop(&mut self) {
        let mut next = self.parent.take();
        while let Some(parent) = next {
            match Arc::try_unwrap(parent) {
                // Last reference: detach its parent before it drops.
                Ok(mut node) => next = node.parent.take(),
                // Someone else still holds it; dropping ours is enough.
                Err(_) => return,
            }
        }
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("cancelled", &self.is_cancelled())
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}
