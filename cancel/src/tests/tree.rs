//! Tree semantics of `CancelToken`.

use std::time::{Duration, Instant};

use super::util::{poll_once, Counter};
use crate::{CancelToken, Cause, CauseKind};

#[test]
fn parent_cancels_all_descendants() {
    let root = CancelToken::new();
    let a = root.child();
    let b = root.child();
    let a1 = a.child();
    let a1x = a1.child();
    assert!(root.cancel(Cause::shutdown()));
    for t in [&root, &a, &b, &a1, &a1x] {
        assert!(t.is_cancelled());
        assert!(t.cause().unwrap().same(&root.cause().unwrap()));
    }
    assert!(!root.cancelled_error().unwrap().is_inherited());
    assert!(a1x.cancelled_error().unwrap().is_inherited());
}

#[test]
fn child_cancel_leaves_parent_and_siblings() {
    let root = CancelToken::new();
    let a = root.child();
    let b = root.child();
    let a1 = a.child();
    assert!(a.cancel(Cause::explicit("a")));
    assert!(a.is_cancelled() && a1.is_cancelled());
    assert!(!root.is_cancelled() && !b.is_cancelled());
    assert!(!a.cancelled_error().unwrap().is_inherited());
    assert!(a1.cancelled_error().unwrap().is_inherited());
}

#[test]
fn child_of_cancelled_is_born_cancelled() {
    let root = CancelToken::new();
    root.cancel(Cause::signal(2));
    let c = root.child();
    let gc = c.child_with_deadline(Instant::now());
    for t in [&c, &gc] {
        let e = t.cancelled_error().unwrap();
        assert!(e.is_inherited());
        assert!(e.cause().same(&root.cause().unwrap()));
        assert_eq!(e.cause().kind(), &CauseKind::Signal(2));
    }
    assert_eq!(
        root.child_count(),
        0,
        "born-cancelled children are not linked"
    );
}

#[test]
fn first_cause_wins() {
    let t = CancelToken::new();
    let c = t.child();
    assert!(t.cancel(Cause::explicit("first")));
    assert!(!t.cancel(Cause::explicit("second")));
    assert!(!c.cancel(Cause::explicit("third")));
    assert_eq!(t.cause().unwrap().message(), Some("first"));
    assert_eq!(c.cause().unwrap().message(), Some("first"));
}

#[test]
fn own_cancel_before_parent_keeps_own_cause() {
    let root = CancelToken::new();
    let c = root.child();
    c.cancel(Cause::explicit("own"));
    root.cancel(Cause::shutdown());
    assert_eq!(c.cause().unwrap().message(), Some("own"));
    assert!(!c.cancelled_error().unwrap().is_inherited());
}

#[test]
fn deadline_is_min_of_parent_and_own() {
    let now = Instant::now();
    let early = now + Duration::from_secs(1);
    let late = now + Duration::from_secs(10);
    let root = CancelToken::new();
    assert_eq!(root.deadline(), None);
    assert_eq!(root.child().deadline(), None);
    // parent earlier than own
    let p = root.child_with_deadline(early);
    assert_eq!(p.child_with_deadline(late).deadline(), Some(early));
    // own earlier than parent
    let q = root.child_with_deadline(late);
    assert_eq!(q.child_with_deadline(early).deadline(), Some(early));
    // inherited by a plain child
    assert_eq!(q.child().deadline(), Some(late));
}

#[test]
fn drop_guard_cancels_and_disarm_does_not() {
    let t = CancelToken::new();
    drop(t.clone().drop_guard());
    assert!(t.is_cancelled());
    assert_eq!(t.cause().unwrap().kind(), &CauseKind::Explicit);

    let u = CancelToken::new();
    let g = u.clone().drop_guard();
    assert!(g.token().same(&u));
    let back = g.disarm();
    assert!(back.same(&u) && !u.is_cancelled());
}

#[test]
fn same_and_ancestry() {
    let root = CancelToken::new();
    let c = root.child();
    let gc = c.child();
    assert!(c.same(&c.clone()) && !c.same(&root));
    assert!(root.is_ancestor_of(&gc) && c.is_ancestor_of(&gc));
    assert!(!gc.is_ancestor_of(&root) && !c.is_ancestor_of(&c));
    assert!(!CancelToken::new().is_ancestor_of(&gc));
}

#[test]
fn dropped_children_unlink_from_parent() {
    let root = CancelToken::new();
    let a = root.child();
    let a2 = a.clone();
    let b = root.child();
    assert_eq!(root.child_count(), 2);
    drop(a);
    assert_eq!(root.child_count(), 2, "a clone is still alive");
    drop(a2);
    assert_eq!(root.child_count(), 1);
    // A middle node stays linked while it has a live child.
    let gc = b.child();
    drop(b);
    assert_eq!(root.child_count(), 1);
    assert!(root.is_ancestor_of(&gc));
    root.cancel(Cause::shutdown());
    assert!(
        gc.is_cancelled(),
        "cancel still reaches through a handle-less node"
    );
    drop(gc);
    assert_eq!(root.child_count(), 0);
}

#[test]
fn middle_node_unlinks_when_last_grandchild_drops() {
    let root = CancelToken::new();
    let b = root.child();
    let gc = b.child();
    drop(b);
    assert_eq!(root.child_count(), 1);
    drop(gc);
    assert_eq!(root.child_count(), 0);
}

#[test]
fn slots_are_reused_without_confusion() {
    let root = CancelToken::new();
    for _ in 0..3 {
        let kids: Vec<_> = (0..5).map(|_| root.child()).collect();
        assert_eq!(root.child_count(), 5);
        drop(kids);
        assert_eq!(root.child_count(), 0);
    }
    let keep = root.child();
    let tmp = root.child();
    drop(tmp);
    let again = root.child();
    root.cancel(Cause::shutdown());
    assert!(keep.is_cancelled() && again.is_cancelled());
}

#[test]
fn register_waker_wakes_once_and_deregister_works() {
    let root = CancelToken::new();
    let child = root.child();
    let (w1, w2, w3) = (Counter::new(), Counter::new(), Counter::new());
    let k1 = child.register_waker(&w1.waker()).unwrap();
    let k2 = child.register_waker(&w2.waker()).unwrap();
    let _k3 = root.register_waker(&w3.waker()).unwrap();
    assert_ne!(k1, k2);
    child.deregister_waker(k2);
    child.deregister_waker(k2); // double deregister: no-op
    root.cancel(Cause::shutdown());
    assert_eq!((w1.count(), w2.count(), w3.count()), (1, 0, 1));
    child.deregister_waker(k1); // after the cancel took it: no-op
    assert!(child.register_waker(&w1.waker()).is_none());
    root.cancel(Cause::shutdown());
    assert_eq!(w1.count(), 1);
}

#[test]
fn stale_key_does_not_remove_new_waiter() {
    let t = CancelToken::new();
    let (a, b) = (Counter::new(), Counter::new());
    let ka = t.register_waker(&a.waker()).unwrap();
    t.deregister_waker(ka);
    let _kb = t.register_waker(&b.waker()).unwrap(); // reuses the slot
    t.deregister_waker(ka); // stale generation
    t.cancel(Cause::shutdown());
    assert_eq!((a.count(), b.count()), (0, 1));
}

#[test]
fn panicking_waker_does_not_break_the_cancel() {
    struct Boom;
    impl std::task::Wake for Boom {
        fn wake(self: std::sync::Arc<Self>) {
            panic!("waker panics (expected in this test)");
        }
    }
    let t = CancelToken::new();
    let c = t.child();
    let ok = Counter::new();
    t.register_waker(&std::task::Waker::from(std::sync::Arc::new(Boom)))
        .unwrap();
    c.register_waker(&ok.waker()).unwrap();
    assert!(t.cancel(Cause::shutdown()));
    assert!(c.is_cancelled());
    assert_eq!(ok.count(), 1);
}

#[test]
fn cancelled_future() {
    let t = CancelToken::new();
    let c = t.child();
    let w = Counter::new();
    let mut fut = c.cancelled();
    assert!(poll_once(&mut fut, &w.waker()).is_pending());
    // A second poll with another waker replaces the registration.
    let w2 = Counter::new();
    assert!(poll_once(&mut fut, &w2.waker()).is_pending());
    t.cancel(Cause::explicit("stop"));
    assert_eq!((w.count(), w2.count()), (0, 1));
    match poll_once(&mut fut, &w2.waker()) {
        std::task::Poll::Ready(e) => {
            assert!(e.is_inherited());
            assert_eq!(e.cause().message(), Some("stop"));
        }
        std::task::Poll::Pending => panic!("cancelled future must be ready"),
    }
    // Already cancelled: ready at once.
    assert!(poll_once(&mut c.cancelled(), &w.waker()).is_ready());
}

#[test]
fn dropped_cancelled_future_deregisters() {
    let t = CancelToken::new();
    let w = Counter::new();
    let mut fut = t.cancelled();
    assert!(poll_once(&mut fut, &w.waker()).is_pending());
    drop(fut);
    t.cancel(Cause::shutdown());
    assert_eq!(w.count(), 0);
}

#[test]
fn deep_tree_cancel_does_not_overflow() {
    let root = CancelToken::new();
    let mut chain = vec![root.clone()];
    for _ in 0..100_000 {
        let next = chain.last().unwrap().child();
        chain.push(next);
    }
    root.cancel(Cause::shutdown());
    assert!(chain.last().unwrap().is_cancelled());
    // Dropping from the leaf up unlinks iteratively, too.
    while chain.pop().is_some() {}
}

#[test]
fn deep_tree_drop_root_first_does_not_overflow() {
    let root = CancelToken::new();
    let mut chain = vec![root.child()];
    for _ in 0..100_000 {
        let next = chain.last().unwrap().child();
        chain.push(next);
    }
    drop(root);
    // Drop the leaf last so every middle node is handle-less first, then
    // the leaf's drop unlinks the whole chain upwards.
    let leaf = chain.pop().unwrap();
    drop(chain);
    drop(leaf);
}

#[test]
fn concurrent_children_and_cancel_stress() {
    for _ in 0..200 {
        let root = CancelToken::new();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(3));
        let spawn_children = |root: CancelToken, b: std::sync::Arc<std::sync::Barrier>| {
            std::thread::spawn(move || {
                b.wait();
                let mut kept = Vec::new();
                for i in 0..200 {
                    let c = root.child();
                    if i % 2 == 0 {
                        kept.push(c);
                    }
                }
                kept
            })
        };
        let t1 = spawn_children(root.clone(), barrier.clone());
        let t2 = spawn_children(root.clone(), barrier.clone());
        barrier.wait();
        root.cancel(Cause::shutdown());
        for t in [t1, t2] {
            let kept = t.join().unwrap();
            assert!(kept.iter().all(CancelToken::is_cancelled));
        }
        assert_eq!(root.child_count(), 0);
    }
}

#[test]
fn tokens_are_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CancelToken>();
    assert_send_sync::<Cause>();
    assert_send_sync::<crate::Cancelled>();
    assert_send_sync::<crate::WaitForCancel>();
    assert_send_sync::<crate::DropGuard>();
    fn assert_unpin<T: Unpin>() {}
    assert_unpin::<crate::WaitForCancel>();
}

#[test]
fn drain_flows_down_and_never_cancels() {
    let root = CancelToken::new();
    let a = root.child();
    let a1 = a.child();
    let b = root.child();
    assert!(!a1.is_draining());
    assert!(a.drain(Cause::explicit("a drains")));
    assert!(a.is_draining() && a1.is_draining());
    assert!(
        !root.is_draining() && !b.is_draining(),
        "never upwards or sideways"
    );
    assert!(!a1.is_cancelled());
    assert_eq!(a1.drain_cause().unwrap().message(), Some("a drains"));
    // First drain cause wins; a later drain of an ancestor stops at `a`.
    assert!(!a.drain(Cause::shutdown()));
    assert!(root.drain(Cause::shutdown()));
    assert_eq!(a1.drain_cause().unwrap().message(), Some("a drains"));
    assert_eq!(b.drain_cause().unwrap().kind(), &CauseKind::Shutdown);
    // Born draining, with the parent's cause.
    let late = a1.child();
    assert!(late.is_draining() && !late.is_cancelled());
    assert_eq!(late.drain_cause().unwrap().message(), Some("a drains"));
    // A drained child is still linked: a cancel reaches it.
    assert!(root.cancel(Cause::explicit("grace over")));
    for t in [&a, &a1, &b, &late] {
        assert!(t.is_cancelled());
        assert!(t.is_draining());
    }
    assert_eq!(late.drain_cause().unwrap().message(), Some("a drains"));
}

#[test]
fn cancel_implies_drain_with_the_cancel_cause() {
    let root = CancelToken::new();
    let child = root.child();
    let mut wait = child.draining();
    let c = Counter::new();
    assert!(poll_once(&mut wait, &c.waker()).is_pending());
    assert!(root.cancel(Cause::explicit("stop")));
    assert_eq!(c.count(), 1, "the drain waiter was woken by the cancel");
    match poll_once(&mut wait, &c.waker()) {
        std::task::Poll::Ready(cause) => assert_eq!(cause.message(), Some("stop")),
        std::task::Poll::Pending => panic!("a cancelled token is draining"),
    }
    assert!(child.is_draining());
    assert!(
        !root.drain(Cause::shutdown()),
        "already draining (cancelled)"
    );
    assert_eq!(root.drain_cause().unwrap().message(), Some("stop"));
    assert_eq!(root.child().drain_cause().unwrap().message(), Some("stop"));
}

#[test]
fn a_drain_waiter_is_woken_once_and_deregisters_on_drop() {
    let root = CancelToken::new();
    let c = Counter::new();
    let mut wait = root.child().draining();
    assert!(poll_once(&mut wait, &c.waker()).is_pending());
    drop(wait);
    let mut wait = root.draining();
    assert!(poll_once(&mut wait, &c.waker()).is_pending());
    root.drain(Cause::shutdown());
    assert_eq!(c.count(), 1);
    assert!(poll_once(&mut wait, &c.waker()).is_ready());
    // A cancel after the drain does not wake it again (it was taken).
    root.cancel(Cause::shutdown());
    assert_eq!(c.count(), 1);
}
