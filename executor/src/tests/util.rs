//! Test fixtures for the loom models: a scheduler that checks contract C3,
//! futures whose polls, wakes and drops the models can observe, and wakers
//! built on `loom::sync::Arc` (so a leaked waker fails the model).
//!
//! Counters here are `Relaxed`: they are read after `join` (or after the
//! read-modify-writes of the task state word that the asserting code
//! synchronised with), which orders them; RMWs on one counter are atomic
//! whatever the ordering, which is all "never more than one" needs.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use loom::sync::Condvar;
use quell_cancel::CancelToken;

use crate::loom::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::loom::{Arc, Mutex};
use crate::task::list::OwnedTasks;
use crate::task::{new_task, Binding, JoinError, JoinHandle, Meta, Notified, Schedule, Task};

pub(super) type TestNotified = Notified<Arc<TestSched>>;

/// A run queue (a loom `Mutex<VecDeque>`) and an owned-task list.
///
/// `schedule` asserts contract C3: a task is never queued twice (the
/// queue never holds two `Notified` of one task).
pub(super) struct TestSched {
    queue: Mutex<VecDeque<TestNotified>>,
    owned: OwnedTasks<Arc<TestSched>>,
    /// The root token that resolves `Binding::Root` (`with_root`).
    root: Option<CancelToken>,
}

impl Schedule for Arc<TestSched> {
    fn schedule(&self, task: TestNotified) {
        let mut q = self.queue.lock().unwrap();
        assert!(
            !q.iter().any(|t| std::ptr::eq(t.header(), task.header())),
            "task queued twice (C3)"
        );
        q.push_back(task);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    fn root_token(&self) -> Option<&CancelToken> {
        self.root.as_ref()
    }
}

impl TestSched {
    pub(super) fn new() -> Arc<TestSched> {
        TestSched::build(None)
    }

    /// A scheduler whose root token is `root` (as a runtime's).
    pub(super) fn with_root(root: CancelToken) -> Arc<TestSched> {
        TestSched::build(Some(root))
    }

    fn build(root: Option<CancelToken>) -> Arc<TestSched> {
        Arc::new(TestSched {
            root,
            queue: Mutex::new(VecDeque::new()),
            owned: OwnedTasks::new(),
        })
    }

    /// Pops and polls one queued task; false if the queue was empty.
    pub(super) fn run_one(&self) -> bool {
        // The guard is a temporary of this statement: the poll runs unlocked.
        let next = self.queue.lock().unwrap().pop_front();
        match next {
            Some(task) => {
                task.run();
                true
            }
            None => false,
        }
    }

    /// Polls queued tasks until the queue is empty.
    pub(super) fn run_all(&self) {
        while self.run_one() {}
    }
}

/// Spawns `future` on `sched` (bound in its owned list, first `Notified`
/// queued), under `token` if given.
#[track_caller]
pub(super) fn spawn<F>(
    sched: &Arc<TestSched>,
    future: F,
    token: Option<CancelToken>,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_bound(sched, future, token.map_or(Binding::Off, Binding::Token))
}

/// As [`spawn`], with the binding given (e.g. `Binding::Inherit` for a
/// child that inherits its spawner's scope).
#[track_caller]
pub(super) fn spawn_bound<F>(
    sched: &Arc<TestSched>,
    future: F,
    binding: Binding,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let meta = Meta {
        binding,
        name: None,
        location: Location::caller(),
        parent: 0,
    };
    let (task, notified, join) = new_task(future, sched.clone(), meta);
    assert!(sched.owned.bind(task).is_ok(), "owned list closed");
    sched.schedule(notified);
    join
}

/// Polls a join handle once with `waker`.
pub(super) fn poll_join<T>(join: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(waker))
}

/// Counts drops: a future or an output that carries one is dropped exactly
/// once iff the counter ends at the number of `Tracked` made.
pub(super) struct Tracked(Arc<AtomicUsize>);

impl Tracked {
    pub(super) fn new(drops: &Arc<AtomicUsize>) -> Tracked {
        Tracked(drops.clone())
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

/// Counts polls and asserts that no two overlap (contract C3).
pub(super) struct Polls {
    total: AtomicUsize,
    active: AtomicUsize,
}

/// Leaves the poll on drop.
pub(super) struct PollGuard<'a>(&'a Polls);

impl Polls {
    pub(super) fn new() -> Arc<Polls> {
        Arc::new(Polls {
            total: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
        })
    }

    pub(super) fn enter(&self) -> PollGuard<'_> {
        assert_eq!(
            self.active.fetch_add(1, Relaxed),
            0,
            "polled twice at once (C3)"
        );
        self.total.fetch_add(1, Relaxed);
        PollGuard(self)
    }

    pub(super) fn total(&self) -> usize {
        self.total.load(Relaxed)
    }
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Relaxed);
    }
}

/// A one-shot event with a waker slot: the task polls it, another thread
/// sets it and wakes the stored waker (the usual shape of a leaf future).
pub(super) struct Signal {
    inner: Mutex<(bool, Option<Waker>)>,
}

/// How [`Signal::set_and_wake`] wakes.
#[derive(Clone, Copy, Debug)]
pub(super) enum WakeBy {
    Val,
    Ref,
}

impl Signal {
    pub(super) fn new() -> Arc<Signal> {
        Arc::new(Signal {
            inner: Mutex::new((false, None)),
        })
    }

    pub(super) fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut g = self.inner.lock().unwrap();
        if g.0 {
            return Poll::Ready(());
        }
        if !g.1.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            g.1 = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Sets the event; wakes the stored waker outside the lock.
    pub(super) fn set_and_wake(&self, by: WakeBy) {
        let waker = {
            let mut g = self.inner.lock().unwrap();
            g.0 = true;
            g.1.take()
        };
        if let Some(w) = waker {
            match by {
                WakeBy::Val => w.wake(),
                WakeBy::Ref => {
                    w.wake_by_ref();
                    drop(w);
                }
            }
        }
    }
}

/// A waker that counts its wakes, holding a `loom::sync::Arc` (so loom
/// reports it if the join-waker slot leaks it).
pub(super) fn counting_waker(count: &Arc<AtomicUsize>) -> Waker {
    let ptr = Arc::into_raw(count.clone()) as *const ();
    // SAFETY: the vtable below treats the data pointer as an owned
    // `Arc<AtomicUsize>` reference, which `ptr` is.
    unsafe { Waker::from_raw(RawWaker::new(ptr, &COUNTING_VTABLE)) }
}

static COUNTING_VTABLE: RawWakerVTable =
    RawWakerVTable::new(cw_clone, cw_wake, cw_wake_by_ref, cw_drop);

/// # Safety
///
/// `ptr` must come from `Arc::into_raw` of an `Arc<AtomicUsize>`. The waker being cloned must own its reference.
unsafe fn cw_clone(ptr: *const ()) -> RawWaker {
    // SAFETY: `ptr` came from `Arc::into_raw` and the waker being cloned
    // keeps that reference alive.
    unsafe { Arc::increment_strong_count(ptr as *const AtomicUsize) };
    RawWaker::new(ptr, &COUNTING_VTABLE)
}

/// # Safety
///
/// `ptr` must come from `Arc::into_raw` of an `Arc<AtomicUsize>`. Consumes the waker's reference: the waker is not used again.
unsafe fn cw_wake(ptr: *const ()) {
    // SAFETY: the waker owns one reference, consumed here.
    let count = unsafe { Arc::from_raw(ptr as *const AtomicUsize) };
    count.fetch_add(1, Relaxed);
}

/// # Safety
///
/// `ptr` must come from `Arc::into_raw` of an `Arc<AtomicUsize>`. The waker must own its reference for the call's duration.
unsafe fn cw_wake_by_ref(ptr: *const ()) {
    // SAFETY: the waker's reference keeps the counter alive during the call.
    let count = unsafe { &*(ptr as *const AtomicUsize) };
    count.fetch_add(1, Relaxed);
}

/// # Safety
///
/// `ptr` must come from `Arc::into_raw` of an `Arc<AtomicUsize>`. Releases the waker's reference: the waker is not used again.
unsafe fn cw_drop(ptr: *const ()) {
    // SAFETY: the waker owns one reference, released here.
    drop(unsafe { Arc::from_raw(ptr as *const AtomicUsize) });
}

/// Blocks the current loom thread until `fut` completes (a loom condvar
/// waits for the wake). A wake that never comes leaves the thread blocked,
/// which loom reports as a deadlock once every thread is blocked.
pub(super) fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let notify = Arc::new(Notify {
        woken: Mutex::new(false),
        cv: Condvar::new(),
    });
    let waker = notify_waker(&notify);
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        let mut woken = notify.woken.lock().unwrap();
        while !*woken {
            woken = notify.cv.wait(woken).unwrap();
        }
        *woken = false;
    }
}

struct Notify {
    woken: Mutex<bool>,
    cv: Condvar,
}

impl Notify {
    fn notify(&self) {
        *self.woken.lock().unwrap() = true;
        self.cv.notify_one();
    }
}

fn notify_waker(notify: &Arc<Notify>) -> Waker {
    let ptr = Arc::into_raw(notify.clone()) as *const ();
    // SAFETY: the vtable below treats the data pointer as an owned
    // `Arc<Notify>` reference, which `ptr` is.
    unsafe { Waker::from_raw(RawWaker::new(ptr, &NOTIFY_VTABLE)) }
}

static NOTIFY_VTABLE: RawWakerVTable =
    RawWakerVTable::new(nw_clone, nw_wake, nw_wake_by_ref, nw_drop);

/// # Safety
///
/// `ptr` must come from `Arc::into_raw` of an `Arc<Notify>`. The waker being cloned must own its reference.
unsafe fn nw_clone(ptr: *const ()) -> RawWaker {
    // SAFETY: `ptr` came from `Arc::into_raw`; the waker being cloned keeps
    // that reference alive.
    unsafe { Arc::increment_strong_count(ptr as *const Notify) };
    RawWaker::new(ptr, &NOTIFY_VTABLE)
}

/// # Safety
///
/// `ptr` must come from `Arc::into_raw` of an `Arc<Notify>`. Consumes the waker's reference: the waker is not used again.
unsafe fn nw_wake(ptr: *const ()) {
    // SAFETY: the waker owns one reference, consumed here.
    let notify = unsafe { Arc::from_raw(ptr as *const Notify) };
    notify.notify();
}

/// # Safety
///
/// `ptr` must come from `Arc::into_raw` of an `Arc<Notify>`. The waker must own its reference for the call's duration.
unsafe fn nw_wake_by_ref(ptr: *const ()) {
    // SAFETY: the waker's reference keeps the `Notify` alive during the call.
    unsafe { &*(ptr as *const Notify) }.notify();
}

/// # Safety
///
/// `ptr` must come from `Arc::into_raw` of an `Arc<Notify>`. Releases the waker's reference: the waker is not used again.
unsafe fn nw_drop(ptr: *const ()) {
    // SAFETY: the waker owns one reference, released here.
    drop(unsafe { Arc::from_raw(ptr as *const Notify) });
}
