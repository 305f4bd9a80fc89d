//! `#[quell::test]` (and, through it, the expansion `#[quell::main]`
//! shares): a fresh runtime per test, the worker count argument, `Result`
//! returns, and attributes kept.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use quell::cancel::CancelToken;
use quell::Handle;

#[quell::test]
async fn runs_the_body_on_a_runtime() {
    let h = quell::spawn(async { 2 + 2 });
    assert_eq!(h.await.unwrap(), 4);
    quell::task::yield_now().await;
}

#[quell::test(worker_threads = 3)]
async fn worker_threads_sets_the_worker_count() {
    assert_eq!(Handle::current().num_workers(), 3);
}

#[quell::test(flavor = "multi_thread", worker_threads = 1)]
async fn flavor_multi_thread_is_accepted() {
    assert_eq!(Handle::current().num_workers(), 1);
}

#[quell::test(flavor = "current_thread")]
async fn flavor_current_thread_runs_everything_on_the_test_thread() {
    assert_eq!(Handle::current().num_workers(), 0);
    let me = std::thread::current().id();
    let spawned = quell::spawn(async { std::thread::current().id() });
    assert_eq!(spawned.await.unwrap(), me);
    // A local context: `!Send` futures spawn directly.
    let rc = std::rc::Rc::new(std::cell::Cell::new(1));
    let r = rc.clone();
    quell::task::spawn_local(async move { r.set(2) })
        .await
        .unwrap();
    assert_eq!(rc.get(), 2);
    quell::time::sleep(std::time::Duration::from_millis(1))
        .await
        .unwrap();
}

#[quell::test]
async fn result_returns_and_question_mark() -> Result<(), std::io::Error> {
    let listener = quell::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    assert!(addr.port() != 0);
    Ok(())
}

/// A `pub` test keeps its visibility (and this doc comment).
#[quell::test]
pub async fn visibility_early_return_and_boxed_errors() -> Result<(), Box<dyn std::error::Error>> {
    // `?` converts into the declared error type; `return` leaves the body.
    let n: u32 = "7".parse()?;
    if n == 7 {
        return Ok(());
    }
    Err("not seven".into())
}

#[quell::test]
#[should_panic(expected = "a failing quell test")]
async fn attributes_are_kept() {
    quell::task::yield_now().await;
    panic!("a failing quell test");
}

/// An `Err` return fails the test (run by `an_err_return_fails` below).
#[quell::test]
#[ignore = "called by an_err_return_fails; fails on purpose"]
async fn returns_err() -> Result<(), String> {
    Err("boom".to_owned())
}

#[test]
fn an_err_return_fails() {
    assert_eq!(returns_err(), Err("boom".to_owned()));
}

static ROOTS: Mutex<Vec<CancelToken>> = Mutex::new(Vec::new());
static LEFT_RUNNING_DROPPED: AtomicUsize = AtomicUsize::new(0);

/// Counts its drops: the future of a task left running.
struct LeftRunning;

impl Drop for LeftRunning {
    fn drop(&mut self) {
        LEFT_RUNNING_DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

/// Records the root token of the runtime it runs on and leaves a task
/// parked forever (called twice below).
#[quell::test]
#[ignore = "called by each_call_gets_a_fresh_runtime"]
async fn records_its_runtime() {
    ROOTS
        .lock()
        .unwrap()
        .push(Handle::current().root_token().clone());
    let guard = LeftRunning;
    quell::spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
}

#[test]
fn each_call_gets_a_fresh_runtime() {
    records_its_runtime();
    // The runtime was dropped when the test function returned, and with it
    // the future of the task the test left running.
    assert_eq!(LEFT_RUNNING_DROPPED.load(Ordering::SeqCst), 1);
    records_its_runtime();
    assert_eq!(LEFT_RUNNING_DROPPED.load(Ordering::SeqCst), 2);
    let roots = ROOTS.lock().unwrap();
    assert_eq!(roots.len(), 2);
    assert!(!roots[0].same(&roots[1]), "two runtimes, two root tokens");
}
