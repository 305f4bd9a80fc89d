//! A task's cancel scope under composition (contracts C10, C11).
//!
//! * `loom_scope_handle_cancel_vs_child_spawn`: `JoinHandle::cancel` races
//!   the task creating its own node to spawn a child (both create the node;
//!   one wins): the child inherits the cancel or is born with it, and sees
//!   the handle's cause.
//! * `loom_scope_join_cancel_vs_child_completion`: the awaiter is cancelled
//!   while the awaited task (outside its scope) completes: the output is
//!   never lost nor dropped twice, and the handle stays usable after an
//!   awaiter-cancelled answer.

use std::future::poll_fn;
use std::sync::Mutex as StdMutex;
use std::task::{Poll, Waker};

use loom::thread;
use quell_cancel::rt_internal::{self as context, TaskCancel};
use quell_cancel::{CancelToken, Cause};

use super::model;
use super::util::{block_on, poll_join, spawn, spawn_bound, TestSched, Tracked};
use crate::loom::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::loom::Arc;
use crate::task::{Binding, JoinHandle};

/// Resolves with the cause's message once the current scope is cancelled.
fn until_cancelled() -> impl std::future::Future<Output = Option<String>> + Send {
    poll_fn(|_| match context::observed() {
        Some(c) => Poll::Ready(c.cause().message().map(str::to_owned)),
        None => Poll::Pending,
    })
}

#[test]
fn loom_scope_handle_cancel_vs_child_spawn() {
    model(|| {
        let sched = TestSched::new();
        let child_slot: Arc<StdMutex<Option<JoinHandle<Option<String>>>>> =
            Arc::new(StdMutex::new(None));
        let (s2, slot2) = (sched.clone(), child_slot.clone());
        let parent = spawn(
            &sched,
            async move {
                // `spawn` inside a task: the child inherits the scope, which
                // creates the task's own node (racing the canceller's).
                let scope = quell_cancel::current();
                let child = spawn_bound(&s2, until_cancelled(), Binding::Inherit(scope));
                *slot2.lock().unwrap() = Some(child);
                until_cancelled().await
            },
            Some(CancelToken::new()),
        );
        let canceller = thread::spawn(move || {
            assert!(parent.cancel(Cause::explicit("h")), "nothing else cancels");
            parent
        });
        sched.run_all();
        let mut parent = canceller.join().unwrap();
        sched.run_all();
        let mut child = child_slot.lock().unwrap().take().expect("child spawned");
        for join in [&mut parent, &mut child] {
            match poll_join(join, Waker::noop()) {
                Poll::Ready(Ok(cause)) => assert_eq!(cause.as_deref(), Some("h")),
                other => panic!("cancel lost or wrong: {other:?}"),
            }
        }
    });
}

/// The awaiting task: a scope token that a test thread cancels.
struct Awaiter(CancelToken);

impl TaskCancel for Awaiter {
    fn token(&self) -> &CancelToken {
        &self.0
    }
}

#[test]
fn loom_scope_join_cancel_vs_child_completion() {
    model(|| {
        let sched = TestSched::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        // Outside the awaiter's scope: its own token.
        let mut join = spawn(
            &sched,
            async move { Tracked::new(&d) },
            Some(CancelToken::new()),
        );
        let awaiter = Awaiter(CancelToken::new());
        let token = awaiter.0.clone();
        let runner = {
            let sched = sched.clone();
            thread::spawn(move || sched.run_all())
        };
        let canceller = thread::spawn(move || token.cancel(Cause::explicit("awaiter")));
        let first = context::enter(&awaiter, || poll_join(&mut join, Waker::noop()));
        runner.join().unwrap();
        canceller.join().unwrap();
        let out = match first {
            Poll::Ready(Ok(out)) => out,
            Poll::Ready(Err(e)) => {
                assert!(e.is_awaiter_cancelled(), "{e:?}");
                // The handle stays usable: its output is still there.
                block_on(&mut join).expect("output after an awaiter cancel")
            }
            Poll::Pending => block_on(&mut join).expect("output"),
        };
        assert_eq!(drops.load(Relaxed), 0, "output dropped before it was read");
        drop(out);
        drop(join);
        assert_eq!(drops.load(Relaxed), 1, "output dropped exactly once");
    });
}
