//! Wakes racing a poll, and the join handle racing completion (C1, C4).
//!
//! * `loom_wake_by_val_vs_poll`, `loom_wake_by_ref_vs_poll`: a wake from
//!   another thread at any point of the poll and its idle transition
//!   (`State::transition_to_idle`) causes another poll (C1).
//! * `loom_join_waker_vs_complete`: the join handle installs and then
//!   replaces its waker (JOIN_WAKER rules 1–4 in `state.rs`) while the task
//!   completes; the join is never left asleep, the output arrives.
//! * `loom_join_handle_drop_vs_complete{,_after_poll}`: the handle dropped
//!   while the task completes: the output is dropped exactly once, by the
//!   handle or by the runtime, and the task is freed (C4).

use std::future::poll_fn;
use std::task::{Poll, Waker};

use loom::thread;

use super::model;
use super::util::{
    block_on, counting_waker, poll_join, spawn, Polls, Signal, TestSched, Tracked, WakeBy,
};
use crate::loom::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::loom::Arc;

/// A task waiting on `signal`; a second thread sets it and wakes. After
/// the main thread has run the queue before and after joining that
/// thread, the task must be complete (a lost wake leaves it idle).
fn wake_vs_poll(by: WakeBy) {
    model(move || {
        let sched = TestSched::new();
        let signal = Signal::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let polls = Polls::new();

        let fut = {
            let (signal, polls) = (signal.clone(), polls.clone());
            let on_future = Tracked::new(&drops);
            let mut output = Some(Tracked::new(&drops));
            poll_fn(move |cx| {
                let _poll = polls.enter();
                let _owned = &on_future;
                match signal.poll(cx) {
                    Poll::Ready(()) => Poll::Ready(output.take().expect("polled after Ready")),
                    Poll::Pending => Poll::Pending,
                }
            })
        };
        let mut join = spawn(&sched, fut, None);

        let waker_thread = {
            let signal = signal.clone();
            thread::spawn(move || signal.set_and_wake(by))
        };
        sched.run_all();
        waker_thread.join().unwrap();
        sched.run_all();

        let out = match poll_join(&mut join, Waker::noop()) {
            Poll::Ready(Ok(out)) => out,
            Poll::Ready(Err(e)) => panic!("task failed: {e:?}"),
            Poll::Pending => panic!("wake lost: task idle with its event set (C1)"),
        };
        assert!(polls.total() <= 2);
        assert_eq!(drops.load(Relaxed), 1, "future dropped once, output alive");
        drop(out);
        assert_eq!(drops.load(Relaxed), 2);
        drop(join);
    });
}

#[test]
fn loom_wake_by_val_vs_poll() {
    wake_vs_poll(WakeBy::Val);
}

#[test]
fn loom_wake_by_ref_vs_poll() {
    wake_vs_poll(WakeBy::Ref);
}

/// The join handle, on another thread, polls with one waker, then blocks
/// (`block_on`: a lost join wake is a loom deadlock) with
/// another, while the main thread runs the task to completion.
#[test]
fn loom_join_waker_vs_complete() {
    model(|| {
        let sched = TestSched::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let mut output = Some(Tracked::new(&drops));
        let mut join = spawn(
            &sched,
            poll_fn(move |_| Poll::Ready(output.take().unwrap())),
            None,
        );

        let joiner = thread::spawn(move || {
            let wakes = Arc::new(AtomicUsize::new(0));
            let first = counting_waker(&wakes);
            let out = match poll_join(&mut join, &first) {
                Poll::Ready(res) => res,
                // Rule 3: the handle swaps its waker for block_on's.
                Poll::Pending => block_on(&mut join),
            };
            drop(out.expect("task failed"));
            // The first waker may be woken (if the task completed while it
            // was installed) but it is released either way: loom's leak
            // check fails the model if the slot kept a clone.
            drop(join);
        });
        sched.run_all();
        joiner.join().unwrap();
        assert_eq!(drops.load(Relaxed), 1, "output dropped exactly once");
    });
}

/// The join handle dropped on another thread while the task completes:
/// its output is dropped exactly once and the task freed. With
/// `poll_first`, the handle first installs a join waker (so the runtime
/// may end up owning and dropping it, rule 4).
fn join_handle_drop_vs_complete(poll_first: bool) {
    model(move || {
        let sched = TestSched::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let fut = {
            let on_future = Tracked::new(&drops);
            let mut output = Some(Tracked::new(&drops));
            poll_fn(move |_| {
                let _owned = &on_future;
                Poll::Ready(output.take().unwrap())
            })
        };
        let mut join = spawn(&sched, fut, None);

        let dropper = thread::spawn(move || {
            if poll_first {
                let wakes = Arc::new(AtomicUsize::new(0));
                if let Poll::Ready(res) = poll_join(&mut join, &counting_waker(&wakes)) {
                    drop(res.expect("task failed"));
                }
            }
            drop(join);
        });
        sched.run_all();
        dropper.join().unwrap();
        assert_eq!(
            drops.load(Relaxed),
            2,
            "future and output dropped exactly once"
        );
    });
}

#[test]
fn loom_join_handle_drop_vs_complete() {
    join_handle_drop_vs_complete(false);
}

#[test]
fn loom_join_handle_drop_vs_complete_after_poll() {
    join_handle_drop_vs_complete(true);
}
