//! Sync-primitive rows of `compare` (issue 9): quell's cancel-aware
//! `Mutex`, `Semaphore`, `broadcast`, unbounded `mpsc` and `watch` head to
//! head with tokio's. Throughput rows (median time per run); budget ≥ 1.0×
//! tokio. Each run happens inside one spawned task (`block_on(spawn(..))`)
//! so both runtimes' cooperative budgets apply.
//!
//! * `mutex uncontended`: one task, [`OPS`] lock → increment → unlock.
//! * `mutex 4-task contended`: 4 tasks × [`OPS`]/4 of the same.
//! * `semaphore 4-task acquire/release`: 4 tasks × [`OPS`]/4 acquire →
//!   release on a 2-permit semaphore.
//! * `broadcast 1→16 fan-out`: one sender, 16 receiving tasks, [`FANOUT`]
//!   values each (capacity above that: nobody lags).
//! * `unbounded mpsc`: 4 producer tasks × [`UNBOUNDED`]/4 values → one
//!   receiver.
//! * `watch update → all woken`: 16 receivers parked in `changed`; the
//!   sender sends, then yields until all 16 have seen the value, [`ROUNDS`]
//!   times.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::harness;
use super::registry::Scenario;
use super::rt::{Quell, Tokio};
use super::scenarios::Failed;

/// Lock / acquire operations per run.
pub const OPS: usize = 10_000;
/// Values per broadcast run.
pub const FANOUT: usize = 1_000;
/// Receivers of the fan-out rows.
pub const RECEIVERS: usize = 16;
/// Values per unbounded-mpsc run.
pub const UNBOUNDED: usize = 20_000;
/// Watch updates per run.
pub const ROUNDS: usize = 200;

/// The scenarios of this module, appended to `registry::all()`.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "sync_mutex_uncontended",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "sync mutex uncontended (10k lock/unlock, one task)",
                    |rt| q_mutex(rt, 1),
                    |rt| t_mutex(rt, 1),
                )]
            },
        },
        Scenario {
            name: "sync_mutex_contended",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "sync mutex 4-task contended (4 × 2.5k lock/unlock)",
                    |rt| q_mutex(rt, 4),
                    |rt| t_mutex(rt, 4),
                )]
            },
        },
        Scenario {
            name: "sync_semaphore",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "sync semaphore 4-task acquire/release (2 permits, 4 × 2.5k)",
                    q_semaphore,
                    t_semaphore,
                )]
            },
        },
        Scenario {
            name: "sync_broadcast",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "sync broadcast 1→16 fan-out (1k values)",
                    q_broadcast,
                    t_broadcast,
                )]
            },
        },
        Scenario {
            name: "sync_unbounded_mpsc",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "sync unbounded mpsc (4 producers, 20k values)",
                    q_unbounded,
                    t_unbounded,
                )]
            },
        },
        Scenario {
            name: "sync_watch",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "sync watch update → 16 receivers woken (200 rounds)",
                    q_watch,
                    t_watch,
                )]
            },
        },
    ]
}

fn check(what: &str, got: usize, want: usize) -> Result<(), Failed> {
    if got == want {
        Ok(())
    } else {
        Err(Failed(format!("{what}: got {got}, want {want}")))
    }
}

fn q_mutex(rt: &Quell, tasks: usize) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(async move {
        let m = Arc::new(quell::sync::Mutex::new(0usize));
        let mut hs = Vec::new();
        for _ in 0..tasks {
            let m = m.clone();
            hs.push(quell::spawn(async move {
                for _ in 0..OPS / tasks {
                    *m.lock().await.expect("not cancelled") += 1;
                }
            }));
        }
        for h in hs {
            h.await.expect("joined");
        }
        let n = *m.lock().await.expect("not cancelled");
        n
    }));
    check("mutex quell", n.map_err(|e| Failed(e.to_string()))?, OPS)
}

fn t_mutex(rt: &Tokio, tasks: usize) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(async move {
        let m = Arc::new(tokio::sync::Mutex::new(0usize));
        let mut hs = Vec::new();
        for _ in 0..tasks {
            let m = m.clone();
            hs.push(tokio::spawn(async move {
                for _ in 0..OPS / tasks {
                    *m.lock().await += 1;
                }
            }));
        }
        for h in hs {
            h.await.expect("joined");
        }
        let n = *m.lock().await;
        n
    }));
    check("mutex tokio", n.map_err(|e| Failed(e.to_string()))?, OPS)
}

fn q_semaphore(rt: &Quell) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(async {
        let sem = Arc::new(quell::sync::Semaphore::new(2));
        let done = Arc::new(AtomicUsize::new(0));
        let mut hs = Vec::new();
        for _ in 0..4 {
            let (sem, done) = (sem.clone(), done.clone());
            hs.push(quell::spawn(async move {
                for _ in 0..OPS / 4 {
                    let _p = sem.acquire().await.expect("not cancelled");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for h in hs {
            h.await.expect("joined");
        }
        done.load(Ordering::Relaxed)
    }));
    check(
        "semaphore quell",
        n.map_err(|e| Failed(e.to_string()))?,
        OPS,
    )
}

fn t_semaphore(rt: &Tokio) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(async {
        let sem = Arc::new(tokio::sync::Semaphore::new(2));
        let done = Arc::new(AtomicUsize::new(0));
        let mut hs = Vec::new();
        for _ in 0..4 {
            let (sem, done) = (sem.clone(), done.clone());
            hs.push(tokio::spawn(async move {
                for _ in 0..OPS / 4 {
                    let _p = sem.acquire().await.expect("not closed");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for h in hs {
            h.await.expect("joined");
        }
        done.load(Ordering::Relaxed)
    }));
    check(
        "semaphore tokio",
        n.map_err(|e| Failed(e.to_string()))?,
        OPS,
    )
}

fn q_broadcast(rt: &Quell) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(async {
        let (tx, rx) = quell::sync::broadcast::channel::<usize>(FANOUT + 1);
        let mut hs = Vec::new();
        for _ in 0..RECEIVERS {
            let mut rx = rx.resubscribe();
            hs.push(quell::spawn(async move {
                let mut n = 0;
                while rx.recv().await.is_ok() {
                    n += 1;
                }
                n
            }));
        }
        drop(rx);
        for i in 0..FANOUT {
            tx.send(i).expect("receivers alive");
        }
        drop(tx);
        let mut total = 0;
        for h in hs {
            total += h.await.expect("joined");
        }
        total
    }));
    check(
        "broadcast quell",
        n.map_err(|e| Failed(e.to_string()))?,
        FANOUT * RECEIVERS,
    )
}

fn t_broadcast(rt: &Tokio) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(async {
        let (tx, rx) = tokio::sync::broadcast::channel::<usize>(FANOUT + 1);
        let mut hs = Vec::new();
        for _ in 0..RECEIVERS {
            let mut rx = rx.resubscribe();
            hs.push(tokio::spawn(async move {
                let mut n = 0;
                while rx.recv().await.is_ok() {
                    n += 1;
                }
                n
            }));
        }
        drop(rx);
        for i in 0..FANOUT {
            tx.send(i).expect("receivers alive");
        }
        drop(tx);
        let mut total = 0;
        for h in hs {
            total += h.await.expect("joined");
        }
        total
    }));
    check(
        "broadcast tokio",
        n.map_err(|e| Failed(e.to_string()))?,
        FANOUT * RECEIVERS,
    )
}

fn q_unbounded(rt: &Quell) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(async {
        let (tx, mut rx) = quell::sync::mpsc::unbounded_channel::<usize>();
        for _ in 0..4 {
            let tx = tx.clone();
            drop(quell::spawn(async move {
                for i in 0..UNBOUNDED / 4 {
                    tx.send(i).expect("receiver alive");
                }
            }));
        }
        drop(tx);
        let mut n = 0;
        while rx.recv().await.is_ok() {
            n += 1;
        }
        n
    }));
    check(
        "unbounded quell",
        n.map_err(|e| Failed(e.to_string()))?,
        UNBOUNDED,
    )
}

fn t_unbounded(rt: &Tokio) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
        for _ in 0..4 {
            let tx = tx.clone();
            drop(tokio::spawn(async move {
                for i in 0..UNBOUNDED / 4 {
                    tx.send(i).expect("receiver alive");
                }
            }));
        }
        drop(tx);
        let mut n = 0;
        while rx.recv().await.is_some() {
            n += 1;
        }
        n
    }));
    check(
        "unbounded tokio",
        n.map_err(|e| Failed(e.to_string()))?,
        UNBOUNDED,
    )
}

fn q_watch(rt: &Quell) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(async {
        let (tx, rx) = quell::sync::watch::channel(0usize);
        let acks = Arc::new(AtomicUsize::new(0));
        let mut hs = Vec::new();
        for _ in 0..RECEIVERS {
            let (mut rx, acks) = (rx.clone(), acks.clone());
            hs.push(quell::spawn(async move {
                while rx.changed().await.is_ok() {
                    let v = *rx.borrow_and_update();
                    acks.fetch_add(1, Ordering::Release);
                    if v == ROUNDS {
                        break;
                    }
                }
            }));
        }
        drop(rx);
        for i in 1..=ROUNDS {
            tx.send(i).expect("receivers alive");
            while acks.load(Ordering::Acquire) < i * RECEIVERS {
                quell::task::yield_now().await;
            }
        }
        for h in hs {
            h.await.expect("joined");
        }
        acks.load(Ordering::Acquire)
    }));
    check(
        "watch quell",
        n.map_err(|e| Failed(e.to_string()))?,
        ROUNDS * RECEIVERS,
    )
}

fn t_watch(rt: &Tokio) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(async {
        let (tx, rx) = tokio::sync::watch::channel(0usize);
        let acks = Arc::new(AtomicUsize::new(0));
        let mut hs = Vec::new();
        for _ in 0..RECEIVERS {
            let (mut rx, acks) = (rx.clone(), acks.clone());
            hs.push(tokio::spawn(async move {
                while rx.changed().await.is_ok() {
                    let v = *rx.borrow_and_update();
                    acks.fetch_add(1, Ordering::Release);
                    if v == ROUNDS {
                        break;
                    }
                }
            }));
        }
        drop(rx);
        for i in 1..=ROUNDS {
            tx.send(i).expect("receivers alive");
            while acks.load(Ordering::Acquire) < i * RECEIVERS {
                tokio::task::yield_now().await;
            }
        }
        for h in hs {
            h.await.expect("joined");
        }
        acks.load(Ordering::Acquire)
    }));
    check(
        "watch tokio",
        n.map_err(|e| Failed(e.to_string()))?,
        ROUNDS * RECEIVERS,
    )
}
