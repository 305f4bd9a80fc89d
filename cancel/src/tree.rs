//! The node of the cancellation tree and its protocol.
//!
//! A [`Node`] is one allocation with two counts in one word (`node_ref.rs`):
//! its [`CancelToken`](crate::CancelToken) handles, and the refs of the
//! tree's links: each child holds one to its parent, and the parent holds
//! one to each linked child (so a cancel can walk down).
//!
//! # Invariants
//!
//! 1. `cancelled` is `false` until the first cancel (a born-cancelled node,
//!    2., starts `true` before it is shared); it is set exactly once,
//!    with `Release`, while the node's lock is held and *after* `cause` was
//!    written. Once set, it never clears. `inner.cause.is_some()` ⇔
//!    `cancelled` for anyone holding the lock.
//! 2. A child is linked into a parent's `children` only while the parent's
//!    lock is held *and* the parent is not cancelled (by `new_child`, or by
//!    a splice, 6.). Otherwise a new child is born cancelled with the
//!    parent's cause (`inherited = true`) and is not linked. Hence a child
//!    created concurrently with a parent's cancel either is in the set the
//!    canceller takes, or sees the parent cancelled under the same lock.
//! 3. Cancelling a node takes (empties) its `children` and `waiters` under
//!    the lock; afterwards both stay empty forever (2. and 4. refuse new
//!    entries). The taken children keep their `parent` (ancestry, see
//!    [`CancelToken::is_ancestor_of`](crate::CancelToken::is_ancestor_of))
//!    and a stale `slot`: a stale `remove` is a harmless no-op, keys carry a
//!    generation unique within their list (`waiters::Key`).
//! 4. `register_waker` inserts a waker only under the lock and only if the
//!    node is not cancelled (contract C8); otherwise it returns `None`. Every
//!    inserted waker is either removed by `deregister_waker`, taken by the
//!    cancel and woken exactly once, or dropped unwoken once the node has no
//!    handle left (whoever registered it let go of the token, so could not
//!    deregister either) — never two of these.
//! 5. `parent` and `slot` of a node are written only under the node's own
//!    lock *and* the lock of the parent it leaves or joins. A node linked in
//!    `p.children` under `slot` has `parent == p`.
//! 6. **Splice.** When the last handle of a node `n` drops (the handle count
//!    reaches 0, exactly once: nothing can create a handle without one), nobody can
//!    cancel `n` itself any more, so it leaves the tree, under the locks of
//!    its parent `p` and `n` (and, one at a time, each child's):
//!    - `n` linked in an uncancelled `p`: `n`'s children move to
//!      `p.children` (their `parent` and `slot` updated, 5.), and `n` is
//!      unlinked. A cancel of `p` or above reaches them directly, with the
//!      same cause `n` would have passed on; their deadlines were fixed at
//!      creation. A chain of tasks each spawning the next keeps O(1) nodes.
//!    - `p` cancelled: nothing to do. The walk that cancelled `p` took `n`
//!      (or `n` was cancelled before and its children were taken, 3.), and
//!      cancels `n` and takes its children when it gets to it.
//!    - no parent (a root): nobody can cancel `n` or its children through
//!      it any more. The children are disconnected (`parent = None`, no
//!      slot; they become roots), and `n` keeps none, so no reference cycle.
//!
//!    A node whose handles are gone is never revived (creating a child or
//!    cloning needs a handle). Its waiters are dropped unwoken (4.).
//! 7. **Age order.** A node is younger than every node that is or was its
//!    parent (true at creation; a splice moves a child to its grandparent,
//!    older still). This is the lock order, below.
//!
//! 8. **Drain** (advisory, before cancel). `draining` is `false` until the
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
//!    still linked unless born cancelled (a later cancel must reach it).
//!    A splice (6.) that moves children into a draining parent drains each
//!    moved child that is not draining yet, with the parent's drain cause,
//!    once the locks are released: the parent's drain walk may have taken
//!    its snapshot of the children before they arrived. Drain waiters
//!    share the `waiters` list, tagged: a drain takes the tagged ones, a
//!    cancel takes all; their registration follows invariant 4 with
//!    "draining" for "cancelled".
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
//!    are born draining, children spliced in since are drained by the
//!    splice).
//!
//! # Cancel protocol (for `cancel(node, cause)`)
//!
//! 1. Lock `node`. If already cancelled, unlock and return `false` (first
//!    cause wins).
//! 2. Store `cause` and the `inherited` flag, then set `cancelled` (Release).
//! 3. Take the waiters and the children out of the node; unlock.
//! 4. Wake the waiters, each inside `catch_unwind` (a panicking waker is
//!    ignored: it must not stop the canceller). All the wakes of one
//!    cancel (steps 1–5) form one `waiters::WakeBatch`: from the second
//!    wake on, the runtime queues the woken tasks in wake order and
//!    notifies its other workers once, when the walk is over.
//! 5. Repeat 1–4 for every taken child, with `inherited = true` and the same
//!    `Cause` (a clone of one `Arc`), using an explicit stack (no recursion,
//!    so deep trees can't overflow the stack). A child that was already
//!    cancelled stops the walk below it: its subtree was cancelled by it.
//!
//! # Deadlock safety
//!
//! Locks are taken parent before child (older before younger, invariant 7);
//! the cancel walk, `new_child` and the waiter operations hold one lock at a
//! time. A splice finds the parent under the node's lock, so it `try_lock`s
//! the parent; if that fails it unlocks the node, locks the parent, then
//! the node, and re-checks that the parent did not change meanwhile (a
//! splice above moved the node), retrying if it did — each retry follows a
//! splice that brought the node closer to its root, so it ends. Wakers are
//! woken and refs that may be the last dropped only with no lock held.
//! User code (waker `clone`) runs under a lock only in `update_waker`
//! (`register_waker` clones before locking), and a waker's `clone` must not
//! call back into a token (the same rule as every `Waker` holder);
//! poisoning is tolerated.

use std::panic::Location;
#[cfg(not(loom))]
use std::sync::TryLockError;
use std::task::Waker;
use std::time::Instant;

use crate::loom::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::loom::{Mutex, MutexGuard};
use crate::node_ref::{HandleRef, NodeRef, HANDLE};
use crate::waiters::{self, Key, Taken, WaiterList, WakeBatch};
use crate::{Cancelled, Cause, WaiterKey};

/// One node of the cancellation tree.
pub(crate) struct Node {
    /// Invariant 1. Read with one `Acquire` load on the hot path.
    cancelled: AtomicBool,
    /// Invariant 8: drained or cancelled. One `Acquire` load.
    draining: AtomicBool,
    /// Refs and handles (`node_ref.rs`, "The count word").
    pub(crate) count: AtomicU64,
    /// Effective deadline: `min(parent's, own)`, fixed at creation.
    deadline: Option<Instant>,
    /// Where the effective deadline was set (the caller of
    /// `child_with_deadline`, or of the scope that made it): what a
    /// deadline's timer names as the cancel's call site.
    deadline_site: Option<&'static Location<'static>>,
    inner: Mutex<Inner>,
    /// Under loom, a leak of a node fails the model.
    #[cfg(loom)]
    _track: loom::alloc::Track<()>,
}

struct Inner {
    cause: Option<Cause>,
    inherited: bool,
    /// When the originating cancel was requested (set with `cause`, shared
    /// by the whole subtree like the cause): what cancel-latency metrics
    /// and task listings measure "cancelled for how long" from.
    cancelled_at: Option<Instant>,
    /// Where the originating cancel was requested (set with `cause`,
    /// shared by the subtree like `cancelled_at`): the caller of
    /// `CancelToken::cancel` or of the runtime entry point that cancelled.
    cancelled_by: Option<&'static Location<'static>>,
    /// The address of the node the originating cancel was requested on
    /// ([`Node::id`]; this node's own for a cancel that is not inherited).
    origin: usize,
    /// Invariant 8.
    drain: Option<Cause>,
    /// The parent (invariant 5); `None` for a root or a disconnected node.
    parent: Option<NodeRef>,
    /// This node's key in `parent.children` (`None`: never linked, or
    /// disconnected; stale after the parent's cancel took it, 3.).
    slot: Option<Key>,
    children: Children,
    /// Woken on cancel; those of `List::Drain` also on drain (invariant 8).
    waiters: WaiterList<Waiter>,
}

/// A registered waker and what it waits for.
struct Waiter {
    waker: Waker,
    which: List,
}

impl Inner {
    /// Whether `which`'s event has happened (registration is refused).
    fn fired(&self, which: List) -> bool {
        match which {
            List::Cancel => self.cause.is_some(),
            List::Drain => self.drain.is_some(),
        }
    }
}

/// The originating cancel's time, call site and node, which every node of
/// the cancelled subtree records (`Node::cancel_one`).
#[derive(Clone, Copy)]
struct Stamp {
    at: Instant,
    by: &'static Location<'static>,
    origin: usize,
}

/// What a waiter of a node waits for: its cancel, or its drain (or cancel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum List {
    Cancel,
    Drain,
}

impl Node {
    fn alloc(
        parent: Option<NodeRef>,
        deadline: Option<Instant>,
        deadline_site: Option<&'static Location<'static>>,
    ) -> HandleRef {
        HandleRef::new(Node {
            cancelled: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            // One handle and the handles' ref (`node_ref.rs`, 1.).
            count: AtomicU64::new(HANDLE + 1),
            deadline,
            deadline_site,
            inner: Mutex::new(Inner {
                cause: None,
                inherited: false,
                cancelled_at: None,
                cancelled_by: None,
                origin: 0,
                drain: None,
                parent,
                slot: None,
                children: Children::new(),
                waiters: WaiterList::new(),
            }),
            #[cfg(loom)]
            _track: loom::alloc::Track::new(()),
        })
    }

    /// A fresh, uncancelled root with one handle.
    pub(crate) fn new_root() -> HandleRef {
        Node::alloc(None, None, None)
    }

    /// A child of `parent` (with one handle) whose effective deadline is
    /// `min(parent's, own)`; born cancelled if `parent` is cancelled
    /// (invariant 2), born draining if it is draining (invariant 8). The
    /// caller holds a handle of `parent`. `own` comes with where it was
    /// set, which becomes the deadline's site if it is the earlier one.
    pub(crate) fn new_child(
        parent: &NodeRef,
        own: Option<(Instant, &'static Location<'static>)>,
    ) -> HandleRef {
        let (deadline, site) = match (parent.deadline, own) {
            (Some(p), Some((o, _))) if p <= o => (Some(p), parent.deadline_site),
            (_, Some((o, at))) => (Some(o), Some(at)),
            (p, None) => (p, parent.deadline_site),
        };
        // Allocated before taking the parent's lock; not shared until it is
        // linked (or returned).
        let mut node = Node::alloc(Some(parent.clone()), deadline, site);
        let mut g = parent.lock();
        // SAFETY: `node` was just created; nothing else refers to it until
        // the push below, after which `fresh` is no longer used.
        let fresh = unsafe { node.get_mut_unshared() };
        let inner = fresh.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        // Invariant 8: the parent's drain cause, read under its lock. Born
        // draining (or cancelled): whatever shares the token publishes it.
        if let Some(drain) = g.drain.clone() {
            inner.drain = Some(drain);
            fresh.draining = AtomicBool::new(true);
        }
        if let Some(cause) = g.cause.clone() {
            let (at, by, origin) = (g.cancelled_at, g.cancelled_by, g.origin);
            drop(g);
            inner.cause = Some(cause);
            inner.inherited = true;
            inner.cancelled_at = at;
            inner.cancelled_by = by;
            inner.origin = origin;
            // Born cancelled: whatever shares the token publishes this.
            fresh.cancelled = AtomicBool::new(true);
            return node;
        }
        // Invariant 2: linked under the parent's lock, parent uncancelled.
        let slot = g.children.vacant_key();
        inner.slot = Some(slot);
        let got = g.children.push(node.node().clone());
        debug_assert_eq!(got, slot);
        drop(g);
        node
    }

    /// The parent's ref, taken out of a node being freed (`node_ref.rs`).
    pub(crate) fn take_parent(&mut self) -> Option<NodeRef> {
        self.inner
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .parent
            .take()
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

    /// Where the effective deadline was set.
    pub(crate) fn deadline_site(&self) -> Option<&'static Location<'static>> {
        self.deadline_site
    }

    /// The parent node, if any (a clone, read under the lock).
    pub(crate) fn parent(&self) -> Option<NodeRef> {
        self.lock().parent.clone()
    }

    /// One `Acquire` load. Pairs with the `Release` store in `cancel_one`
    /// (step 2), so whoever sees `true` also sees everything the canceller did
    /// before cancelling (its own writes, and the cause). With `Relaxed`, a
    /// task that saw the flag could read state its canceller set up before
    /// cancelling and find it stale.
    #[inline]
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

    /// When the originating cancel was requested, if cancelled.
    pub(crate) fn cancelled_at(&self) -> Option<Instant> {
        if !self.is_cancelled() {
            return None;
        }
        self.lock().cancelled_at
    }

    /// Where the originating cancel was requested, if cancelled.
    pub(crate) fn cancelled_by(&self) -> Option<&'static Location<'static>> {
        if !self.is_cancelled() {
            return None;
        }
        self.lock().cancelled_by
    }

    /// The node's identity: its address, unique among live nodes (task
    /// dumps name scopes by it).
    pub(crate) fn id(&self) -> usize {
        self as *const Node as usize
    }

    /// What a task dump shows of this node, read under its lock once, and
    /// a ref of its parent.
    pub(crate) fn info(&self) -> (crate::dump::NodeInfo, Option<NodeRef>) {
        let g = self.lock();
        let info = crate::dump::NodeInfo {
            id: self.id(),
            parent: g.parent.as_ref().map(|p| p.id()),
            cancelled: g.cause.clone().map(|cause| crate::dump::CancelInfo {
                cause,
                inherited: g.inherited,
                at: g.cancelled_at,
                by: g.cancelled_by,
                origin: g.origin,
            }),
            drain: g.drain.clone(),
            deadline: self.deadline,
        };
        (info, g.parent.clone())
    }

    /// Whether the node is draining (drained or cancelled, invariant 8).
    /// One `Acquire` load; pairs with the `Release` stores in `drain_one`
    /// and `cancel_one`, so whoever sees `true` also sees what the drainer
    /// did before draining (as for `is_cancelled`).
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// The drain cause, if draining (invariant 8: stable once `Some`).
    pub(crate) fn drain_cause(&self) -> Option<Cause> {
        if !self.is_draining() {
            return None;
        }
        self.lock().drain.clone()
    }

    /// Number of children linked to this node (tests, leak checks).
    pub(crate) fn child_count(&self) -> usize {
        self.lock().children.len()
    }

    /// The last handle of `node` dropped (`node_ref.rs`): splice it out
    /// (invariant 6).
    pub(crate) fn last_handle_dropped(node: &NodeRef) {
        let (garbage, to_drain) = Node::with_node_and_parent(node, |n, p| Node::splice(node, n, p));
        // Dropped with no lock held: children refs, waiters, our unlink.
        drop(garbage);
        // Invariant 8: children moved into a draining parent.
        if let Some((cause, children)) = to_drain {
            for child in children {
                Node::drain(&child, cause.clone());
            }
        }
    }

    /// Invariant 6, with `n` (the node's inner) and its parent locked.
    /// Returns what must be dropped after unlocking, and the moved children
    /// to drain with the parent's drain cause then (invariant 8).
    fn splice(
        node: &NodeRef,
        n: &mut Inner,
        p: Option<(&NodeRef, &mut Inner)>,
    ) -> (Garbage, Option<ToDrain>) {
        let mut garbage: Garbage = (n.waiters.take_all(), Vec::new(), None);
        let mut to_drain = None;
        match p {
            Some((parent, pg)) => {
                if pg.cause.is_some() {
                    // The parent's cancel walk owns our children (6., case 2).
                    return (garbage, None);
                }
                let linked = n
                    .slot
                    .and_then(|s| pg.children.get(s))
                    .is_some_and(|c| NodeRef::ptr_eq(c, node));
                debug_assert!(linked, "a node under an uncancelled parent is linked");
                if !linked {
                    return (garbage, None);
                }
                // Unlinked first, so that a moved child can take the slot we
                // leave (most nodes have one child: the parent's inline slot).
                garbage.2 = n.slot.take().and_then(|s| pg.children.remove(s));
                let mut undrained = Vec::new();
                for child in n.children.take_all() {
                    {
                        // Parent, node, child: age order (invariant 7).
                        let mut cg = child.lock();
                        cg.slot = Some(pg.children.vacant_key());
                        // The old value is a ref of `node`: not the last
                        // (the caller holds one), so dropping it here is a
                        // plain decrement.
                        drop(cg.parent.replace(parent.clone()));
                        if pg.drain.is_some() && cg.drain.is_none() {
                            undrained.push(child.clone());
                        }
                    }
                    pg.children.push(child);
                }
                if let Some(cause) = pg.drain.clone().filter(|_| !undrained.is_empty()) {
                    to_drain = Some((cause, undrained));
                }
            }
            None => {
                for child in n.children.take_all() {
                    let mut cg = child.lock();
                    cg.slot = None;
                    drop(cg.parent.take()); // a ref of `node`, not the last
                    drop(cg);
                    garbage.1.push(child);
                }
            }
        }
        (garbage, to_drain)
    }

    /// Locks `node` and its current parent (parent first, see "Deadlock
    /// safety") and calls `f` with both.
    fn with_node_and_parent<R>(
        node: &NodeRef,
        f: impl FnOnce(&mut Inner, Option<(&NodeRef, &mut Inner)>) -> R,
    ) -> R {
        let mut g = node.lock();
        loop {
            let Some(parent) = g.parent.clone() else {
                return f(&mut g, None);
            };
            let mut pg = match try_lock(&parent.inner) {
                Some(pg) => pg,
                None => {
                    drop(g);
                    let pg = parent.lock();
                    g = node.lock();
                    pg
                }
            };
            let same = g
                .parent
                .as_ref()
                .is_some_and(|p| NodeRef::ptr_eq(p, &parent));
            if same {
                return f(&mut g, Some((&parent, &mut pg)));
            }
            // Moved by a splice above while unlocked: retry with the new
            // parent (closer to the root).
        }
    }

    /// Contract C8 / invariant 4 (invariant 8 for a drain waiter).
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
        let key = g.waiters.push_back(Waiter {
            waker: clone,
            which,
        });
        Some(WaiterKey {
            slot: key.index(),
            generation: key.generation(),
        })
    }

    /// Removes the waker registered under `key`, if the cancel did not take
    /// it already; returns whether it removed it. The waker is dropped after
    /// the lock is released.
    pub(crate) fn deregister_waker(&self, key: WaiterKey) -> bool {
        let removed = self
            .lock()
            .waiters
            .remove(Key::from_parts(key.slot, key.generation));
        removed.is_some()
    }

    /// Replaces the waker under `key` with `waker` unless it would wake the
    /// same task. Returns `false` if the key is no longer registered (the
    /// cancel took it: the caller was or is being woken).
    pub(crate) fn update_waker(&self, key: WaiterKey, waker: &Waker) -> bool {
        let mut g = self.lock();
        match g.waiters.get_mut(Key::from_parts(key.slot, key.generation)) {
            Some(Waiter { waker: w, .. }) => {
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

    /// Cancels `node` and its subtree (protocol steps 1–5). Returns `true`
    /// if this call cancelled `node` itself.
    pub(crate) fn cancel(node: &NodeRef, cause: Cause, by: &'static Location<'static>) -> bool {
        // Every wake of the walk is one batch (closed when it drops, after
        // the walk): the runtime queues the woken tasks and notifies once.
        let mut batch = WakeBatch::new();
        let Some((children, drain, at)) =
            node.cancel_one(&cause, false, &cause, Err(by), &mut batch)
        else {
            return false;
        };
        // Each child with the drain cause of the parent it is reached from
        // (invariant 8).
        let mut stack: Vec<(NodeRef, Cause)> = children.map(|c| (c, drain.clone())).collect();
        while let Some((child, parent_drain)) = stack.pop() {
            if let Some((grandchildren, drain, _)) =
                child.cancel_one(&cause, true, &parent_drain, Ok(at), &mut batch)
            {
                stack.extend(grandchildren.map(|c| (c, drain.clone())));
            }
            // `child` dropped here, no lock held.
        }
        true
    }

    /// Steps 1–4 for one node; `None` if it was already cancelled. Returns
    /// the taken children, the node's drain cause (set to `drain` if it
    /// was not draining, invariant 8) and the cancel's stamp: `at` (from
    /// the originating node), or for the originating node (`at == Err(by)`,
    /// the cancel's call site) now, read once per cancel that wins (one
    /// clock read; the walk below it reuses it), with `by` and this node.
    fn cancel_one(
        &self,
        cause: &Cause,
        inherited: bool,
        drain: &Cause,
        at: Result<Stamp, &'static Location<'static>>,
        batch: &mut WakeBatch,
    ) -> Option<(TakenChildren, Cause, Stamp)> {
        let (waiters, children, drain, at) = {
            let mut g = self.lock();
            if g.cause.is_some() {
                return None;
            }
            let at = at.unwrap_or_else(|by| Stamp {
                at: Instant::now(),
                by,
                origin: self.id(),
            });
            g.cause = Some(cause.clone());
            g.inherited = inherited;
            g.cancelled_at = Some(at.at);
            g.cancelled_by = Some(at.by);
            g.origin = at.origin;
            let drain = g.drain.get_or_insert_with(|| drain.clone()).clone();
            // Release: pairs with the Acquire load in `is_cancelled`; the
            // cause (and the canceller's earlier writes) happen-before any
            // observer that sees `true`.
            self.cancelled.store(true, Ordering::Release);
            // Release: pairs with the Acquire load in `is_draining` (the
            // drain cause just written is visible to whoever sees `true`).
            self.draining.store(true, Ordering::Release);
            (g.waiters.take_all(), g.children.take_all(), drain, at)
        };
        // Step 4: a panicking waker is ignored (contained by the helper).
        batch.wake_all(waiters.into_iter().map(|w| w.waker));
        Some((children, drain, at))
    }

    /// Drains `node` and its subtree (drain protocol steps 1–5). Returns
    /// `true` if this call started the drain of `node` itself.
    pub(crate) fn drain(node: &NodeRef, cause: Cause) -> bool {
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
    fn drain_one(&self, cause: &Cause) -> Option<Vec<NodeRef>> {
        let (waiters, children) = {
            let mut g = self.lock();
            if g.drain.is_some() {
                return None;
            }
            // A cancelled node always has its drain cause (invariant 8).
            debug_assert!(g.cause.is_none());
            g.drain = Some(cause.clone());
            // Release: pairs with the Acquire load in `is_draining`.
            self.draining.store(true, Ordering::Release);
            let children: Vec<NodeRef> = g.children.iter().cloned().collect();
            let waiters = g.waiters.extract_if(|w| w.which == List::Drain);
            (waiters, children)
        };
        waiters::wake_all(waiters.into_iter().map(|w| w.waker));
        Some(children)
    }
}

/// `Mutex::try_lock`, ignoring poisoning (as `waiters::lock`); `None` if
/// the lock is held. Under loom always `None`: loom reports a false
/// deadlock when a `try_lock` races a `lock` of the same mutex
/// (tokio-rs/loom#376), so the models check the unlock–lock–recheck path,
/// the one with the window.
fn try_lock(m: &Mutex<Inner>) -> Option<MutexGuard<'_, Inner>> {
    #[cfg(loom)]
    {
        let _ = m;
        None
    }
    #[cfg(not(loom))]
    match m.try_lock() {
        Ok(g) => Some(g),
        Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Children a splice moved into a draining parent, with its drain cause:
/// drained once the locks are released (invariant 8).
type ToDrain = (Cause, Vec<NodeRef>);

/// What a splice leaves to drop once its locks are released: the waiters
/// (dropped unwoken, invariant 4), disconnected children, and the parent's
/// link to the node.
type Garbage = (Taken<Waiter>, Vec<NodeRef>, Option<NodeRef>);

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("cancelled", &self.is_cancelled())
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// A node's linked children. The first is stored inline: most nodes that
/// have children have one (a task's node and the task it spawned, a chain
/// of spawns), and linking it then allocates nothing. Keys of the inline
/// entry use the index [`INLINE`] and their own generation counter, so
/// they never match a key of `rest` nor an earlier inline entry.
struct Children {
    first: Option<NodeRef>,
    /// The generation the next inline entry gets.
    first_generation: u64,
    rest: WaiterList<NodeRef>,
}

/// The slot index of the inline child's keys.
const INLINE: usize = usize::MAX;

/// Children taken out of a node, to walk or drop with no lock held.
type TakenChildren =
    std::iter::Chain<std::option::IntoIter<NodeRef>, <Taken<NodeRef> as IntoIterator>::IntoIter>;

impl Children {
    const fn new() -> Children {
        Children {
            first: None,
            first_generation: 0,
            rest: WaiterList::new(),
        }
    }

    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// The key the next [`push`](Self::push) returns.
    fn vacant_key(&self) -> Key {
        match self.first {
            None => Key::from_parts(INLINE, self.first_generation),
            Some(_) => self.rest.vacant_key(),
        }
    }

    fn push(&mut self, child: NodeRef) -> Key {
        if self.first.is_some() {
            return self.rest.push_back(child);
        }
        let key = Key::from_parts(INLINE, self.first_generation);
        self.first = Some(child);
        self.first_generation += 1;
        key
    }

    /// Whether `key` is the inline entry's, and that entry is still there.
    fn inline_live(&self, key: Key) -> bool {
        key.index() == INLINE
            && self.first.is_some()
            && key.generation() + 1 == self.first_generation
    }

    fn get(&self, key: Key) -> Option<&NodeRef> {
        if key.index() != INLINE {
            return self.rest.get(key);
        }
        self.first.as_ref().filter(|_| self.inline_live(key))
    }

    fn remove(&mut self, key: Key) -> Option<NodeRef> {
        if key.index() != INLINE {
            return self.rest.remove(key);
        }
        if self.inline_live(key) {
            self.first.take()
        } else {
            None
        }
    }

    /// The linked children, inline one first.
    fn iter(&self) -> impl Iterator<Item = &NodeRef> {
        self.first.iter().chain(self.rest.iter())
    }

    /// Removes every child; their keys never match again.
    fn take_all(&mut self) -> TakenChildren {
        self.first.take().into_iter().chain(self.rest.take_all())
    }
}
