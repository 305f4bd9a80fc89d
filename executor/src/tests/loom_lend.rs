//! A spawn that inherits through the spawner task (`task/lend.rs`,
//! contract C10).
//!
//! * `loom_lend_parent_cancel_vs_child_resolution`: the parent's
//!   `JoinHandle::cancel` races its child's first poll (both may make the
//!   parent's node): the child inherits the cancel or is born with it.
//! * `loom_lend_parent_completion_vs_parent_cancel`: the parent completes
//!   (sealing its own slot) while its handle is cancelled: the child sees
//!   the handle's cause exactly when that cancel answered `true`.
//! * `loom_lend_child_cancel_vs_child_resolution`: the child's own
//!   `JoinHandle::cancel` resolves it from another thread while its first
//!   poll does: one resolver takes the parent's ref, the other waits, the
//!   ref is dropped once (loom's leak and double-free checks).

use std::future::{poll_fn, Future};
use std::sync::Mutex as StdMutex;
use std::task::{Poll, Waker};

use loom::thread;
use quell_cancel::rt_internal as context;
use quell_cancel::{CancelToken, Cause};

use super::model;
use super::util::{poll_join, spawn_bound, TestSched};
use crate::loom::Arc;
use crate::task::{inherit_from, Binding, JoinHandle};

type Slot = Arc<StdMutex<Option<JoinHandle<Option<String>>>>>;

/// Resolves with the cause's message once the current scope is cancelled.
fn until_cancelled() -> impl Future<Output = Option<String>> + Send {
    poll_fn(|_| match context::observed() {
        Some(c) => Poll::Ready(c.cause().message().map(str::to_owned)),
        None => Poll::Pending,
    })
}

/// Spawns `child` as the runtime's `spawn` does from inside a task: it
/// inherits through the current task (its first spawn), or the task's
/// node if one exists already.
fn spawn_lent(
    sched: &Arc<TestSched>,
    root: &CancelToken,
    child: impl Future<Output = Option<String>> + Send + 'static,
) -> JoinHandle<Option<String>> {
    let binding = context::with_current(|t| {
        let frame = t.and_then(|t| t.runtime_task()).expect("in a task");
        // SAFETY: the current frame's own answer, while it is current.
        unsafe { inherit_from(frame, root) }.expect("same root").0
    });
    spawn_bound(sched, child, binding)
}

/// A parent (under `binding`) that spawns one lent child into `slot`,
/// then awaits `rest`.
fn parent(
    sched: &Arc<TestSched>,
    root: &CancelToken,
    binding: Binding,
    slot: &Slot,
    rest: impl Future<Output = Option<String>> + Send + 'static,
) -> JoinHandle<Option<String>> {
    let (s2, r2, slot2) = (sched.clone(), root.clone(), slot.clone());
    spawn_bound(
        sched,
        async move {
            *slot2.lock().unwrap() = Some(spawn_lent(&s2, &r2, until_cancelled()));
            rest.await
        },
        binding,
    )
}

fn cause_of(join: &mut JoinHandle<Option<String>>) -> Option<String> {
    match poll_join(join, Waker::noop()) {
        Poll::Ready(Ok(cause)) => cause,
        other => panic!("not done: {other:?}"),
    }
}

#[test]
fn loom_lend_parent_cancel_vs_child_resolution() {
    model(|| {
        let root = CancelToken::new();
        let sched = TestSched::with_root(root.clone());
        let slot: Slot = Arc::new(StdMutex::new(None));
        let parent = parent(&sched, &root, Binding::Root, &slot, until_cancelled());
        // The parent's first poll lends its scope to the child.
        assert!(sched.run_one());
        let canceller = thread::spawn(move || {
            assert!(parent.cancel(Cause::explicit("h")), "nothing else cancels");
            parent
        });
        // The child's first poll (its resolution) races the cancel.
        sched.run_all();
        let mut parent = canceller.join().unwrap();
        sched.run_all();
        let mut child = slot.lock().unwrap().take().expect("child spawned");
        assert_eq!(cause_of(&mut parent).as_deref(), Some("h"));
        assert_eq!(cause_of(&mut child).as_deref(), Some("h"), "cancel lost");
    });
}

#[test]
fn loom_lend_parent_completion_vs_parent_cancel() {
    model(|| {
        let root = CancelToken::new();
        let sched = TestSched::with_root(root.clone());
        let slot: Slot = Arc::new(StdMutex::new(None));
        let parent = parent(&sched, &root, Binding::Root, &slot, async { None });
        let canceller = thread::spawn(move || parent.cancel(Cause::explicit("h")));
        // The parent lends and completes (sealing), racing the cancel.
        assert!(sched.run_one());
        let cancelled = canceller.join().unwrap();
        // The child resolves, parks; then the root goes.
        sched.run_all();
        root.cancel(Cause::explicit("root"));
        sched.run_all();
        let mut child = slot.lock().unwrap().take().expect("child spawned");
        let expect = if cancelled { "h" } else { "root" };
        assert_eq!(cause_of(&mut child).as_deref(), Some(expect));
    });
}

#[test]
fn loom_lend_child_cancel_vs_child_resolution() {
    model(|| {
        let root = CancelToken::new();
        let sched = TestSched::with_root(root.clone());
        let slot: Slot = Arc::new(StdMutex::new(None));
        // Under a token of its own: the child resolves to that token (a
        // clone published with the resolution), not to the root.
        let own = Binding::Token(CancelToken::new());
        let mut parent = parent(&sched, &root, own, &slot, async { None });
        // The parent lends and completes.
        assert!(sched.run_one());
        let child = slot.lock().unwrap().take().expect("child spawned");
        let canceller = thread::spawn(move || {
            assert!(child.cancel(Cause::explicit("c")), "nothing else cancels");
            child
        });
        sched.run_all();
        let mut child = canceller.join().unwrap();
        sched.run_all();
        assert_eq!(cause_of(&mut parent), None);
        assert_eq!(cause_of(&mut child).as_deref(), Some("c"));
    });
}
