//! The LIFO slot's notification protocol (scheduler/lifo.rs): a task B
//! woken by a running task A goes to A's worker's LIFO slot, offered (the
//! owner expects a long poll and notifies) or deferred (no notification).
//!
//! Shape of both models: two workers; B is spawned from outside and, on
//! its first poll, stores its waker and spawns A (so B is idle, or about
//! to be, when A wakes it); A wakes B from a worker (a LIFO fill), then:
//!
//! * `loom_lifo_offered_busy_waker`: A blocks its worker until B has run.
//!   Only the other worker can run B, so it must be woken or, if it was
//!   searching, must see B before it parks (lifo.rs I3, step 7). If not,
//!   every thread blocks and loom reports a deadlock. It does deadlock
//!   when the offered fill's notification is skipped on the unfenced
//!   idle-state hint (`Idle::wakeup_needed_hint`, which may only decide
//!   whether a fill is timed, step 4a: the timing itself is not modelled,
//!   the predictor being fixed under loom).
//! * `loom_lifo_deferred_runs_on_owner`: A returns at once. Nobody was
//!   notified; B runs on A's worker when A's poll ends (I2), or a searcher
//!   takes it (step 6; under loom a watched task is ripe at once), never
//!   both (I1: the owner's swap and the stealer's CAS race for one ref).
//!
//! `loom_lifo_spawn_is_offered_while_deferring`: the same busy owner for
//! a task it spawned into its empty slot while its predictor defers.
//!
//! And a quiet wake batch (lifo.rs steps 8–10), in
//! `loom_lifo_quiet_batch_then_busy_spawner`: a task T1 wakes W1 in a
//! batch and returns; the batch is quiet (the worker defers), so nobody is
//! notified: W1 runs on T1's worker or a searcher steals it, never both.
//! Then a task T2 spawns W2 and blocks its worker until W2 has run, so the
//! spawn must notify: a worker whose quiet batch's tasks were all stolen
//! must not still be quiet when it runs T2. It deadlocks when the run
//! loop does not end the quiet once it finds no local work (`run_dry`).

use std::future::poll_fn;
use std::task::{Poll, Waker};

use super::loom_park::{
    bind, config, spawn_from_worker, spawn_remote, spawn_then_block, start_workers, stop, Event,
};
use super::util::block_on;
use super::{model, model_capped};
use crate::loom::{Arc, Mutex};
use crate::scheduler::park::SharedDriver;
use crate::scheduler::{worker, Config, Handle};

/// What A does after waking B.
#[derive(Clone, Copy)]
enum After {
    /// Block the worker until B has run (a busy waker).
    BlockUntilBRan,
    /// Return (a waker that parks right after waking).
    Return,
}

fn lifo_model(cfg: Config, after: After) {
    model(move || {
        let handle = Handle::new(2, cfg.clone(), SharedDriver::new(None));
        let ran = Event::new();
        let b = {
            let handle = handle.clone();
            let ran = ran.clone();
            let mut a_join = None;
            let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
            poll_fn(move |cx| {
                if a_join.is_some() {
                    // Woken by A (or polled again after a wake while running).
                    ran.set();
                    return Poll::Ready(a_join.take());
                }
                *slot.lock().unwrap() = Some(cx.waker().clone());
                let slot = slot.clone();
                let ran = ran.clone();
                a_join = Some(spawn_from_worker(
                    &handle,
                    poll_fn(move |_| {
                        let waker = slot.lock().unwrap().take().expect("B's waker");
                        // A LIFO fill of this worker's slot.
                        waker.wake();
                        if let After::BlockUntilBRan = after {
                            ran.wait();
                        }
                        Poll::Ready(())
                    }),
                ));
                Poll::Pending
            })
        };
        let join_b = spawn_remote(&handle, b);
        let workers = start_workers(&handle, 2);

        let join_a = block_on(join_b).unwrap().expect("A's handle");
        block_on(join_a).unwrap();
        stop(&handle, workers);
    });
}

#[test]
fn loom_lifo_offered_busy_waker() {
    lifo_model(
        Config {
            lifo_offer: true,
            ..config()
        },
        After::BlockUntilBRan,
    );
}

#[test]
fn loom_lifo_deferred_runs_on_owner() {
    lifo_model(
        Config {
            lifo_offer: false,
            // Two rounds: a searcher sees B, then (the sighting unchanged)
            // takes it, racing the owner (step 6).
            spin_before_park: 2,
            ..config()
        },
        After::Return,
    );
}

/// A spawn that finds the slot empty is an offered fill even while the
/// worker's predictor defers (`worker::Kind::Spawned`, lifo.rs step 1): a
/// spawner that then blocks its worker until the child has run does not
/// strand it, the other worker is woken for it (or, searching, sees it
/// before it parks). Deadlocks when the spawned fill follows the predictor
/// (deferred: nobody is notified and the owner never returns).
#[test]
fn loom_lifo_spawn_is_offered_while_deferring() {
    model(|| {
        let cfg = Config {
            lifo_offer: false,
            ..config()
        };
        let handle = Handle::new(2, cfg, SharedDriver::new(None));
        let spawner = spawn_then_block(&handle, worker::Kind::Spawned);
        let join_spawner = spawn_remote(&handle, spawner);
        let workers = start_workers(&handle, 2);
        let join_child = block_on(join_spawner).unwrap();
        block_on(join_child).unwrap();
        stop(&handle, workers);
    });
}

// Capped at one preemption: at two it ran 50 minutes without finishing
// (three threads, two phases); at one, 755 s on a loaded machine.
#[test]
fn loom_lifo_quiet_batch_then_busy_spawner() {
    model_capped(1, || {
        let cfg = Config {
            lifo_offer: false,
            ..config()
        };
        let handle = Handle::new(2, cfg, SharedDriver::new(None));
        let t1 = {
            let handle = handle.clone();
            poll_fn(move |_| {
                let (woken, join) = bind(&handle, poll_fn(|_| Poll::Ready(())));
                assert!(worker::wake_batch(true), "a poll has its core at hand");
                worker::schedule(&handle, woken, worker::Kind::Woken);
                assert!(worker::wake_batch(false));
                Poll::Ready(join)
            })
        };
        let join_t1 = spawn_remote(&handle, t1);
        let workers = start_workers(&handle, 2);
        let join_w1 = block_on(join_t1).unwrap();
        block_on(join_w1).unwrap();

        // T2 spawns W2, then blocks its worker until the other one ran W2.
        let join_w2 = block_on(spawn_remote(
            &handle,
            spawn_then_block(&handle, worker::Kind::Yielded),
        ))
        .unwrap();
        block_on(join_w2).unwrap();
        stop(&handle, workers);
    });
}
