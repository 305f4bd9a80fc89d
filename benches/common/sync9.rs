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

use std::future::Future;
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

/// One scenario of this module: a single [`harness::time_vs_tokio`] row.
macro_rules! row {
    ($name:literal, $label:literal, $q:expr, $t:expr) => {
        Scenario {
            name: $name,
            run: |s| vec![harness::time_vs_tokio(s, $label, $q, $t)],
        }
    };
}

/// The scenarios of this module, appended to `registry::all()`.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        row!(
            "sync_mutex_uncontended",
            "sync mutex uncontended (10k lock/unlock, one task)",
            |rt| q_mutex(rt, 1),
            |rt| t_mutex(rt, 1)
        ),
        row!(
            "sync_mutex_contended",
            "sync mutex 4-task contended (4 × 2.5k lock/unlock)",
            |rt| q_mutex(rt, 4),
            |rt| t_mutex(rt, 4)
        ),
        row!(
            "sync_semaphore",
            "sync semaphore 4-task acquire/release (2 permits, 4 × 2.5k)",
            q_semaphore,
            t_semaphore
        ),
        row!(
            "sync_broadcast",
            "sync broadcast 1→16 fan-out (1k values)",
            q_broadcast,
            t_broadcast
        ),
        row!(
            "sync_unbounded_mpsc",
            "sync unbounded mpsc (4 producers, 20k values)",
            q_unbounded,
            t_unbounded
        ),
        row!(
            "sync_watch",
            "sync watch update → 16 receivers woken (200 rounds)",
            q_watch,
            t_watch
        ),
    ]
}

fn check(what: &str, got: usize, want: usize) -> Result<(), Failed> {
    if got == want {
        Ok(())
    } else {
        Err(Failed(format!("{what}: got {got}, want {want}")))
    }
}

/// Runs `body` as one task spawned on quell (`block_on(spawn(..))`) and
/// checks the count it returns against `want`.
#[track_caller]
fn on_quell(
    rt: &Quell,
    what: &str,
    want: usize,
    body: impl Future<Output = usize> + Send + 'static,
) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(body));
    check(what, n.map_err(|e| Failed(e.to_string()))?, want)
}

/// [`on_quell`] on tokio.
#[track_caller]
fn on_tokio(
    rt: &Tokio,
    what: &str,
    want: usize,
    body: impl Future<Output = usize> + Send + 'static,
) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(body));
    check(what, n.map_err(|e| Failed(e.to_string()))?, want)
}

/// The broadcast fan-out workload on runtime crate `$rt` (`quell` or
/// `tokio`, whose `broadcast` and `spawn` are used the same way): the total
/// of values all receivers saw.
macro_rules! broadcast_fanout {
    ($rt:ident) => {
        async {
            let (tx, rx) = $rt::sync::broadcast::channel::<usize>(FANOUT + 1);
            let mut hs = Vec::new();
            for _ in 0..RECEIVERS {
                let mut rx = rx.resubscribe();
                hs.push($rt::spawn(async move {
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
        }
    };
}

/// The watch workload on runtime crate `$rt` (`quell` or `tokio`): the
/// number of acknowledged updates.
macro_rules! watch_all_woken {
    ($rt:ident) => {
        async {
            let (tx, rx) = $rt::sync::watch::channel(0usize);
            let acks = Arc::new(AtomicUsize::new(0));
            let mut hs = Vec::new();
            for _ in 0..RECEIVERS {
                let (mut rx, acks) = (rx.clone(), acks.clone());
                hs.push($rt::spawn(async move {
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
                    $rt::task::yield_now().await;
                }
            }
            for h in hs {
                h.await.expect("joined");
            }
            acks.load(Ordering::Acquire)
        }
    };
}

fn q_mutex(rt: &Quell, tasks: usize) -> Result<(), Failed> {
    on_quell(rt, "mutex quell", OPS, async move {
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
    })
}

fn t_mutex(rt: &Tokio, tasks: usize) -> Result<(), Failed> {
    on_tokio(rt, "mutex tokio", OPS, async move {
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
    })
}

fn q_semaphore(rt: &Quell) -> Result<(), Failed> {
    on_quell(rt, "semaphore quell", OPS, async {
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
    })
}

fn t_semaphore(rt: &Tokio) -> Result<(), Failed> {
    on_tokio(rt, "semaphore tokio", OPS, async {
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
    })
}

fn q_broadcast(rt: &Quell) -> Result<(), Failed> {
    on_quell(
        rt,
        "broadcast quell",
        FANOUT * RECEIVERS,
        broadcast_fanout!(quell),
    )
}

fn t_broadcast(rt: &Tokio) -> Result<(), Failed> {
    on_tokio(
        rt,
        "broadcast tokio",
        FANOUT * RECEIVERS,
        broadcast_fanout!(tokio),
    )
}

fn q_unbounded(rt: &Quell) -> Result<(), Failed> {
    on_quell(rt, "unbounded quell", UNBOUNDED, async {
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
    })
}

fn t_unbounded(rt: &Tokio) -> Result<(), Failed> {
    on_tokio(rt, "unbounded tokio", UNBOUNDED, async {
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
    })
}

fn q_watch(rt: &Quell) -> Result<(), Failed> {
    on_quell(
        rt,
        "watch quell",
        ROUNDS * RECEIVERS,
        watch_all_woken!(quell),
    )
}

fn t_watch(rt: &Tokio) -> Result<(), Failed> {
    on_tokio(
        rt,
        "watch tokio",
        ROUNDS * RECEIVERS,
        watch_all_woken!(tokio),
    )
}
