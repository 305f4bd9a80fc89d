//! A user's cancel race, model-checked with loom: the worked example of
//! docs/loom.md. Built only with `--cfg loom` (`bash ci/loom.sh`).
//!
//! A worker takes jobs from a quell channel until shutdown cancels it; the
//! jobs it did not start are drained back at shutdown. The property: every
//! accepted job is either run or drained, never lost. The buggy worker takes
//! a job and *then* checks for the cancel, dropping the job it holds when
//! the cancel lands in between; loom finds that interleaving. The fixed
//! worker lets `recv` be the cancel point (it answers `Cancelled` and takes
//! nothing) and passes every interleaving.
#![cfg(loom)]

use std::future::Future;

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use quell::cancel::{self, with_token, CancelToken, Cause};
use quell::sync::mpsc;

/// The job queue's receiving end.
type Jobs = mpsc::Receiver<u32>;

/// The work itself (here: count it).
fn run(_job: u32, done: &AtomicUsize) {
    done.fetch_add(1, Ordering::Relaxed);
}

/// BUG: the job is taken off the queue before the cancel check, and dropped
/// if the cancel lands in between.
async fn worker_buggy(mut jobs: Jobs, done: Arc<AtomicUsize>) -> Jobs {
    while let Ok(job) = jobs.recv().await {
        // "Don't start new work once shutdown has begun."
        if cancel::is_cancelled() {
            break; // `job` is dropped here: neither run nor drained
        }
        run(job, &done);
    }
    jobs
}

/// FIXED: `recv` is the cancel point. Once the scope is cancelled it answers
/// `Cancelled` and takes nothing, so a job is either returned (and run) or
/// left in the channel for the drain.
async fn worker_fixed(mut jobs: Jobs, done: Arc<AtomicUsize>) -> Jobs {
    while let Ok(job) = jobs.recv().await {
        run(job, &done);
    }
    jobs
}

/// One job is accepted, then shutdown cancels the worker, which runs on its
/// own loom thread under the shutdown token; what it left is drained.
fn shutdown_model<W, Fut>(worker: W)
where
    W: Fn(Jobs, Arc<AtomicUsize>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Jobs> + Send + 'static,
{
    loom::model(move || {
        let shutdown = CancelToken::new();
        let (jobs_tx, jobs_rx) = mpsc::channel::<u32>(1);
        let done = Arc::new(AtomicUsize::new(0));

        let fut = worker(jobs_rx, done.clone());
        let token = shutdown.clone();
        let handle = thread::spawn(move || block_on(with_token(token, fut)));

        jobs_tx.try_send(1).expect("the queue has room");
        shutdown.cancel(Cause::explicit("shutdown"));

        // The worker stops only through the cancel (`jobs_tx` is alive).
        let mut jobs_rx = handle.join().unwrap();
        let mut drained = 0;
        while jobs_rx.try_recv().is_ok() {
            drained += 1;
        }
        let run = done.load(Ordering::Relaxed);
        assert_eq!(run + drained, 1, "job lost: run {run}, drained {drained}");
    });
}

#[test]
#[should_panic(expected = "job lost: run 0, drained 0")]
fn loom_user_buggy_worker_loses_a_job() {
    shutdown_model(worker_buggy);
}

#[test]
fn loom_user_fixed_worker_loses_nothing() {
    shutdown_model(worker_fixed);
}

/// docs/loom.md shows this file's code: each of its `rust` blocks is a
/// verbatim part of this file, so the documented example is the tested one.
#[test]
fn loom_user_docs_show_this_code() {
    let doc = include_str!("../docs/loom.md");
    let this = include_str!("loom_user.rs");
    let mut blocks = 0;
    for block in doc.split("```rust\n").skip(1) {
        let code = block.split("```").next().unwrap();
        assert!(
            this.contains(code),
            "docs/loom.md shows code that is not in tests/loom_user.rs:\n{code}"
        );
        blocks += 1;
    }
    assert_eq!(blocks, 5, "docs/loom.md's rust blocks");
}
