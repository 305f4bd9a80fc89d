//! Contract C12: shutdown in phases, drain → drain grace → cancel → cancel
//! grace → abort, and what each phase reports.

mod support;

use std::future::pending;
use std::sync::mpsc;
use std::time::Duration;

use quell::cancel::{self, CancellableExt, CauseKind};
use quell::runtime::ShutdownPolicy;
use quell::task::SpawnBuilder;
use support::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Each kind of task ends in its own phase of the report.
#[test]
fn each_phase_reports_what_it_finished_and_what_it_forced() {
    let _dog = watchdog("phases");
    let rt = rt(2);
    let (ready_tx, ready_rx) = mpsc::channel();
    let tx = ready_tx.clone();
    SpawnBuilder::new().name("drainer").spawn_on(
        async move {
            tx.send(()).unwrap();
            let cause = cancel::draining().await;
            assert_eq!(cause.kind(), &CauseKind::Shutdown);
        },
        rt.handle(),
    );
    let tx = ready_tx.clone();
    SpawnBuilder::new().name("canceller").spawn_on(
        async move {
            tx.send(()).unwrap();
            // Ignores the drain; stops on cancel.
            let _ = pending::<()>().cancellable().await;
        },
        rt.handle(),
    );
    SpawnBuilder::new()
        .name("stubborn")
        .spawn_on(pending::<()>(), rt.handle());
    recv(&ready_rx);
    recv(&ready_rx);
    let report = rt.shutdown_with(ShutdownPolicy::new(ms(100), ms(100)));
    assert_eq!(report.tasks_at_start, 3);
    assert_eq!(report.drained, 1, "{report}");
    let names = |v: &[quell::runtime::TaskDump]| -> Vec<String> {
        v.iter().filter_map(|t| t.name.clone()).collect()
    };
    assert_eq!(names(&report.cancelled), ["canceller"], "{report}");
    assert_eq!(names(&report.forced), ["stubborn"], "{report}");
    assert!(report.forced[0].cancel.is_cancelled());
    assert_eq!(report.finished_in_grace, 2);
    assert!(!report.is_clean() && !report.is_drained());
    let text = report.to_string();
    assert!(text.contains("drain: 1 finished"), "{text}");
    assert!(text.contains("cancelled: task"), "{text}");
    assert!(text.contains("\"canceller\""), "{text}");
    assert!(text.contains("forced: task"), "{text}");
}

/// During the drain phase, await points proceed (a sleep completes, a
/// checkpoint passes) and a shield still sees the drain; the task finishes
/// on its own, so nothing is cancelled.
#[test]
fn a_drain_is_no_cancel_point_and_is_seen_in_a_shield() {
    let _dog = watchdog("drain no cancel point");
    let rt = rt(2);
    let (ready_tx, ready_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    rt.spawn(async move {
        let seen = cancel::shield(async move {
            ready_tx.send(()).unwrap();
            let cause = cancel::draining().await;
            (cause, cancel::is_draining())
        })
        .await;
        // In-flight work finishes: these would answer Cancelled on cancel.
        let slept = quell::time::sleep(ms(5)).await;
        let cp = cancel::checkpoint().await;
        let spawned_draining = quell::spawn(async { cancel::is_draining() }).await;
        done_tx
            .send((seen, slept.is_ok(), cp.is_ok(), spawned_draining.unwrap()))
            .unwrap();
    });
    recv(&ready_rx);
    let report = rt.shutdown_with(ShutdownPolicy::new(HANG, HANG));
    let ((cause, in_shield), slept, cp, spawned) = recv(&done_rx);
    assert_eq!(cause.kind(), &CauseKind::Shutdown);
    assert!(in_shield, "a shield does not hide a drain");
    assert!(slept && cp, "await points proceed during the drain");
    assert!(spawned, "a task spawned while draining is born draining");
    assert!(report.is_drained(), "{report}");
    assert_eq!(report.drained, 1);
}

/// `shutdown_graceful(grace)` keeps its meaning: with the default policy
/// there is no drain grace; the drain and the cancel come together.
#[test]
fn shutdown_graceful_is_cancel_then_grace_with_the_default_policy() {
    let _dog = watchdog("graceful mapping");
    let rt = rt(1);
    let (ready_tx, ready_rx) = mpsc::channel();
    rt.spawn(async move {
        ready_tx.send(()).unwrap();
        let _ = pending::<()>().cancellable().await;
    });
    recv(&ready_rx);
    let report = rt.shutdown_graceful(HANG);
    assert_eq!(report.policy.drain_grace, Duration::ZERO);
    assert_eq!(report.policy.cancel_grace, HANG);
    assert_eq!(report.cancelled.len(), 1, "{report}");
    assert!(report.is_clean());
}

/// The builder's policy drives `shutdown()`, and its drain grace applies
/// to `shutdown_graceful` too.
#[test]
fn the_builder_policy_drives_shutdown() {
    let _dog = watchdog("builder policy");
    let policy = ShutdownPolicy::new(HANG, ms(10));
    let rt = quell::runtime::Builder::new()
        .worker_threads(1)
        .shutdown_policy(policy)
        .build()
        .unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    rt.spawn(async move {
        ready_tx.send(()).unwrap();
        cancel::draining().await;
    });
    recv(&ready_rx);
    let report = rt.shutdown();
    assert_eq!(report.policy, policy);
    assert!(report.is_drained(), "{report}");
    let rt = quell::runtime::Builder::new()
        .worker_threads(1)
        .shutdown_policy(policy)
        .build()
        .unwrap();
    let report = rt.shutdown_graceful(ms(20));
    assert_eq!(report.policy, ShutdownPolicy::new(HANG, ms(20)));
}
