//! No stranded work (C5): a push racing a worker on its way to park, and
//! the parker itself (an unpark before, during or after a park is never
//! lost).
//!
//! The scheduler models run real workers (`worker::run`) on loom threads
//! and wait for the pushed task with `block_on` on its join
//! handle: if the push is stranded, every thread ends up blocked (the
//! worker in its parker, the main thread in `block_on`) and loom reports a
//! deadlock. A small config keeps the state space small: no spinning
//! before parking, and with two workers only one of them may search.

use std::future::{poll_fn, Future};
use std::panic::Location;
use std::task::Poll;
use std::time::Duration;

use loom::sync::Condvar;
use loom::thread;

use super::model;
use super::util::block_on;
use crate::loom::atomic::{AtomicBool, Ordering::*};
use crate::loom::{Arc, Mutex};
use crate::scheduler::park::{loom_driver_pair, Parker, SharedDriver};
use crate::scheduler::{worker, Config, Handle, Notif};
use crate::task::{new_task, Binding, JoinHandle, Meta};

pub(super) fn config() -> Config {
    Config {
        global_queue_interval: 31,
        lifo_slot: true,
        max_lifo_polls: 3,
        spin_before_park: 0,
        lifo_steal_after: Duration::ZERO,
        lifo_offer: false,
        event_interval: 61,
    }
}

/// Starts `n` workers, each on a loom thread with a core from `handle.cores`.
pub(super) fn start_workers(handle: &Arc<Handle>, n: usize) -> Vec<thread::JoinHandle<()>> {
    (0..n)
        .map(|_| {
            let core = handle.cores.lock().unwrap().pop().expect("a free core");
            let handle = handle.clone();
            thread::spawn(move || worker::run(handle, core))
        })
        .collect()
}

/// The runtime's shutdown sequence: stop the workers, join them, drop
/// what is left.
pub(super) fn stop(handle: &Arc<Handle>, workers: Vec<thread::JoinHandle<()>>) {
    handle.begin_shutdown();
    for w in workers {
        w.join().unwrap();
    }
    handle.finish_shutdown();
}

/// Spawns `future` from off-worker: bind, then push to the injector (the
/// pusher side of the idle protocol, as `Handle::push_remote` does it).
#[track_caller]
pub(super) fn spawn_remote<F>(handle: &Arc<Handle>, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (notified, join) = bind(handle, future);
    handle.push_remote(notified);
    join
}

/// Spawns `future` the way a task running on a worker does when its LIFO
/// slot is full: to that worker's local queue (`worker::schedule`, then
/// `notify_parked`). (A spawn into an empty slot is an offered LIFO fill,
/// the fill of `loom_lifo_offered_busy_waker`.)
#[track_caller]
pub(super) fn spawn_from_worker<F>(handle: &Arc<Handle>, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (notified, join) = bind(handle, future);
    worker::schedule(handle, notified, worker::Kind::Yielded);
    join
}

/// A task that spawns a task from its worker, scheduled as `kind`
/// (`Yielded`: the local queue, as [`spawn_from_worker`]; `Spawned`: the
/// empty LIFO slot), and then blocks that worker until the spawned task
/// has run: only the other worker can run it. Its output is the spawned
/// task's handle.
pub(super) fn spawn_then_block(
    handle: &Arc<Handle>,
    kind: worker::Kind,
) -> impl Future<Output = JoinHandle<()>> + Send + 'static {
    let handle = handle.clone();
    poll_fn(move |_| {
        let ran = Event::new();
        let r = ran.clone();
        let (spawned, join) = bind(
            &handle,
            poll_fn(move |_| {
                r.set();
                Poll::Ready(())
            }),
        );
        worker::schedule(&handle, spawned, kind);
        ran.wait();
        Poll::Ready(join)
    })
}

#[track_caller]
pub(super) fn bind<F>(handle: &Arc<Handle>, future: F) -> (Notif, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let meta = Meta {
        binding: Binding::Off,
        name: None,
        location: Location::caller(),
        parent: 0,
    };
    let (task, notified, join) = new_task(future, handle.clone(), meta);
    assert!(handle.owned.bind(task).is_ok(), "owned list closed");
    (notified, join)
}

/// A one-shot event that blocks a loom thread (a condvar).
pub(super) struct Event(Mutex<bool>, Condvar);

impl Event {
    pub(super) fn new() -> Arc<Event> {
        Arc::new(Event(Mutex::new(false), Condvar::new()))
    }
    pub(super) fn set(&self) {
        *self.0.lock().unwrap() = true;
        self.1.notify_all();
    }
    pub(super) fn wait(&self) {
        let mut set = self.0.lock().unwrap();
        while !*set {
            set = self.1.wait(set).unwrap();
        }
    }
}

/// A push from the main thread racing the only worker's first search and
/// park: the worker is the last searcher, so this covers both sides of the
/// idle protocol (pusher wakes a parked worker, or the parking last
/// searcher re-checks the queues and finds the task).
#[test]
fn loom_park_push_one_worker() {
    model(|| {
        let handle = Handle::new(1, config(), SharedDriver::new(None));
        let workers = start_workers(&handle, 1);

        let join = spawn_remote(&handle, poll_fn(|_| Poll::Ready(7)));
        assert_eq!(block_on(join).unwrap(), 7);

        stop(&handle, workers);
    });
}

/// C5 through the driver: the only worker parks *in the I/O driver* (its
/// maintenance turns and its park go through `SharedDriver`); a push from
/// the main thread must wake it through the driver's unpark.
#[test]
fn loom_park_push_worker_in_driver() {
    model(|| {
        let shared = SharedDriver::new(Some(loom_driver_pair()));
        let handle = Handle::new(1, config(), shared);
        let workers = start_workers(&handle, 1);

        let join = spawn_remote(&handle, poll_fn(|_| Poll::Ready(7)));
        assert_eq!(block_on(join).unwrap(), 7);

        stop(&handle, workers);
    });
}

/// Two workers: the push races both workers' search and park; whichever
/// state they are in, one of them runs the task.
#[test]
fn loom_park_push_two_workers() {
    model(|| {
        let handle = Handle::new(2, config(), SharedDriver::new(None));
        let workers = start_workers(&handle, 2);

        let join = spawn_remote(&handle, poll_fn(|_| Poll::Ready(7)));
        assert_eq!(block_on(join).unwrap(), 7);

        stop(&handle, workers);
    });
}

/// A push to a worker's *local* queue (no injector, so no fence of
/// `push_remote`'s: only the idle protocol's own) racing the other worker,
/// the last searcher, going to park. The task that pushes then blocks its
/// worker until the pushed task has run, so only the other worker can run
/// it: if the pusher skips the wake (it saw a searcher) and the searcher
/// parks without seeing the task (no re-check, or a missing fence), every
/// thread blocks.
///
/// The first task is queued before the workers start, and the LIFO slot is
/// off (the pushed task must be stealable at once), to keep the model small.
#[test]
fn loom_park_local_push_vs_last_searcher() {
    model(|| {
        let cfg = Config {
            lifo_slot: false,
            ..config()
        };
        let handle = Handle::new(2, cfg, SharedDriver::new(None));
        let join = spawn_remote(&handle, spawn_then_block(&handle, worker::Kind::Yielded));
        let workers = start_workers(&handle, 2);

        let pushed = block_on(join).unwrap();
        block_on(pushed).unwrap();
        stop(&handle, workers);
    });
}

/// A wake batch (a cancel reaching several tasks, `worker::wake_batch`)
/// racing the other worker, the last searcher, going to park. Inside the
/// batch the woken task is queued locally without a notification; an
/// announced batch's close (lifo.rs step 8: the worker offers, as it does
/// when its polls ran long) must notify (pusher steps 2–3 of the idle
/// protocol) for what it queued. The task that wakes then blocks its
/// worker until the woken task has run, so only the other worker can run
/// it: if the close skips the notification, or the searcher parks without
/// seeing the task, every thread blocks (it does with the close's
/// notification removed). The LIFO slot is on (outside a batch the wake
/// would be a LIFO fill). A quiet batch (the worker defers) is
/// `loom_lifo_quiet_batch_then_busy_spawner`.
#[test]
fn loom_park_wake_batch_vs_last_searcher() {
    model(|| {
        let cfg = Config {
            lifo_offer: true,
            ..config()
        };
        let handle = Handle::new(2, cfg, SharedDriver::new(None));
        let first = {
            let handle = handle.clone();
            poll_fn(move |_| {
                let ran = Event::new();
                let r = ran.clone();
                let (woken, join) = bind(
                    &handle,
                    poll_fn(move |_| {
                        r.set();
                        Poll::Ready(())
                    }),
                );
                assert!(worker::wake_batch(true), "a poll has its core at hand");
                // As a waker's wake does (not a yield: LIFO outside a batch).
                worker::schedule(&handle, woken, worker::Kind::Woken);
                assert!(worker::wake_batch(false));
                // Block this worker until the other one has run the task.
                ran.wait();
                Poll::Ready(join)
            })
        };
        let join = spawn_remote(&handle, first);
        let workers = start_workers(&handle, 2);

        let woken = block_on(join).unwrap();
        block_on(woken).unwrap();
        stop(&handle, workers);
    });
}

/// One park racing one unpark from another thread (before, during, after):
/// the park returns, and what the unparker wrote before unparking is
/// visible after it. `in_driver`: the parker parks in the I/O driver
/// (PARKED_DRIVER) instead of on its thread (PARKED_THREAD).
fn parker_vs_unpark(in_driver: bool) {
    model(move || {
        let shared = SharedDriver::new(in_driver.then(loom_driver_pair));
        let mut parker = Parker::new(Arc::new(shared));
        let unparker = parker.unparker();
        let written = Arc::new(AtomicBool::new(false));

        let th = {
            let written = written.clone();
            thread::spawn(move || {
                written.store(true, Relaxed);
                unparker.unpark();
            })
        };
        parker.park(None);
        // Relaxed: ordered by the unparker's AcqRel swap and the parker's
        // Acquire RMW that consumed NOTIFIED (what is checked here).
        assert!(written.load(Relaxed), "park returned before the unpark");
        th.join().unwrap();
    });
}

#[test]
fn loom_parker_unpark_thread() {
    parker_vs_unpark(false);
}

#[test]
fn loom_parker_unpark_driver() {
    parker_vs_unpark(true);
}
