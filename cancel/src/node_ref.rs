//! The reference counts of a cancel-tree [`Node`]: an `Arc` whose count
//! word also counts the node's handles, so that cloning or dropping a
//! [`CancelToken`](crate::CancelToken) is one atomic operation.
//!
//! # The count word
//!
//! `count = refs + handles × HANDLE`. A [`NodeRef`] (the tree's internal
//! links: a child's parent, a parent's child entry, a cancel walk's stack)
//! is one `ref`. A [`HandleRef`] (what a token is) is one `HANDLE`, and all
//! handles *together* own one ref, as an `Arc`'s strong references
//! together own one weak reference: the last handle to go splices the node
//! out of the tree (tree.rs, invariant 6) and then drops that ref. The
//! memory is freed when the whole word reaches zero.
//!
//! 1. A node is allocated with `HANDLE + 1` (its first handle and the
//!    handles' ref).
//! 2. A handle is only created from a handle (`clone`), so the handle count
//!    never rises from zero: the last-handle transition happens once.
//! 3. A ref is only created from a ref or a handle, both of which keep the
//!    word above zero, so freeing happens once, after every other access.

use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;

use crate::loom::atomic::{fence, Ordering};
use crate::tree::Node;

/// One handle in the count word.
pub(crate) const HANDLE: u64 = 1 << 32;

/// A counted reference to a node (one `ref`).
pub(crate) struct NodeRef {
    ptr: NonNull<Node>,
}

// SAFETY: a `NodeRef` is an `Arc<Node>` in all but name (shared, counted
// access to a `Node`), and `Node` is `Send + Sync` (atomics, a `Mutex`,
// wakers and causes, all `Send + Sync`).
unsafe impl Send for NodeRef {}
// SAFETY: as above.
unsafe impl Sync for NodeRef {}

impl NodeRef {
    /// Whether `a` and `b` are the same node.
    pub(crate) fn ptr_eq(a: &NodeRef, b: &NodeRef) -> bool {
        a.ptr == b.ptr
    }
}

impl Deref for NodeRef {
    type Target = Node;

    #[inline]
    fn deref(&self) -> &Node {
        // SAFETY: our ref keeps the word above zero, so the node is not
        // freed while we exist (count word, 3.).
        unsafe { self.ptr.as_ref() }
    }
}

impl Clone for NodeRef {
    fn clone(&self) -> NodeRef {
        // Relaxed: our own ref keeps the word above zero, so this can't
        // race the free (as `Arc::clone`).
        self.count.fetch_add(1, Ordering::Relaxed);
        NodeRef { ptr: self.ptr }
    }
}

impl Drop for NodeRef {
    /// Drops the ref; the last one frees the node, and the parent's ref it
    /// held, iteratively (a chain of nodes each holding the last ref to its
    /// parent must not recurse).
    fn drop(&mut self) {
        let mut next = Some(self.ptr);
        while let Some(ptr) = next {
            // SAFETY: the ref we are dropping keeps the node alive until
            // this decrement.
            let node = unsafe { ptr.as_ref() };
            // Release, as `Arc`'s drop: our uses of the node happen before
            // the free; the fence below makes the freeing thread acquire
            // them all.
            if node.count.fetch_sub(1, Ordering::Release) != 1 {
                return;
            }
            // Acquire: pairs with the Release decrements of every other
            // ref and handle, so nothing they did is still in flight.
            fence(Ordering::Acquire);
            // SAFETY: the word reached zero: no ref or handle is left
            // (count word, 3.), so we own the allocation made by
            // `HandleRef::new`.
            let mut owned = unsafe { Box::from_raw(ptr.as_ptr()) };
            // The parent's ref: continue with it instead of recursing.
            next = owned.take_parent().map(|p| ManuallyDrop::new(p).ptr);
            drop(owned);
        }
    }
}

/// One handle of a node: what a [`CancelToken`](crate::CancelToken) is.
pub(crate) struct HandleRef {
    /// The ref all handles own together; dropped by the last handle.
    node: ManuallyDrop<NodeRef>,
}

impl HandleRef {
    /// Allocates `node` with its first handle. `node.count` must be
    /// `HANDLE + 1` (count word, 1.).
    pub(crate) fn new(node: Node) -> HandleRef {
        let ptr = NonNull::from(Box::leak(Box::new(node)));
        HandleRef {
            node: ManuallyDrop::new(NodeRef { ptr }),
        }
    }

    /// The node, as a ref to clone into the tree.
    #[inline]
    pub(crate) fn node(&self) -> &NodeRef {
        &self.node
    }

    /// The node, for filling in before it is shared.
    ///
    /// # Safety
    ///
    /// `self` was just created and nothing else refers to the node yet.
    pub(crate) unsafe fn get_mut_unshared(&mut self) -> &mut Node {
        // SAFETY: per the contract we hold the only reference.
        unsafe { self.node.ptr.as_mut() }
    }

    /// Number of handles (tests, the deadline scope's "still held" check).
    pub(crate) fn handle_count(&self) -> usize {
        // Acquire: pairs with the Release decrement of a handle dropped on
        // another thread, so a holder seen gone is gone with its effects.
        (self.node.count.load(Ordering::Acquire) / HANDLE) as usize
    }
}

impl Clone for HandleRef {
    fn clone(&self) -> HandleRef {
        // Relaxed: our handle keeps the handle count above zero (count
        // word, 2.).
        self.node.count.fetch_add(HANDLE, Ordering::Relaxed);
        HandleRef {
            node: ManuallyDrop::new(NodeRef { ptr: self.node.ptr }),
        }
    }
}

impl Drop for HandleRef {
    fn drop(&mut self) {
        // Release: our uses of the node happen before the last handle's
        // splice, which acquires them with the fence below.
        let prev = self.node.count.fetch_sub(HANDLE, Ordering::Release);
        if prev / HANDLE != 1 {
            return;
        }
        // Acquire: pairs with the Release decrements of the other handles.
        fence(Ordering::Acquire);
        Node::last_handle_dropped(&self.node);
        // SAFETY: the last handle drops the handles' ref, exactly once
        // (count word, 2.); `self.node` is not used afterwards.
        unsafe { ManuallyDrop::drop(&mut self.node) };
    }
}
