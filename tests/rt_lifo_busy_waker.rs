//! A task woken by a task that keeps its worker busy is not stranded in
//! that worker's LIFO slot (DESIGN.md C13; executor/src/scheduler/lifo.rs).
//!
//! Two long-lived tasks on a 2-worker runtime. Each round, the test thread
//! waits until both are parked, pauses so that the workers run out of
//! work and park too, then wakes task A. A wakes task B (B's waker is
//! stored: the wake is a LIFO fill of A's worker), then spins until B has
//! run. Only the other worker can run B while A spins, and it is parked:
//! if B stayed in A's slot until A's poll ended, A would spin forever. The
//! spin has a generous bound that only catches that hang (the test then
//! fails instead of hanging). The pause only makes the parked case likely;
//! every hand-over is coordinated through the atomics below.
//!
//! The second test checks what the predictor learns from fills made while
//! no other worker could be woken (nothing: lifo.rs, step 4). The third is
//! the first one for a cancel that wakes several tasks (a wake batch,
//! lifo.rs steps 8–10).

use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// Far above any wake latency; only a stranded B reaches it.
const HANG: Duration = Duration::from_secs(10);
const ROUNDS: u64 = 50;

/// A generation gate: a task waits for generation `g`; another side fires.
#[derive(Default)]
struct Gate {
    waker: Mutex<Option<Waker>>,
    /// The generation the task waits for (its waker is stored).
    armed: AtomicU64,
    /// The last generation fired.
    fired: AtomicU64,
}

impl Gate {
    async fn wait(&self, g: u64) {
        poll_fn(|cx| {
            // Acquire: pairs with the Release store in `fire`.
            if self.fired.load(Ordering::Acquire) >= g {
                return Poll::Ready(());
            }
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            // Release: pairs with the Acquire load in `is_armed`.
            self.armed.store(g, Ordering::Release);
            Poll::Pending
        })
        .await
    }

    fn is_armed(&self, g: u64) -> bool {
        // Acquire: the waker stored before `armed` is visible.
        self.armed.load(Ordering::Acquire) >= g
    }

    fn fire(&self, g: u64) {
        // Release: pairs with the Acquire load in `wait`.
        self.fired.store(g, Ordering::Release);
        let w = self.waker.lock().unwrap().take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

#[test]
fn busy_waker_does_not_strand_the_woken_task() {
    let rt = quell::runtime::Builder::new()
        .worker_threads(2)
        .build()
        .unwrap();
    let kick = Arc::new(Gate::default());
    let b = Arc::new(Gate::default());
    let b_ran = Arc::new(AtomicU64::new(0));
    let stranded = Arc::new(AtomicBool::new(false));

    let b_task = {
        let (b, b_ran) = (b.clone(), b_ran.clone());
        rt.spawn(async move {
            for g in 1..=ROUNDS {
                b.wait(g).await;
                // Release: A's Acquire load sees that B ran round `g`.
                b_ran.store(g, Ordering::Release);
            }
        })
    };
    let a_task = {
        let (kick, b, b_ran, stranded) = (kick.clone(), b.clone(), b_ran.clone(), stranded.clone());
        rt.spawn(async move {
            for g in 1..=ROUNDS {
                kick.wait(g).await;
                b.fire(g);
                // Busy: no await until B has run (or the hang bound).
                let start = Instant::now();
                // Acquire: pairs with B's Release store.
                while b_ran.load(Ordering::Acquire) < g {
                    if start.elapsed() > HANG {
                        stranded.store(true, Ordering::Relaxed);
                        return g;
                    }
                    std::hint::spin_loop();
                }
            }
            0
        })
    };
    for g in 1..=ROUNDS {
        let deadline = Instant::now() + HANG;
        while !(kick.is_armed(g) && b.is_armed(g)) {
            assert!(
                Instant::now() < deadline,
                "round {g}: tasks did not park (kick armed {}, b armed {}, b ran {})",
                kick.armed.load(Ordering::Relaxed),
                b.armed.load(Ordering::Relaxed),
                b_ran.load(Ordering::Relaxed)
            );
            std::thread::sleep(Duration::from_micros(50));
        }
        // Let the workers park (see the module docs).
        std::thread::sleep(Duration::from_millis(1));
        kick.fire(g);
        if stranded.load(Ordering::Relaxed) {
            break;
        }
    }
    let round = rt.block_on(a_task).unwrap();
    assert_eq!(
        round, 0,
        "round {round}: B did not run while A spun (stranded in A's LIFO slot)"
    );
    rt.block_on(b_task).unwrap();
}

/// A worker's LIFO fills made while no notification could wake anyone
/// (the other worker busy in a long poll: none parked, none searching) are
/// not timed, and teach the predictor nothing about poll lengths
/// (lifo.rs, step 4). Counting them as short polls would make the worker
/// defer its next fill, and strand a busy waker's task once the other
/// worker has parked.
///
/// Worker X runs task S, which spins until told to stop. Tasks P and Q
/// then run on the other worker, Y (X is stuck in S's poll), and
/// ping-pong `PING_PONGS` times (LIFO fills of Y while X is busy). Then,
/// in the same poll of P: S is stopped, X runs out of work and parks, and
/// P wakes B (a fill of Y's slot) and spins until B has run. Only X can
/// run B while P spins. The pause before P's wake only makes "X parked"
/// likely; every hand-over is coordinated through the atomics.
#[test]
fn fills_while_no_one_could_be_woken_do_not_teach_deferring() {
    const PING_PONGS: u64 = 200;
    let rt = quell::runtime::Builder::new()
        .worker_threads(2)
        .build()
        .unwrap();
    let b = Arc::new(Gate::default());
    let b_ran = Arc::new(AtomicBool::new(false));
    let b_task = {
        let (b, b_ran) = (b.clone(), b_ran.clone());
        rt.spawn(async move {
            b.wait(1).await;
            // Release: P's Acquire load sees that B ran.
            b_ran.store(true, Ordering::Release);
        })
    };
    let deadline = Instant::now() + HANG;
    while !b.is_armed(1) {
        assert!(Instant::now() < deadline, "B did not park");
        std::thread::sleep(Duration::from_micros(50));
    }

    // Relaxed everywhere below: plain flags between this thread and spin
    // loops; nothing else is published through them.
    let s_started = Arc::new(AtomicBool::new(false));
    let s_stop = Arc::new(AtomicBool::new(false));
    let s_task = {
        let (started, stop) = (s_started.clone(), s_stop.clone());
        rt.spawn(async move {
            started.store(true, Ordering::Relaxed);
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) && start.elapsed() < HANG {
                std::hint::spin_loop();
            }
        })
    };
    while !s_started.load(Ordering::Relaxed) {
        assert!(Instant::now() < deadline, "S did not start");
        std::thread::sleep(Duration::from_micros(50));
    }

    let ping = Arc::new(Gate::default());
    let pong = Arc::new(Gate::default());
    let pp_done = Arc::new(AtomicBool::new(false));
    let go = Arc::new(AtomicBool::new(false));
    let q_task = {
        let (ping, pong) = (ping.clone(), pong.clone());
        rt.spawn(async move {
            for i in 1..=PING_PONGS {
                ping.wait(i).await;
                pong.fire(i);
            }
        })
    };
    let p_task = {
        let (ping, pong, b, b_ran) = (ping.clone(), pong.clone(), b.clone(), b_ran.clone());
        let (pp_done, go) = (pp_done.clone(), go.clone());
        rt.spawn(async move {
            for i in 1..=PING_PONGS {
                ping.fire(i);
                pong.wait(i).await;
            }
            // Same poll from here on: wait for the go, wake B, spin.
            pp_done.store(true, Ordering::Relaxed);
            let start = Instant::now();
            while !go.load(Ordering::Relaxed) {
                if start.elapsed() > HANG {
                    return Err("no go");
                }
                std::hint::spin_loop();
            }
            b.fire(1);
            let start = Instant::now();
            // Acquire: pairs with B's Release store.
            while !b_ran.load(Ordering::Acquire) {
                if start.elapsed() > HANG {
                    return Err("B did not run while P spun (stranded in P's LIFO slot)");
                }
                std::hint::spin_loop();
            }
            Ok(())
        })
    };
    while !pp_done.load(Ordering::Relaxed) {
        assert!(Instant::now() < deadline, "the ping-pong did not finish");
        std::thread::sleep(Duration::from_micros(50));
    }
    s_stop.store(true, Ordering::Relaxed);
    // Let X run out of work and park (see the doc comment).
    std::thread::sleep(Duration::from_millis(5));
    go.store(true, Ordering::Relaxed);
    assert_eq!(rt.block_on(p_task).unwrap(), Ok(()));
    rt.block_on(q_task).unwrap();
    rt.block_on(s_task).unwrap();
    rt.block_on(b_task).unwrap();
}

/// The same for a cancel that wakes several tasks at once (a wake batch,
/// lifo.rs steps 8–10): task A cancels a token that `PARKED` tasks wait
/// on, then spins until every one of them has run. Only the other worker
/// can run them while A spins: if the batch stayed in A's queue (and the
/// first wake in A's slot) until A's poll ended, A would spin forever.
/// A's batches are announced (its polls run long, so it offers), and the
/// other worker, woken, takes them. Each round has its own token.
#[test]
fn busy_canceller_does_not_strand_its_wake_batch() {
    const PARKED: usize = 3;
    let rt = quell::runtime::Builder::new()
        .worker_threads(2)
        .build()
        .unwrap();
    let tokens: Arc<Vec<quell::cancel::CancelToken>> = Arc::new(
        (0..=ROUNDS)
            .map(|_| quell::cancel::CancelToken::new())
            .collect(),
    );
    let kick = Arc::new(Gate::default());
    // Per parked task: the round it waits in (armed), the round it saw.
    let armed: Arc<Vec<AtomicU64>> = Arc::new((0..PARKED).map(|_| AtomicU64::new(0)).collect());
    let ran: Arc<Vec<AtomicU64>> = Arc::new((0..PARKED).map(|_| AtomicU64::new(0)).collect());
    let stranded = Arc::new(AtomicBool::new(false));

    let parked: Vec<_> = (0..PARKED)
        .map(|i| {
            let (tokens, armed, ran) = (tokens.clone(), armed.clone(), ran.clone());
            rt.spawn(async move {
                for g in 1..=ROUNDS {
                    let mut wait = std::pin::pin!(tokens[g as usize].cancelled());
                    poll_fn(|cx| {
                        let p = wait.as_mut().poll(cx);
                        if p.is_pending() {
                            // Release: pairs with the test thread's Acquire
                            // load (the waker is registered).
                            armed[i].store(g, Ordering::Release);
                        }
                        p
                    })
                    .await;
                    // Release: A's Acquire load sees that this task ran.
                    ran[i].store(g, Ordering::Release);
                }
            })
        })
        .collect();
    let a_task = {
        let (kick, tokens, ran, stranded) =
            (kick.clone(), tokens.clone(), ran.clone(), stranded.clone());
        rt.spawn(async move {
            for g in 1..=ROUNDS {
                kick.wait(g).await;
                tokens[g as usize].cancel(quell::cancel::Cause::explicit("round"));
                // Busy: no await until every parked task has run.
                let start = Instant::now();
                // Acquire: pairs with the parked tasks' Release stores.
                while ran.iter().any(|r| r.load(Ordering::Acquire) < g) {
                    if start.elapsed() > HANG {
                        stranded.store(true, Ordering::Relaxed);
                        return g;
                    }
                    std::hint::spin_loop();
                }
            }
            0
        })
    };
    for g in 1..=ROUNDS {
        let deadline = Instant::now() + HANG;
        // Acquire: pairs with the Release stores of `armed`.
        while !(kick.is_armed(g) && armed.iter().all(|a| a.load(Ordering::Acquire) >= g)) {
            assert!(
                Instant::now() < deadline,
                "round {g}: tasks did not park (or stayed stranded on A's worker)"
            );
            std::thread::sleep(Duration::from_micros(50));
        }
        // Let the workers park (see the module docs).
        std::thread::sleep(Duration::from_millis(1));
        kick.fire(g);
        if stranded.load(Ordering::Relaxed) {
            break;
        }
    }
    let round = rt.block_on(a_task).unwrap();
    assert_eq!(
        round, 0,
        "round {round}: the cancelled tasks did not run while A spun (stranded on A's worker)"
    );
    for t in parked {
        rt.block_on(t).unwrap();
    }
}

/// A task spawned into its spawner's LIFO slot (`Kind::Spawned`) is
/// offered, never deferred: a spawner that then blocks its worker until
/// the child has run (a task that waits synchronously for work it handed
/// off) does not strand the child, even right after a run of short polls
/// that would make a woken task's fill deferred.
///
/// Tasks P and Q ping-pong `PING_PONGS` times on one worker while the
/// other parks (short, timed fills: the predictor learns "defer"). Then,
/// in the same poll of P, P spawns C and spins until C has run. Only the
/// other worker can run C while P spins; a deferred C would wait for P's
/// poll, i.e. for ever (the spin's hang bound fails the test instead).
#[test]
fn a_spawn_is_not_stranded_by_a_spawner_that_blocks_after_short_polls() {
    const PING_PONGS: u32 = 200;
    let rt = quell::runtime::Builder::new()
        .worker_threads(2)
        .build()
        .unwrap();
    for round in 0..ROUNDS {
        let stranded = rt.block_on(async move {
            let (to_q, mut q_rx) = quell::sync::mpsc::channel::<u32>(1);
            let (to_p, mut p_rx) = quell::sync::mpsc::channel::<u32>(1);
            let q = quell::spawn(async move {
                while let Ok(v) = q_rx.recv().await {
                    if to_p.send(v).await.is_err() {
                        break;
                    }
                }
            });
            let p = quell::spawn(async move {
                for i in 0..PING_PONGS {
                    to_q.send(i).await.unwrap();
                    assert_eq!(p_rx.recv().await.unwrap(), i);
                }
                let ran = Arc::new(AtomicBool::new(false));
                let r = ran.clone();
                // Release: pairs with P's Acquire load below.
                let child = quell::spawn(async move { r.store(true, Ordering::Release) });
                // Busy: no await until C has run (or the hang bound).
                let start = Instant::now();
                while !ran.load(Ordering::Acquire) {
                    if start.elapsed() > HANG {
                        return (true, child);
                    }
                    std::hint::spin_loop();
                }
                (false, child)
            });
            let (stranded, child) = p.await.unwrap();
            child.await.unwrap();
            q.await.unwrap();
            stranded
        });
        assert!(
            !stranded,
            "round {round}: the spawned task did not run while its spawner spun (stranded in the spawner's LIFO slot)"
        );
    }
}
