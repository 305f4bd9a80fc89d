//! Loom models of the tree protocol (see `crate::tree`, "# Invariants").
//!
//! Under `--cfg loom` each model explores the interleavings; otherwise it
//! runs once on real threads (a smoke test of the same code).

use std::task::{Poll, Waker};

use super::util::{poll_once, Counter};
use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::Arc;
use crate::{CancelToken, Cause};

#[cfg(loom)]
use loom::thread;
#[cfg(not(loom))]
use std::thread;

/// Runs `f` under `loom::model`, or once without loom.
fn model(f: impl Fn() + Sync + Send + 'static) {
    #[cfg(loom)]
    loom::model(f);
    #[cfg(not(loom))]
    f();
}

/// Model 1a: cancel racing `child()`. The child ends cancelled, and once it
/// is dropped the parent holds no link to it.
#[test]
fn loom_cancel_vs_child() {
    model(|| {
        let root = CancelToken::new();
        let r = root.clone();
        let th = thread::spawn(move || r.child());
        root.cancel(Cause::shutdown());
        let child = th.join().unwrap();
        assert!(child.is_cancelled());
        assert!(child.cause().unwrap().same(&root.cause().unwrap()));
        drop(child);
        assert_eq!(root.child_count(), 0);
    });
}

/// Model 1b: cancel racing `child()` + drop of the child (and a grandchild
/// through a middle node): nothing stays linked, nothing leaks (loom checks
/// that every node is freed at the end of each execution: each carries a
/// `loom::alloc::Track`).
#[test]
fn loom_cancel_vs_child_drop() {
    model(|| {
        let root = CancelToken::new();
        let mid = root.child();
        let r = root.clone();
        let th = thread::spawn(move || {
            let c = r.child();
            let gc = mid.child();
            drop(mid);
            let seen = c.is_cancelled();
            drop(c);
            drop(gc);
            seen
        });
        root.cancel(Cause::shutdown());
        let _ = th.join().unwrap();
        assert_eq!(root.child_count(), 0);
    });
}

/// Model 1c: cancel racing the creation of a grandchild under an existing
/// child: the grandchild must end cancelled.
#[test]
fn loom_cancel_vs_grandchild() {
    model(|| {
        let root = CancelToken::new();
        let child = root.child();
        let th = thread::spawn(move || child.child());
        root.cancel(Cause::shutdown());
        let gc = th.join().unwrap();
        assert!(gc.is_cancelled());
        assert!(gc.cancelled_error().unwrap().is_inherited());
    });
}

/// Model 1d: no cancel at all; the last handle of a middle node and its
/// only child drop concurrently (invariant 6: whichever makes the middle
/// node dead unlinks it, exactly once). The parent ends with no children and
/// no node leaks (a missed unlink would leave a parent<->child cycle).
#[test]
fn loom_concurrent_unlink() {
    model(|| {
        let root = CancelToken::new();
        let mid = root.child();
        let gc = mid.child();
        let sibling = root.child();
        let th = thread::spawn(move || drop(gc));
        let th2 = thread::spawn(move || drop(sibling));
        drop(mid);
        th.join().unwrap();
        th2.join().unwrap();
        assert_eq!(root.child_count(), 0);
    });
}

/// Model 2: two cancels with different causes. Exactly one returns `true`
/// and every observer, including a descendant, sees that cause.
#[test]
fn loom_two_cancels_one_cause() {
    model(|| {
        let root = CancelToken::new();
        let child = root.child();
        let a = Cause::explicit("a");
        let b = Cause::explicit("b");
        let (r, b2) = (root.clone(), b.clone());
        let th = thread::spawn(move || r.cancel(b2));
        let won_a = root.cancel(a.clone());
        let won_b = th.join().unwrap();
        assert!(won_a ^ won_b, "exactly one cancel wins");
        let winner = if won_a { a } else { b };
        assert!(root.cause().unwrap().same(&winner));
        assert!(child.cause().unwrap().same(&winner));
        assert!(child.cancelled_error().unwrap().is_inherited());
    });
}

/// Model 3 (contract C8): cancel (of an ancestor) racing `register_waker`.
/// Either register returned `None` and nothing is woken, or the waker is
/// woken exactly once: never neither, never twice.
#[test]
fn loom_cancel_vs_register_waker() {
    model(|| {
        let root = CancelToken::new();
        let child = root.child();
        let counter = Counter::new();
        let w = counter.waker();
        // The registrant keeps the token (as a task does): a registration
        // lives only as long as some clone of its token.
        let th = thread::spawn(move || {
            let registered = child.register_waker(&w).is_some();
            (registered, child)
        });
        root.cancel(Cause::shutdown());
        let (registered, _child) = th.join().unwrap();
        assert_eq!(counter.count(), usize::from(registered));
    });
}

/// Model 3b: cancel racing register + deregister: at most one wake, and a
/// waker that deregistration removed is never woken.
#[test]
fn loom_cancel_vs_deregister() {
    model(|| {
        let root = CancelToken::new();
        let counter = Counter::new();
        let (r, c2) = (root.clone(), counter.clone());
        let th = thread::spawn(move || match r.register_waker(&c2.waker()) {
            Some(key) => r.node().deregister_waker(key),
            None => false,
        });
        root.cancel(Cause::shutdown());
        let removed = th.join().unwrap();
        assert!(counter.count() <= 1);
        if removed {
            assert_eq!(counter.count(), 0, "a removed waker is never woken");
        }
    });
}

/// Model 4: cancel vs the `cancelled()` future. A pending poll is always
/// followed by a wake, and the next poll is ready.
#[test]
fn loom_cancel_vs_cancelled_future() {
    model(|| {
        let root = CancelToken::new();
        let child = root.child();
        let counter = Counter::new();
        let waker: Waker = counter.waker();
        let mut fut = child.cancelled();
        let r = root.clone();
        let th = thread::spawn(move || r.cancel(Cause::shutdown()));
        let first = poll_once(&mut fut, &waker);
        th.join().unwrap();
        match first {
            Poll::Ready(c) => assert!(c.is_inherited()),
            Poll::Pending => {
                assert_eq!(counter.count(), 1, "pending poll must be woken");
                assert!(poll_once(&mut fut, &waker).is_ready());
            }
        }
        drop(fut);
        assert!(counter.count() <= 1);
    });
}

/// Model 5: cancel publishes what the canceller wrote before it: whoever
/// sees `is_cancelled()` also sees that write (Release/Acquire pair on the
/// flag; the write is `Relaxed`, so only the flag orders it).
#[test]
fn loom_cancel_publishes_prior_writes() {
    model(|| {
        let root = CancelToken::new();
        let data = Arc::new(AtomicUsize::new(0));
        let (r, d) = (root.clone(), data.clone());
        let th = thread::spawn(move || {
            d.store(42, Ordering::Relaxed);
            r.cancel(Cause::shutdown());
        });
        if root.is_cancelled() {
            assert_eq!(data.load(Ordering::Relaxed), 42);
        }
        th.join().unwrap();
    });
}

/// Model 6 (invariant 6, splice vs cancel): the last handle of a middle
/// node drops (its child moves up to the grandparent) while the
/// grandparent is cancelled. The child ends cancelled with that cause
/// whichever comes first, the root above is untouched, and nothing stays
/// linked or leaks. Weakened (a splice that moves the children into a
/// parent already cancelled, or that skips the move), the child is left
/// uncancelled and this fails.
#[test]
fn loom_splice_vs_cancel() {
    model(|| {
        let root = CancelToken::new();
        let parent = root.child();
        let mid = parent.child();
        let child = mid.child();
        let th = thread::spawn(move || drop(mid));
        parent.cancel(Cause::shutdown());
        th.join().unwrap();
        let e = child
            .cancelled_error()
            .expect("the cancel reached the child");
        assert!(e.is_inherited() && e.cause().same(&parent.cause().unwrap()));
        assert!(!root.is_cancelled());
        assert_eq!(parent.child_count(), 0);
        drop(child);
        drop(parent);
        assert_eq!(root.child_count(), 0);
    });
}

/// Model 6b: a splice racing the moved child's own last drop and a cancel
/// from above: the middle node and the child each leave exactly once
/// (no double unlink, no link left to a freed node), and a grandchild kept
/// alive below them still gets the cancel.
#[test]
fn loom_splice_vs_child_drop_and_cancel() {
    model(|| {
        let root = CancelToken::new();
        let mid = root.child();
        let child = mid.child();
        let grandchild = child.child();
        let th = thread::spawn(move || drop(child));
        let r = root.clone();
        let th2 = thread::spawn(move || r.cancel(Cause::shutdown()));
        drop(mid);
        th.join().unwrap();
        assert!(th2.join().unwrap());
        assert!(grandchild.is_cancelled());
        drop(grandchild);
        assert_eq!(root.child_count(), 0);
    });
}

/// Model 7: drain racing cancel racing a child's creation (tree invariant
/// 8). A child created under a node already draining is born draining; a
/// drain that started has reached an existing child when it returns (unless
/// the cancel got there, which drains too); every node ends draining and
/// cancelled with one drain cause, the same down the subtree, and a drain
/// cause once read never changes.
#[test]
fn loom_drain_vs_cancel_vs_child() {
    model(|| {
        let root = CancelToken::new();
        let mid = root.child();
        let d = Cause::explicit("drain");
        let c = Cause::explicit("cancel");
        let (r, m, d2) = (root.clone(), mid.clone(), d.clone());
        let drainer = thread::spawn(move || {
            let won = r.drain(d2);
            if won {
                assert!(m.is_draining(), "the drain walk reached the child");
            }
            won
        });
        let (r, c2) = (root.clone(), c.clone());
        let canceller = thread::spawn(move || r.cancel(c2));
        let was_draining = mid.is_draining();
        let early = mid.drain_cause();
        let child = mid.child();
        if was_draining {
            assert!(child.is_draining(), "born draining");
        }
        let seen = child.drain_cause();
        let drain_won = drainer.join().unwrap();
        assert!(canceller.join().unwrap());
        let winner = if drain_won { d } else { c };
        for t in [&root, &mid, &child] {
            assert!(t.is_draining() && t.is_cancelled());
            assert!(t.drain_cause().unwrap().same(&winner), "one drain cause");
        }
        for s in [early, seen].into_iter().flatten() {
            assert!(s.same(&winner), "a drain cause never changes");
        }
    });
}

/// Model 8: a drain racing a splice (invariants 6 and 8). The middle node's
/// last handle drops while the root drains: its child moves up into the
/// root, possibly after the root's drain walk took its snapshot of the
/// children, and must end draining all the same, with the root's cause.
#[test]
fn loom_drain_vs_splice() {
    model(|| {
        let root = CancelToken::new();
        let mid = root.child();
        let gc = mid.child();
        let th = thread::spawn(move || drop(mid));
        let d = Cause::explicit("drain");
        assert!(root.drain(d.clone()));
        th.join().unwrap();
        assert!(gc.is_draining(), "the moved child was drained");
        assert!(gc.drain_cause().unwrap().same(&d));
        assert!(!gc.is_cancelled());
        // Still linked (now to the root): a cancel reaches it.
        root.cancel(Cause::shutdown());
        assert!(gc.is_cancelled());
        assert!(gc.drain_cause().unwrap().same(&d));
    });
}
