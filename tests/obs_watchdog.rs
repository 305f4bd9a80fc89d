//! The leak watchdog (`Builder::leak_watchdog`): a task still alive a
//! threshold after its cancel is reported once per task — to the
//! `on_leak` callback, or by default as one stderr line (checked in a
//! child process, whose stderr the test reads); a task that stops in time
//! is not reported; bad settings are errors; the watchdog's thread stops
//! with the runtime.
//!
//! The only timers are the watchdog's threshold (what is under test) and
//! hang bounds. "Not reported again" is checked without waiting and
//! hoping: a later straggler's report proves the watchdog ran a round
//! after the first reports, with the first stragglers still alive; the
//! runtime's shutdown then joins the watchdog thread, and every report it
//! ever made is in the channel.

mod support;

use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use quell::cancel::{shield, CancelToken, CancellableExt, Cause};
use quell::runtime::{Builder, Leak, TaskKind, TaskState, Wait};
use quell::task::{Id, SpawnBuilder};
use support::child::{self, Child};
use support::{recv, HANG};

/// The tests here count the process's `quell-watchdog` threads: one test
/// at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Long enough that a task which stops at its cancel (one poll) does so
/// well within it, however loaded the machine; the precondition is
/// checked, not assumed.
const THRESHOLD: Duration = Duration::from_secs(1);

/// A runtime whose leak reports go to the returned channel.
fn watched(threshold: Duration) -> (quell::Runtime, mpsc::Receiver<Leak>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let rt = Builder::new()
        .worker_threads(2)
        .leak_watchdog(threshold)
        .on_leak(move |leak| tx.lock().unwrap().send(leak.clone()).unwrap())
        .build()
        .unwrap();
    (rt, rx)
}

/// Waits until each of `ids` is parked (as the dump reports it), so that
/// its entry names the wait it parked on.
fn wait_parked(rt: &quell::Runtime, ids: &[Id]) {
    support::wait_until(|| {
        let dump = rt.handle().dump();
        ids.iter()
            .all(|id| dump.task(*id).is_some_and(|t| t.state == TaskState::Parked))
    });
}

#[test]
fn fires_once_per_straggler_and_not_for_a_task_that_stops_in_time() {
    let _s = serial();
    let (rt, rx) = watched(THRESHOLD);
    let scope = CancelToken::new();
    let spawn =
        |name: &'static str, f: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>| {
            SpawnBuilder::new()
                .name(name)
                .token(scope.child())
                .spawn_on(f, rt.handle())
        };
    // Two stragglers that ignore the cancel in different ways: a foreign
    // future, and a quell sleep under a shield.
    let foreign = spawn("foreign", Box::pin(std::future::pending::<()>()));
    let shielded = spawn(
        "shielded",
        Box::pin(async {
            let _ = shield(quell::time::sleep(HANG * 4)).await;
        }),
    );
    // Stops at its cancel.
    let prompt = spawn(
        "prompt",
        Box::pin(async {
            let _ = std::future::pending::<()>().cancellable().await;
        }),
    );
    let (foreign_id, shielded_id, prompt_id) = (foreign.id(), shielded.id(), prompt.id());
    wait_parked(&rt, &[foreign_id, shielded_id, prompt_id]);

    scope.cancel(Cause::explicit("test: stop"));
    rt.block_on(prompt).unwrap();
    let cancelled_at = scope.cancelled_at().unwrap();
    assert!(
        Instant::now() < cancelled_at + THRESHOLD,
        "precondition: the prompt task took longer than the threshold to stop"
    );

    let mut first: Vec<Leak> = vec![recv(&rx), recv(&rx)];
    first.sort_by_key(|l| l.task.id);
    let ids: Vec<Id> = first.iter().map(|l| l.task.id).collect();
    let mut want = vec![foreign_id, shielded_id];
    want.sort();
    assert_eq!(ids, want);
    for l in &first {
        assert_eq!(l.threshold, THRESHOLD);
        assert!(l.cancelled_for >= THRESHOLD, "reported early: {l}");
        assert!(l.task.cancel.is_cancelled(), "{l}");
        // The entry says what each one waits on.
        let wait = l.task.wait.as_ref().map(|w| w.what);
        match l.task.name.as_deref() {
            Some("foreign") => assert_eq!(wait, Some(Wait::FOREIGN), "{l}"),
            Some("shielded") => assert_eq!(wait, Some("sleep"), "{l}"),
            other => panic!("{other:?}: {l}"),
        }
    }

    // A later straggler: its report comes from a round that began after
    // the first two reports, with both first stragglers still alive.
    let late = rt.spawn(std::future::pending::<()>());
    late.cancel(Cause::explicit("test: the late one"));
    assert_eq!(recv(&rx).task.id, late.id());

    // Shutdown joins the watchdog: every report it made is in the channel.
    drop(rt);
    let rest: Vec<Id> = rx.try_iter().map(|l| l.task.id).collect();
    assert!(rest.is_empty(), "reported again: {rest:?}");
    assert!(!ids.contains(&prompt_id));
}

#[test]
fn a_task_cancelled_through_an_ancestor_or_its_handle_is_reported_with_how_long_ago() {
    let _s = serial();
    let (rt, rx) = watched(Duration::from_millis(50));
    let parent = CancelToken::new();
    let child = SpawnBuilder::new()
        .name("under a cancelled parent")
        .token(parent.child().child())
        .spawn_on(std::future::pending::<()>(), rt.handle());
    parent.cancel(Cause::explicit("test: the parent"));
    let leak = recv(&rx);
    assert_eq!(leak.task.id, child.id());
    assert!(leak.cancelled_for >= Duration::from_millis(50), "{leak}");
    let line = leak.to_string();
    assert!(
        line.contains(&format!("task {}", child.id()))
            && line.contains("under a cancelled parent")
            && line.contains("after its cancel"),
        "{line}"
    );
    assert!(!line.contains('\n'), "one line: {line:?}");
}

#[test]
fn a_blocking_straggler_is_reported_as_blocking() {
    let _s = serial();
    let (rt, rx) = watched(Duration::from_millis(50));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    // Blocks in a std channel: no cancel reaches a closure that is not
    // interruptible.
    let h = SpawnBuilder::new().name("blocked").spawn_blocking_on(
        move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv();
        },
        rt.handle(),
    );
    recv(&started_rx);
    h.cancel(Cause::explicit("test"));
    let leak = recv(&rx);
    assert_eq!(leak.task.id, h.id());
    assert!(
        matches!(
            leak.task.kind,
            TaskKind::Blocking {
                interruptible: false
            }
        ),
        "{leak}"
    );
    assert!(
        leak.to_string().contains("\"blocked\" (blocking)"),
        "{leak}"
    );
    release_tx.send(()).unwrap();
    rt.block_on(h).unwrap();
}

#[test]
fn works_on_a_current_thread_runtime_without_block_on() {
    let _s = serial();
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let rt = Builder::new_current_thread()
        .leak_watchdog(Duration::from_millis(20))
        .on_leak(move |l| tx.lock().unwrap().send(l.task.id).unwrap())
        .build()
        .unwrap();
    // Never polled (no thread is in block_on), and cancelled: alive.
    let h = rt.spawn(async {});
    h.cancel(Cause::explicit("test"));
    assert_eq!(recv(&rx), h.id());
}

#[test]
fn a_panicking_callback_is_contained_and_still_called() {
    let _s = serial();
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let rt = Builder::new()
        .worker_threads(1)
        .leak_watchdog(Duration::from_millis(20))
        .on_leak(move |l| {
            tx.lock().unwrap().send(l.task.id).unwrap();
            panic!("test: the callback panics");
        })
        .build()
        .unwrap();
    let a = rt.spawn(std::future::pending::<()>());
    a.cancel(Cause::explicit("test"));
    assert_eq!(recv(&rx), a.id());
    let b = rt.spawn(std::future::pending::<()>());
    b.cancel(Cause::explicit("test"));
    assert_eq!(recv(&rx), b.id());
}

#[test]
fn bad_settings_are_errors_and_extremes_are_clamped() {
    let _s = serial();
    let err = Builder::new()
        .leak_watchdog(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("threshold"), "{err}");

    let err = Builder::new().on_leak(|_| {}).build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("leak_watchdog"), "{err}");

    // A threshold no instant can be added to: accepted, never due; the
    // runtime shuts down at once (the thread sleeps in a bounded wait).
    let (rt, rx) = watched(Duration::MAX);
    let h = rt.spawn(std::future::pending::<()>());
    h.cancel(Cause::explicit("test"));
    drop(rt);
    assert!(rx.try_recv().is_err());

    // The smallest threshold: reported, and no spin (the rounds are at
    // least 10 ms apart; not measured here, see docs/observability.md).
    let (rt, rx) = watched(Duration::from_nanos(1));
    let h = rt.spawn(std::future::pending::<()>());
    h.cancel(Cause::explicit("test"));
    assert_eq!(recv(&rx).task.id, h.id());
    drop(rt);
}

#[test]
fn costs_no_thread_unless_enabled_and_its_thread_stops_with_the_runtime() {
    let _s = serial();
    // (A thread names itself once it runs, and leaves /proc a moment after
    // it was joined: hence the waits, bounded by HANG.)
    let plain = Builder::new().worker_threads(1).build().unwrap();
    plain.block_on(async {});
    assert_eq!(support::threads_named("quell-watchdog"), 0);
    drop(plain);

    let (rt, _rx) = watched(THRESHOLD);
    support::wait_until(|| support::threads_named("quell-watchdog") == 1);
    // A handle outliving the runtime does not keep the thread.
    let handle = rt.handle().clone();
    drop(rt);
    support::wait_until(|| support::threads_named("quell-watchdog") == 0);
    drop(handle);
}

/// The default report: one stderr line per straggler, once. The child
/// half runs a watched runtime with no callback; the parent reads its
/// stderr.
#[test]
fn by_default_one_stderr_line_per_straggler() {
    const NAME: &str = "by_default_one_stderr_line_per_straggler";
    if child::is_child() {
        let rt = Builder::new()
            .worker_threads(1)
            .leak_watchdog(Duration::from_millis(50))
            .build()
            .unwrap();
        let first = SpawnBuilder::new()
            .name("stubborn")
            .spawn_on(std::future::pending::<()>(), rt.handle());
        wait_parked(&rt, &[first.id()]);
        first.cancel(Cause::explicit("test: first"));
        child::say("first", first.id());
        // The parent saw the first report: a second straggler, whose
        // report proves a later round ran.
        assert_eq!(child::next_line().as_deref(), Some("next"));
        let second = rt.spawn(std::future::pending::<()>());
        second.cancel(Cause::explicit("test: second"));
        child::say("second", second.id());
        // Until the parent closes stdin.
        while child::next_line().is_some() {}
        drop(rt);
        return;
    }

    let _s = serial();
    let mut c = Child::spawn(NAME);
    let first = c.said("first");
    let line = c.expect_stderr(|l| l.contains("leak watchdog"));
    assert!(
        line.starts_with(&format!("quell: leak watchdog: task {first} \"stubborn\" "))
            && line.contains("after its cancel")
            && line.contains("waits on a future quell does not own")
            && line.contains("cancel: cancelled")
            && line.contains("spawned at tests/obs_watchdog.rs:"),
        "{line}"
    );
    c.send_line("next");
    let second = c.said("second");
    c.expect_stderr(|l| l.contains(&format!("leak watchdog: task {second} ")));
    let (status, _, stderr) = c.finish();
    assert!(status.success(), "{status}; stderr:\n{stderr}");
    let count = |id: &str| {
        stderr
            .lines()
            .filter(|l| l.contains(&format!("leak watchdog: task {id} ")))
            .count()
    };
    assert_eq!(count(&first), 1, "stderr:\n{stderr}");
    assert_eq!(count(&second), 1, "stderr:\n{stderr}");
}
