//! Deadline scopes on the cancel tree: `with_timeout` / `with_deadline`,
//! nesting (`min(parent, own)`), inheritance by spawned tasks, shields,
//! and no leaked nodes or timers.

mod support;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use quell::cancel::{self, shield, with_deadline, with_timeout, Cause, CauseKind};
use quell::time;
use support::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const LONG: Duration = Duration::from_secs(10);

/// A scope whose point is not the cut-off: a grace that only a hang would
/// exhaust, so a loaded machine cannot turn a cooperative finish into one.
fn grace_long<F: std::future::Future>(
    s: quell::cancel::DeadlineScope<F>,
) -> quell::cancel::DeadlineScope<F> {
    s.grace(LONG)
}

#[test]
fn a_deadline_cancels_the_sleep_inside_and_leaves_no_node_or_timer() {
    let _dog = watchdog("basic deadline");
    let rt = rt(2);
    let io = rt.handle().io().clone();
    let (outer, children_before, err) = rt.block_on(async {
        let outer = cancel::current();
        let before = outer.child_count();
        let start = Instant::now();
        let err = with_timeout(ms(30), async {
            assert!(cancel::current().deadline().is_some());
            assert!(outer.is_ancestor_of(&cancel::current()));
            time::sleep(LONG).await.unwrap_err()
        })
        .grace(LONG) // only a hang would exhaust it: not a cut-off test
        .await
        .expect("finished, not cut off");
        assert!(start.elapsed() >= ms(30));
        (outer, before, err)
    });
    assert_eq!(err.cause().kind(), &CauseKind::DeadlineExceeded);
    assert!(!err.is_inherited());
    // The fired timer's action holds a clone of the scope's token until the
    // driver thread has finished cancelling it, which may be just after the
    // woken task observed the cancel: the node must go, eventually.
    wait_until(|| outer.child_count() == children_before);
    assert_eq!(io.num_timers(), 0, "the scope's timer leaked");
}

#[test]
fn a_scope_that_finishes_in_time_returns_its_output_and_disarms() {
    let _dog = watchdog("scope in time");
    let rt = rt(2);
    let io = rt.handle().io().clone();
    rt.block_on(async {
        let outer = cancel::current();
        let before = outer.child_count();
        let v = with_timeout(Duration::from_secs(3600), async {
            time::sleep(ms(2)).await.unwrap();
            assert_eq!(io.num_timers(), 1, "only the scope's timer is armed");
            41 + 1
        })
        .await;
        assert_eq!(v.unwrap(), 42);
        assert_eq!(io.num_timers(), 0);
        assert_eq!(outer.child_count(), before);
        assert!(!cancel::is_cancelled());
    });
}

#[test]
fn nested_parent_earlier_the_child_sees_the_parents_deadline_and_cause() {
    let _dog = watchdog("nested, parent earlier");
    let rt = rt(2);
    rt.block_on(grace_long(with_timeout(ms(100), async {
        let parent = cancel::current();
        let parent_deadline = parent.deadline().unwrap();
        with_timeout(Duration::from_secs(5), async {
            let child = cancel::current();
            assert!(!child.same(&parent));
            assert_eq!(child.deadline(), Some(parent_deadline), "min(parent, own)");
            let err = time::sleep(LONG).await.unwrap_err();
            assert_eq!(err.cause().kind(), &CauseKind::DeadlineExceeded);
            assert!(err.is_inherited(), "the cancel came from the parent");
            assert!(err.cause().same(&parent.cause().unwrap()));
            assert!(Instant::now() >= parent_deadline);
        })
        .grace(LONG)
        .await
        .expect("finished, not cut off");
    })))
    .unwrap();
}

#[test]
fn nested_child_earlier_the_child_times_out_alone() {
    let _dog = watchdog("nested, child earlier");
    let rt = rt(2);
    rt.block_on(with_timeout(Duration::from_secs(5), async {
        let parent = cancel::current();
        let parent_deadline = parent.deadline().unwrap();
        let own = Instant::now() + ms(100);
        with_deadline(own, async {
            let child = cancel::current();
            assert_eq!(child.deadline(), Some(own));
            assert!(own < parent_deadline);
            let err = time::sleep(LONG).await.unwrap_err();
            assert_eq!(err.cause().kind(), &CauseKind::DeadlineExceeded);
            assert!(!err.is_inherited(), "the child's own deadline");
            assert!(err.cause().same(&child.cause().unwrap()));
        })
        .grace(LONG)
        .await
        .expect("finished, not cut off");
        assert!(
            !parent.is_cancelled(),
            "a child's deadline never cancels its parent"
        );
        // The parent scope carries on.
        time::sleep(ms(1)).await.unwrap();
    }))
    .unwrap();
}

#[test]
fn a_task_spawned_inside_a_scope_inherits_it_and_is_cancelled_by_the_deadline() {
    let _dog = watchdog("grandchild");
    let rt = rt(2);
    rt.block_on(grace_long(with_timeout(ms(50), async {
        let scope = cancel::current();
        let scope2 = scope.clone();
        let grandchild = quell::spawn(async move {
            assert!(
                scope2.is_ancestor_of(&cancel::current()),
                "its scope is under the deadline scope"
            );
            time::sleep(LONG).await
        });
        let err = grandchild.await.unwrap().unwrap_err();
        assert_eq!(err.cause().kind(), &CauseKind::DeadlineExceeded);
        assert!(err.cause().same(&scope.cause().unwrap()));
    })))
    .unwrap();
}

#[test]
fn a_deadline_scope_inside_a_shield_times_out_while_the_outer_cancel_is_blocked() {
    let _dog = watchdog("shielded deadline");
    let rt = rt(2);
    let (in_shield_tx, in_shield_rx) = mpsc::channel();
    let (landed_tx, landed_rx) = mpsc::channel::<()>();
    let h = rt.spawn(async move {
        let inner = shield(async move {
            in_shield_tx.send(()).unwrap();
            // Wait (cooperatively) until the outer cancel has landed, so it
            // is certainly pending while the scope runs.
            while landed_rx.try_recv().is_err() {
                quell::task::yield_now().await;
            }
            assert!(!cancel::is_cancelled(), "the shield blocks it");
            with_timeout(ms(30), async {
                assert!(
                    cancel::current().deadline().is_some(),
                    "the scope's own deadline applies"
                );
                time::sleep(LONG).await.unwrap_err()
            })
            .grace(LONG)
            .await
            .expect("finished, not cut off")
        })
        .await;
        let after = cancel::checkpoint().await;
        (inner, after)
    });
    recv(&in_shield_rx);
    assert!(h.cancel(Cause::explicit("outer")));
    landed_tx.send(()).unwrap();
    let (inner, after) = rt.block_on(h).unwrap();
    assert_eq!(inner.cause().kind(), &CauseKind::DeadlineExceeded);
    assert_eq!(after.unwrap_err().cause().message(), Some("outer"));
}

#[test]
fn the_tasks_own_cancel_reaches_inside_a_scope() {
    let _dog = watchdog("own cancel in scope");
    let rt = rt(2);
    let io = rt.handle().io().clone();
    let h = rt.spawn(with_timeout(Duration::from_secs(3600), async {
        time::sleep(Duration::from_secs(3600)).await
    }));
    wait_until(|| io.num_timers() == 2); // the scope's and the sleep's
    h.cancel(Cause::explicit("from the handle"));
    let err = rt.block_on(h).unwrap().unwrap().unwrap_err();
    assert_eq!(err.cause().message(), Some("from the handle"));
    assert_eq!(io.num_timers(), 0);
}

#[test]
fn the_scope_keeps_polling_a_future_that_finishes_after_its_deadline() {
    let _dog = watchdog("cooperative");
    let rt = rt(2);
    // A grace long enough that only a hang would exhaust it: the point is
    // that a future past its deadline is still polled while it cleans up.
    let out = rt.block_on(
        with_timeout(ms(10), async {
            let first = time::sleep(LONG).await;
            assert!(first.is_err());
            // Async cleanup after the deadline, shielded: still polled.
            shield(time::sleep(ms(5))).await.unwrap();
            "cleaned up"
        })
        .grace(LONG),
    );
    assert_eq!(out.unwrap(), "cleaned up");
}

#[test]
fn a_deadline_already_past_cancels_at_once() {
    let rt = rt(1);
    let err = rt
        .block_on(with_deadline(Instant::now() - ms(1), async {
            cancel::checkpoint().await.unwrap_err()
        }))
        .unwrap();
    assert_eq!(err.cause().kind(), &CauseKind::DeadlineExceeded);
    assert_eq!(rt.handle().io().num_timers(), 0);
}
