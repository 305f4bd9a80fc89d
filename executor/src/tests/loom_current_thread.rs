//! The single-threaded scheduler's wake protocol (`scheduler/current_thread.rs`):
//! a wake from another thread into the current-thread runtime (or a
//! `LocalSet`) is never lost while its driver goes to sleep.
//!
//! * `loom_current_thread_remote_wake_vs_sleep`: the driving thread runs
//!   its queue, registers its wake hook and parks (the runtime's parker,
//!   no I/O driver), exactly as `block_on` does; another thread wakes the
//!   parked task at any point of that. The driver must run the task to
//!   completion — a lost wake leaves it parked forever, which loom reports
//!   as a deadlock.
//! * `loom_current_thread_two_remote_wakes`: two tasks, each woken from its
//!   own thread (the hook is taken by the first push; the second finds
//!   none and must still be seen).
//!
//! Weakened (checked when written, both models deadlock each time):
//! splitting `sleep_unless_work` into a locked queue check and a second
//! locked registration (the push lands in between and finds no hook), or
//! having `push` take the hook in its own critical section before the
//! append (the driver registers in between and is never woken).

use std::task::{Poll, Wake, Waker};

use loom::thread;

use super::model;
use super::util::{Signal, WakeBy};
use crate::loom::Arc;
use crate::scheduler::current_thread::{Shared, Sleep};
use crate::scheduler::park::{Parker, SharedDriver, Unparker};
use crate::task::{new_task, Binding, JoinHandle, Meta, Schedule};

/// The driver's wake hook, as the runtime's `block_on` builds it.
struct Hook(Unparker);

impl Wake for Hook {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

#[track_caller]
fn spawn_waiting(shared: &Arc<Shared>, signal: &Arc<Signal>) -> JoinHandle<()> {
    let signal = signal.clone();
    let fut = std::future::poll_fn(move |cx| signal.poll(cx));
    let meta = Meta {
        binding: Binding::Off,
        name: None,
        location: std::panic::Location::caller(),
        parent: 0,
    };
    let (task, notified, join) = new_task(fut, shared.clone(), meta);
    assert!(shared.owned.bind(task).is_ok());
    shared.schedule(notified);
    join
}

/// The driving loop of `block_on` (runtime/current_thread.rs) without
/// the I/O driver: run, register the hook unless work is queued, park.
fn drive_until(shared: &Arc<Shared>, done: impl Fn() -> bool) {
    let mut parker = Parker::new(Arc::new(SharedDriver::new(None)));
    let hook = Waker::from(std::sync::Arc::new(Hook(parker.unparker())));
    let _driving = shared.enter_driving();
    loop {
        shared.run_batch();
        if done() {
            return;
        }
        if shared.sleep_unless_work(&hook) == Sleep::Registered {
            parker.park(None);
        }
    }
}

fn finished<T>(join: &JoinHandle<T>) -> bool {
    join.is_finished()
}

#[test]
fn loom_current_thread_remote_wake_vs_sleep() {
    model(|| {
        let shared = Shared::new(None);
        let signal = Signal::new();
        let join = spawn_waiting(&shared, &signal);
        let waker = {
            let signal = signal.clone();
            thread::spawn(move || signal.set_and_wake(WakeBy::Val))
        };
        drive_until(&shared, || finished(&join));
        waker.join().unwrap();
        let mut join = join;
        let out = super::util::poll_join(&mut join, Waker::noop());
        assert!(matches!(out, Poll::Ready(Ok(()))));
        shared.shutdown();
    });
}

#[test]
fn loom_current_thread_two_remote_wakes() {
    model(|| {
        let shared = Shared::new(None);
        let (s1, s2) = (Signal::new(), Signal::new());
        let j1 = spawn_waiting(&shared, &s1);
        let j2 = spawn_waiting(&shared, &s2);
        let w1 = thread::spawn(move || s1.set_and_wake(WakeBy::Ref));
        let w2 = thread::spawn(move || s2.set_and_wake(WakeBy::Val));
        drive_until(&shared, || finished(&j1) && finished(&j2));
        w1.join().unwrap();
        w2.join().unwrap();
        drop((j1, j2));
        shared.shutdown();
    });
}
