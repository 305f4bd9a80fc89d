//! [`CancelToken`], the public handle to a node of the cancellation tree,
//! [`WaitForCancel`], the future that resolves when it is cancelled, and
//! [`WaitForDrain`], the one that resolves when it is asked to drain.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use crate::node_ref::{HandleRef, NodeRef};
use crate::tree::{List, Node};
use crate::{Cancelled, Cause, DropGuard};

/// A handle to one node of the cancellation tree (like a Go `context`).
///
/// Cloning gives another handle to the *same* node. Cancelling a token
/// cancels its whole subtree and never its parent. When the last clone of a
/// token drops, its node leaves the tree; its children, if any, move up to
/// its parent (so a cancel from above still reaches them).
///
/// ```
/// use quell_cancel::{CancelToken, Cause, CauseKind};
///
/// let root = CancelToken::new();
/// let child = root.child();
/// assert!(!child.is_cancelled());
///
/// assert!(root.cancel(Cause::shutdown()));
/// assert!(child.is_cancelled());
/// assert_eq!(child.cause().unwrap().kind(), &CauseKind::Shutdown);
/// assert!(child.cancelled_error().unwrap().is_inherited());
/// ```
#[derive(Clone)]
pub struct CancelToken(HandleRef);

/// Identifies a waker registered with [`CancelToken::register_waker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaiterKey {
    pub(crate) slot: usize,
    pub(crate) generation: u64,
}

impl CancelToken {
    fn from_node(node: HandleRef) -> CancelToken {
        CancelToken(node)
    }

    #[inline]
    pub(crate) fn node(&self) -> &NodeRef {
        self.0.node()
    }

    /// A fresh root token, never cancelled until someone cancels it.
    pub fn new() -> CancelToken {
        CancelToken::from_node(Node::new_root())
    }

    /// A new child node. If `self` is already cancelled, the child is born
    /// cancelled with the same cause (marked inherited).
    pub fn child(&self) -> CancelToken {
        CancelToken::from_node(Node::new_child(self.node(), None))
    }

    /// A new child whose effective deadline is `min(self.deadline(),
    /// deadline)`. The deadline is data only: arming a timer that cancels the
    /// token with [`Cause::deadline_exceeded`] is the I/O driver's job.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use quell_cancel::CancelToken;
    ///
    /// let soon = Instant::now() + Duration::from_secs(1);
    /// let parent = CancelToken::new().child_with_deadline(soon);
    /// let child = parent.child_with_deadline(soon + Duration::from_secs(5));
    /// assert_eq!(child.deadline(), Some(soon)); // the parent's is earlier
    /// ```
    /// The caller's location is recorded as where the deadline was set
    /// ([`deadline_site`](Self::deadline_site)).
    #[track_caller]
    pub fn child_with_deadline(&self, deadline: Instant) -> CancelToken {
        self.child_with_deadline_from(deadline, std::panic::Location::caller())
    }

    /// As [`child_with_deadline`](Self::child_with_deadline), recording
    /// `at` as where the deadline was set (for runtime entry points that
    /// make the node on behalf of their caller: a deadline scope).
    pub fn child_with_deadline_from(
        &self,
        deadline: Instant,
        at: &'static std::panic::Location<'static>,
    ) -> CancelToken {
        CancelToken::from_node(Node::new_child(self.node(), Some((deadline, at))))
    }

    /// Where the effective deadline ([`deadline`](Self::deadline)) was
    /// set: the caller of the `child_with_deadline` (or deadline scope)
    /// that set it; `None` without a deadline. A deadline's timer names it
    /// as the cancel's call site.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use quell_cancel::CancelToken;
    ///
    /// let t = CancelToken::new().child_with_deadline(Instant::now() + Duration::from_secs(1));
    /// assert_eq!(t.deadline_site().unwrap().line(), line!() - 1);
    /// assert!(CancelToken::new().deadline_site().is_none());
    /// ```
    pub fn deadline_site(&self) -> Option<&'static std::panic::Location<'static>> {
        self.node().deadline_site()
    }

    /// The effective deadline (the earliest along the path from the root).
    pub fn deadline(&self) -> Option<Instant> {
        self.node().deadline()
    }

    /// Cancels this token and all its descendants with `cause`. Returns
    /// `true` if this call cancelled the token, `false` if it was already
    /// cancelled (the first cause wins). Never touches the parent. The
    /// caller's source location is recorded as the cancel's origin
    /// ([`cancelled_by`](Self::cancelled_by)).
    #[track_caller]
    pub fn cancel(&self, cause: Cause) -> bool {
        Node::cancel(self.node(), cause, std::panic::Location::caller())
    }

    /// Cancels as [`cancel`](Self::cancel) does, recording `by` as the
    /// call site that cancelled (for runtime entry points that cancel on
    /// behalf of their caller: a join handle, a deadline's timer).
    pub fn cancel_from(&self, cause: Cause, by: &'static std::panic::Location<'static>) -> bool {
        Node::cancel(self.node(), cause, by)
    }

    /// Where the cancellation this token reports was requested: the caller
    /// of the originating [`cancel`](Self::cancel) (an ancestor's, for an
    /// inherited cancel). `None` if not cancelled.
    ///
    /// ```
    /// use quell_cancel::{CancelToken, Cause};
    /// let parent = CancelToken::new();
    /// let child = parent.child();
    /// parent.cancel(Cause::explicit("stop")); let line = line!();
    /// let by = child.cancelled_by().unwrap();
    /// assert_eq!((by.file(), by.line()), (file!(), line));
    /// ```
    pub fn cancelled_by(&self) -> Option<&'static std::panic::Location<'static>> {
        self.node().cancelled_by()
    }

    /// Whether the token (or an ancestor, once the cancel reached it) is
    /// cancelled. One `Acquire` load.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.node().is_cancelled()
    }

    /// The originating cause, if cancelled.
    pub fn cause(&self) -> Option<Cause> {
        self.cancelled_error().map(|c| c.cause().clone())
    }

    /// `Some(Cancelled)` with the cause and whether it was inherited from an
    /// ancestor, if cancelled. Costs one load when not cancelled.
    pub fn cancelled_error(&self) -> Option<Cancelled> {
        self.node().cancelled_error()
    }

    /// When the cancellation this token reports was requested: the instant
    /// of the originating `cancel` (an ancestor's, for an inherited cancel,
    /// or the deadline's expiry as the timer fired it). `None` if not
    /// cancelled.
    ///
    /// ```
    /// use quell_cancel::{CancelToken, Cause};
    /// let parent = CancelToken::new();
    /// let child = parent.child();
    /// assert!(child.cancelled_at().is_none());
    /// parent.cancel(Cause::explicit("stop"));
    /// assert_eq!(child.cancelled_at(), parent.cancelled_at());
    /// assert!(parent.cancelled_at().unwrap() <= std::time::Instant::now());
    /// ```
    pub fn cancelled_at(&self) -> Option<Instant> {
        self.node().cancelled_at()
    }

    /// A future that resolves when the token is cancelled. It owns a clone of
    /// the token, is `Unpin`, and removes its waker from the token when
    /// dropped.
    pub fn cancelled(&self) -> WaitForCancel {
        WaitForCancel {
            token: self.clone(),
            key: None,
        }
    }

    /// Requests a **drain** of this token and its whole subtree: an
    /// advisory "finish what you are doing, take no new work" that comes
    /// before a cancel. Unlike a cancel, a drain makes no await point
    /// answer `Cancelled`; code observes it with
    /// [`is_draining`](Self::is_draining) / [`draining`](Self::draining)
    /// (or the free functions [`crate::is_draining`] / [`crate::draining`],
    /// which see it inside shields too). Children created later are born
    /// draining. Returns `true` if this call started the drain, `false` if
    /// the token was already draining (the first drain cause wins) or is
    /// cancelled (a cancel implies a drain).
    ///
    /// ```
    /// use quell_cancel::{CancelToken, Cause, CauseKind};
    /// let server = CancelToken::new();
    /// let conn = server.child();
    /// assert!(server.drain(Cause::shutdown()));
    /// assert!(conn.is_draining() && !conn.is_cancelled());
    /// assert_eq!(conn.drain_cause().unwrap().kind(), &CauseKind::Shutdown);
    /// assert!(server.child().is_draining()); // born draining
    /// // Then the cancel; the drain cause stays the first one.
    /// assert!(server.cancel(Cause::explicit("grace over")));
    /// assert_eq!(conn.drain_cause().unwrap().kind(), &CauseKind::Shutdown);
    /// ```
    pub fn drain(&self, cause: Cause) -> bool {
        Node::drain(self.node(), cause)
    }

    /// Whether a drain (or a cancel, which implies one) of this token or an
    /// ancestor has reached it. One `Acquire` load.
    pub fn is_draining(&self) -> bool {
        self.node().is_draining()
    }

    /// Why the token is draining: the first drain's cause or, if a cancel
    /// came first, the cancel's. Never changes once `Some`.
    pub fn drain_cause(&self) -> Option<Cause> {
        self.node().drain_cause()
    }

    /// A future that resolves to the drain cause once the token drains (or
    /// is cancelled). It is **not** a cancel point: it never answers
    /// `Cancelled`, and it resolves inside shields like anywhere else. It
    /// owns a clone of the token, is `Unpin`, and removes its waker when
    /// dropped.
    pub fn draining(&self) -> WaitForDrain {
        WaitForDrain(Wait {
            token: self.clone(),
            key: None,
        })
    }

    /// Turns the token into a guard that cancels it (with
    /// `Cause::explicit("drop guard")`) when dropped.
    pub fn drop_guard(self) -> DropGuard {
        DropGuard::new(self)
    }

    /// Whether `self` and `other` are handles to the same node.
    pub fn same(&self, other: &CancelToken) -> bool {
        NodeRef::ptr_eq(self.node(), other.node())
    }

    /// Whether `self` is a strict ancestor of `other` (a token is not its
    /// own ancestor).
    pub fn is_ancestor_of(&self, other: &CancelToken) -> bool {
        // One lock at a time; a splice meanwhile only skips a node that no
        // handle (so not `self`) refers to.
        let mut cur = other.node().parent();
        while let Some(n) = cur {
            if NodeRef::ptr_eq(&n, self.node()) {
                return true;
            }
            cur = n.parent();
        }
        false
    }

    /// Registers `waker` (a clone of it) to be woken exactly once when this
    /// token or any ancestor is cancelled (contract C8). Returns `None`, with
    /// nothing registered, if the token is already cancelled: the caller
    /// must then treat itself as woken.
    ///
    /// The registration lives as long as the token's node: keep a clone of
    /// the token while registered (a task holds its token anyway). If every
    /// clone is dropped, the node leaves the tree and its registrations are
    /// dropped without being woken. Pair every `Some(key)` with
    /// [`deregister_waker`](Self::deregister_waker) when no longer interested;
    /// registrations are not freed otherwise until the token is cancelled or
    /// its node dropped.
    pub fn register_waker(&self, waker: &Waker) -> Option<WaiterKey> {
        self.node().register_waker(List::Cancel, waker)
    }

    /// Removes the waker registered under `key`. A no-op if the cancel has
    /// already taken (and woken) it.
    pub fn deregister_waker(&self, key: WaiterKey) {
        self.node().deregister_waker(key);
    }

    /// Number of handles (clones) of this token that exist, this one
    /// included (runtime-internal: whether anyone else still holds a
    /// scope's token).
    #[doc(hidden)]
    pub fn handle_count(&self) -> usize {
        self.0.handle_count()
    }

    /// Number of uncancelled children linked to this node (for tests and
    /// leak checks). A child whose handles are all gone is spliced out, its
    /// own children counted here instead.
    #[doc(hidden)]
    pub fn child_count(&self) -> usize {
        self.node().child_count()
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .field("deadline", &self.deadline())
            .finish()
    }
}

/// Future returned by [`CancelToken::cancelled`]; resolves to the
/// [`Cancelled`] of its token.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct WaitForCancel {
    token: CancelToken,
    key: Option<WaiterKey>,
}

impl Future for WaitForCancel {
    type Output = Cancelled;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Cancelled> {
        let this = self.get_mut();
        poll_wait(&this.token, &mut this.key, List::Cancel, cx, |t| {
            t.cancelled_error()
        })
    }
}

impl Drop for WaitForCancel {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.token.node().deregister_waker(key);
        }
    }
}

/// A token and its registration in the drain waiter list.
#[derive(Debug)]
struct Wait {
    token: CancelToken,
    key: Option<WaiterKey>,
}

/// Future returned by [`CancelToken::draining`] (and [`crate::draining`]);
/// resolves to the drain [`Cause`]. Not a cancel point.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct WaitForDrain(Wait);

impl WaitForDrain {
    /// A future that never resolves (no task to drain: see
    /// [`crate::draining`] outside a task).
    pub(crate) fn never() -> WaitForDrain {
        WaitForDrain(Wait {
            token: CancelToken::new(),
            key: None,
        })
    }
}

impl Future for WaitForDrain {
    type Output = Cause;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Cause> {
        let w = &mut self.get_mut().0;
        poll_wait(&w.token, &mut w.key, List::Drain, cx, |t| t.drain_cause())
    }
}

impl Drop for WaitForDrain {
    fn drop(&mut self) {
        if let Some(key) = self.0.key.take() {
            self.0.token.node().deregister_waker(key);
        }
    }
}

/// The one poll loop of [`WaitForCancel`] and [`WaitForDrain`]: `ready`
/// reads the event's outcome; otherwise the waker is registered in (or
/// updated on) `which` list. A registration refused (or a key the event
/// took) means the event fired: loop to read it (invariants 4 and 7 in
/// `tree.rs`: the flag is set under the lock before the list is closed).
fn poll_wait<T>(
    token: &CancelToken,
    key: &mut Option<WaiterKey>,
    which: List,
    cx: &mut Context<'_>,
    ready: impl Fn(&CancelToken) -> Option<T>,
) -> Poll<T> {
    loop {
        if let Some(v) = ready(token) {
            if let Some(k) = key.take() {
                token.node().deregister_waker(k);
            }
            return Poll::Ready(v);
        }
        match *key {
            Some(k) if token.node().update_waker(k, cx.waker()) => return Poll::Pending,
            // The event took our waker: its flag is set; loop to read it.
            Some(_) => *key = None,
            None => match token.node().register_waker(which, cx.waker()) {
                Some(k) => {
                    *key = Some(k);
                    return Poll::Pending;
                }
                None => continue, // fired meanwhile: read it
            },
        }
    }
}
