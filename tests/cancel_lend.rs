//! A spawn inherits the spawner's scope through the spawner task, and the
//! child resolves it at its first poll (executor `task/lend.rs`): the
//! orders that resolution can meet, made deterministic with one worker
//! that a gate holds (contract C10).

mod support;

use std::future::pending;
use std::sync::mpsc;

use quell::cancel::{self, CancelToken, CancellableExt, Cancelled, Cause};
use quell::task::SpawnBuilder;
use quell::JoinHandle;
use support::*;

/// Waits until the scope is cancelled; answers what it observed, and
/// whether `current()` agrees.
async fn until_cancelled() -> (Cancelled, bool) {
    let e = pending::<()>().cancellable().await.unwrap_err();
    (e, cancel::current().is_cancelled())
}

#[test]
fn a_child_first_polled_after_its_parents_handle_cancel_is_born_cancelled() {
    let _dog = watchdog("lent child, parent cancelled before its first poll");
    let rt = rt(1);
    let (spawned_tx, spawned_rx) = mpsc::channel();
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let parent = rt.spawn(async move {
        let child = quell::spawn(until_cancelled());
        spawned_tx.send(child).unwrap();
        // Hold the only worker: the child is not polled before the cancel.
        let _ = gate_rx.recv_timeout(HANG);
        until_cancelled().await
    });
    let child: JoinHandle<(Cancelled, bool)> = recv(&spawned_rx);
    assert!(parent.cancel(Cause::explicit("h")));
    gate_tx.send(()).unwrap();
    for (e, current) in [rt.block_on(child).unwrap(), rt.block_on(parent).unwrap()] {
        assert_eq!(e.cause().message(), Some("h"));
        assert!(current, "current() answers as the await points");
    }
}

#[test]
fn the_child_of_a_completed_parent_inherits_what_the_parent_inherited() {
    let _dog = watchdog("lent child of a completed parent");
    let rt = rt(1);
    let scope = CancelToken::new();
    let (parked_tx, parked_rx) = mpsc::channel();
    let (spawned_tx, spawned_rx) = mpsc::channel();
    let s2 = scope.clone();
    // The parent spawns and completes before the child's first poll (one
    // worker, the child queued behind the parent's poll).
    let parent = SpawnBuilder::new().token(scope.clone()).spawn_on(
        async move {
            let child = quell::spawn(async move {
                let under = s2.is_ancestor_of(&cancel::current()) || s2.same(&cancel::current());
                parked_tx.send(()).unwrap();
                (until_cancelled().await, under)
            });
            spawned_tx.send(child).unwrap();
        },
        rt.handle(),
    );
    rt.block_on(parent).unwrap();
    let child: JoinHandle<((Cancelled, bool), bool)> = recv(&spawned_rx);
    recv(&parked_rx);
    assert!(scope.cancel(Cause::explicit("scope")));
    let ((e, current), under) = rt.block_on(child).unwrap();
    assert!(under, "the child's scope is the parent's scope's");
    assert!(current);
    assert!(e.is_inherited());
    assert!(
        e.cause().same(&scope.cause().unwrap()),
        "the originating cause"
    );
}

#[test]
fn a_fan_out_shares_one_node_that_the_parents_cancel_reaches() {
    let _dog = watchdog("lent fan-out");
    let rt = rt(1);
    let (spawned_tx, spawned_rx) = mpsc::channel();
    let parent = rt.spawn(async move {
        // The first child inherits through the parent, the others the
        // parent's node, made at the second spawn.
        let children: Vec<_> = (0..3).map(|_| quell::spawn(until_cancelled())).collect();
        spawned_tx.send(children).unwrap();
        until_cancelled().await
    });
    let children: Vec<JoinHandle<(Cancelled, bool)>> = recv(&spawned_rx);
    assert!(parent.cancel(Cause::explicit("h")));
    assert!(!parent.cancel(Cause::explicit("second cause loses")));
    for child in children {
        let (e, current) = rt.block_on(child).unwrap();
        assert_eq!(e.cause().message(), Some("h"));
        assert!(e.is_inherited());
        assert!(current);
    }
    assert_eq!(rt.block_on(parent).unwrap().0.cause().message(), Some("h"));
}
