//! Shutdown's report lists its stragglers as task-dump entries (the ones
//! the leak watchdog prints): what each waited on, how long since its
//! cancel, and why, in the structured entry and in the text.

mod support;

use std::future::pending;
use std::time::Duration;

use quell::cancel::CauseKind;
use quell::runtime::{CancelState, TaskState};
use quell::task::SpawnBuilder;
use support::*;

#[test]
fn a_forced_straggler_is_reported_with_its_cancel_state_and_how_long_ago() {
    let _dog = watchdog("shutdown report");
    let rt = rt(1);
    let stubborn = SpawnBuilder::new()
        .name("stubborn")
        .spawn_on(pending::<()>(), rt.handle());
    // Parked (so its entry names its wait) before shutdown begins.
    wait_until(|| {
        rt.handle()
            .dump()
            .task(stubborn.id())
            .is_some_and(|t| t.state == TaskState::Parked)
    });
    let grace = Duration::from_millis(50);
    let report = rt.shutdown_graceful(grace);
    assert_eq!(report.forced.len(), 1, "{report}");
    let t = &report.forced[0];
    assert_eq!(t.name.as_deref(), Some("stubborn"));
    match &t.cancel {
        CancelState::Cancelled { cause, ago, .. } => {
            assert_eq!(cause.kind(), &CauseKind::Shutdown);
            let ago = ago.expect("the cancel's instant is recorded");
            assert!(
                ago >= grace,
                "the entry is as of the end of the grace: {ago:?}"
            );
        }
        other => panic!("not cancelled: {other:?}"),
    }
    let text = report.to_string();
    let line = text
        .lines()
        .find(|l| l.contains("forced: task"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("\"stubborn\"")
            && line.contains("(cancelled, ignored it)")
            && line.contains("waits on a future quell does not own")
            && line.contains("cancel: cancelled")
            && line.contains("ago")
            && line.contains("spawned at tests/shutdown_report.rs"),
        "{line}"
    );
}
