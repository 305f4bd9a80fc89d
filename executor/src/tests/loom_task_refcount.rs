//! The task's memory is freed exactly once, by whoever drops the last ref
//! (C4): the runtime completing it, a waker, an `AbortHandle`, the
//! `JoinHandle`.
//!
//! A double free or a use after free shows up as a loom error on the
//! task's loom cells (or a refcount-underflow debug assertion); a leak
//! shows up in loom's end-of-execution check, because every task cell owns
//! an `Arc` of its scheduler. Drop counters check futures and outputs.

use std::future::poll_fn;
use std::task::Poll;

use loom::thread;

use super::model;
use super::util::{spawn, TestSched, Tracked};
use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use crate::loom::{Arc, Mutex};
use crate::task::JoinHandle;

/// The task stashes a clone of its waker and wakes itself on its first
/// poll, then completes on the second. Another thread takes the stashed
/// waker and wakes it by value (`wake`) or drops it, while the main thread
/// drops the join handle and runs the second poll: the waker's ref or the
/// runtime's are the last, in either order.
fn waker_vs_complete(wake: bool) {
    model(move || {
        let sched = TestSched::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let stash: Arc<Mutex<Option<std::task::Waker>>> = Arc::new(Mutex::new(None));
        let fut = {
            let stash = stash.clone();
            let on_future = Tracked::new(&drops);
            let mut output = Some(Tracked::new(&drops));
            let mut first = true;
            poll_fn(move |cx| {
                let _owned = &on_future;
                if std::mem::take(&mut first) {
                    *stash.lock().unwrap() = Some(cx.waker().clone());
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Ready(output.take().unwrap())
            })
        };
        let join = spawn(&sched, fut, None);
        // First poll: the task is re-queued by its own wake.
        assert!(sched.run_one());

        let other = {
            let stash = stash.clone();
            thread::spawn(move || {
                let waker = stash.lock().unwrap().take().expect("stashed");
                if wake {
                    waker.wake();
                } else {
                    drop(waker);
                }
            })
        };
        drop(join);
        sched.run_all();
        other.join().unwrap();
        sched.run_all();
        assert_eq!(
            drops.load(Relaxed),
            2,
            "future and output dropped exactly once"
        );
    });
}

#[test]
fn loom_waker_drop_vs_complete() {
    waker_vs_complete(false);
}

#[test]
fn loom_waker_wake_vs_complete() {
    waker_vs_complete(true);
}

/// An `AbortHandle` aborts and is dropped on one thread while the main
/// thread runs the task (which completes at once) and drops the
/// `JoinHandle`. The future is dropped once; the output, if the task got
/// to make one, is dropped once; the task is freed.
#[test]
fn loom_abort_handle_drop_vs_join_handle_drop() {
    model(|| {
        let sched = TestSched::new();
        let future_drops = Arc::new(AtomicUsize::new(0));
        let output_drops = Arc::new(AtomicUsize::new(0));
        let made_output = Arc::new(AtomicBool::new(false));
        let fut = {
            let on_future = Tracked::new(&future_drops);
            let (output_drops, made_output) = (output_drops.clone(), made_output.clone());
            poll_fn(move |_| {
                let _owned = &on_future;
                made_output.store(true, Relaxed);
                Poll::Ready(Tracked::new(&output_drops))
            })
        };
        let join: JoinHandle<Tracked> = spawn(&sched, fut, None);
        let abort = join.abort_handle();

        let aborter = thread::spawn(move || {
            abort.abort();
            drop(abort);
        });
        sched.run_all();
        drop(join);
        aborter.join().unwrap();
        sched.run_all();

        assert_eq!(future_drops.load(Relaxed), 1, "future dropped exactly once");
        let made = usize::from(made_output.load(Relaxed));
        assert_eq!(
            output_drops.load(Relaxed),
            made,
            "output dropped exactly once"
        );
    });
}
