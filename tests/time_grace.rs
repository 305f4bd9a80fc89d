//! `JoinHandle::cancel_with_grace`: cooperative first, forced last.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use quell::cancel::{shield, Cause, CauseKind};
use quell::time;
use support::*;

#[test]
fn a_cooperative_task_finishes_its_cleanup_within_the_grace() {
    let _dog = watchdog("grace, cooperative");
    let rt = rt(2);
    let io = rt.handle().io().clone();
    let drops = DropCount::new();
    let tag = drops.tag();
    let h = rt.spawn(async move {
        let _tag = tag;
        let err = time::sleep(Duration::from_secs(3600)).await.unwrap_err();
        shield(time::sleep(Duration::from_millis(5))).await.unwrap(); // cleanup
        err.cause().kind().clone()
    });
    wait_until(|| io.num_timers() == 1);
    let out = rt.block_on(async move {
        assert!(h.cancel_with_grace(Cause::explicit("stop"), Duration::from_secs(60)));
        h.await
    });
    assert_eq!(out.unwrap(), CauseKind::Explicit);
    assert_eq!(drops.get(), 1);
}

#[test]
fn a_task_that_ignores_the_cancel_is_aborted_after_the_grace() {
    let _dog = watchdog("grace, stubborn");
    let rt = rt(2);
    let drops = DropCount::new();
    let tag = drops.tag();
    let (armed_tx, armed_rx) = mpsc::channel();
    let h = rt.spawn(async move {
        let _tag = tag;
        armed_tx.send(()).unwrap();
        // Ignores cancellation for an hour.
        let _ = shield(time::sleep(Duration::from_secs(3600))).await;
    });
    recv(&armed_rx);
    let out = rt.block_on(async move {
        assert!(h.cancel_with_grace(Cause::explicit("stop"), Duration::from_millis(20)));
        h.await
    });
    assert!(out.unwrap_err().is_aborted());
    assert_eq!(drops.get(), 1);
}

#[test]
fn outside_a_runtime_the_grace_still_applies() {
    let _dog = watchdog("grace, outside");
    let rt = rt(2);
    let (armed_tx, armed_rx) = mpsc::channel();
    let h = rt.spawn(async move {
        armed_tx.send(()).unwrap();
        let _ = shield(time::sleep(Duration::from_secs(3600))).await;
    });
    recv(&armed_rx);
    // From the thread that owns the runtime (not inside it).
    assert!(h.cancel_with_grace(Cause::explicit("stop"), Duration::from_millis(10)));
    assert!(rt.block_on(h).unwrap_err().is_aborted());
}

#[test]
fn zero_grace_aborts_at_once() {
    let _dog = watchdog("grace, zero");
    let rt = rt(1);
    let (armed_tx, armed_rx) = mpsc::channel();
    let h = rt.spawn(async move {
        armed_tx.send(()).unwrap();
        let _ = shield(time::sleep(Duration::from_secs(3600))).await;
    });
    recv(&armed_rx);
    h.cancel_with_grace(Cause::explicit("now"), Duration::ZERO);
    assert!(rt.block_on(h).unwrap_err().is_aborted());
}
