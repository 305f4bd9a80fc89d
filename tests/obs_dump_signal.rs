//! The dump on a signal (`Builder::dump_on_signal`), with real signals
//! sent to a child process (this test binary re-executed; see
//! `support/child.rs`): each `SIGQUIT` or `SIGUSR1` writes the task dump to
//! the child's stderr, also while the only worker is stuck in a busy task,
//! and the process carries on (its runtime still runs tasks afterwards,
//! and it exits 0 when told to).
//!
//! The only timers are hang bounds.

mod support;

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;

use quell::runtime::{Builder, TaskState};
use quell::signal::SignalKind;
use quell::task::SpawnBuilder;
use support::child::{self, Child};

#[test]
fn each_signal_writes_the_dump_to_stderr_and_the_process_carries_on() {
    const NAME: &str = "each_signal_writes_the_dump_to_stderr_and_the_process_carries_on";
    if child::is_child() {
        let rt = Builder::new()
            .worker_threads(1)
            .dump_on_signal(SignalKind::quit())
            .dump_on_signal(SignalKind::user_defined1())
            .build()
            .unwrap();
        let parked = SpawnBuilder::new()
            .name("parked-forever")
            .spawn_on(std::future::pending::<()>(), rt.handle());
        // Parked before the busy task takes the only worker.
        support::wait_until(|| {
            rt.handle()
                .dump()
                .task(parked.id())
                .is_some_and(|t| t.state == TaskState::Parked)
        });
        // Keeps the only worker busy until told to stop: the dump must
        // not need a worker.
        let stop = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let s = stop.clone();
        let busy = SpawnBuilder::new().name("busy-loop").spawn_on(
            async move {
                started_tx.send(()).unwrap();
                while !s.load(SeqCst) {
                    std::hint::spin_loop();
                }
            },
            rt.handle(),
        );
        started_rx.recv().unwrap();
        child::say("ready", parked.id());
        // After the signals: the runtime still works.
        assert_eq!(child::next_line().as_deref(), Some("stop the busy loop"));
        stop.store(true, SeqCst);
        rt.block_on(busy).unwrap();
        let answer = rt.block_on(rt.spawn(async { 6 * 7 })).unwrap();
        child::say("still running", answer);
        while child::next_line().is_some() {}
        return;
    }

    let mut c = Child::spawn(NAME);
    let parked = c.said("ready");
    for signo in [libc::SIGQUIT, libc::SIGUSR1] {
        c.signal(signo);
        c.expect_stderr(|l| l == format!("quell: task dump on signal {signo}"));
        // Entries by id: the parked task, then the busy one, which holds
        // the only worker while the dump is taken.
        c.expect_stderr(|l| l.starts_with(&format!("task {parked} \"parked-forever\" [parked")));
        c.expect_stderr(|l| l.trim() == "waits on a future quell does not own");
        c.expect_stderr(|l| l.contains("\"busy-loop\" [running"));
    }
    c.send_line("stop the busy loop");
    assert_eq!(c.said("still running"), "42");
    let (status, _, stderr) = c.finish();
    assert!(status.success(), "{status}; stderr:\n{stderr}");
    assert_eq!(
        stderr.matches("quell: task dump on signal").count(),
        2,
        "stderr:\n{stderr}"
    );
}

#[test]
fn a_signal_that_cannot_be_handled_is_an_error() {
    for signo in [libc::SIGKILL, libc::SIGSEGV, 0, 200] {
        let err = Builder::new()
            .worker_threads(1)
            .dump_on_signal(SignalKind::from_raw(signo))
            .build()
            .unwrap_err();
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::InvalidInput,
            "{signo}: {err}"
        );
    }
}

#[test]
fn the_listening_thread_stops_with_the_runtime() {
    // A thread names itself once it runs and leaves /proc a moment after
    // it was joined, hence the waits (bounded by HANG).
    let named = support::threads_named;
    let rt = Builder::new()
        .worker_threads(1)
        .dump_on_signal(SignalKind::user_defined2())
        .build()
        .unwrap();
    support::wait_until(|| named("quell-signal") == 1);
    drop(rt);
    support::wait_until(|| named("quell-signal") == 0);
}
