//! Task-group rows of `compare`: quell's `TaskGroup` / `TryTaskGroup`
//! head to head with tokio's `JoinSet` (+ `CancellationToken` for the
//! failure case, as a tokio user writes errgroup semantics).
//!
//! * `group spawn+join_all`: from a task, spawn 10 000 members that return
//!   at once into a group, then join them all. Throughput; budget ≥ tokio.
//! * `group first error → siblings`: 8 siblings parked on a channel
//!   receive and one member parked on a oneshot; the bench thread fires the
//!   oneshot (`t0`), the member returns `Err`, and the sample ends when the
//!   last sibling has observed the cancellation (`max t1 − t0`; the
//!   siblings' `t1`s reach the bench thread in one message, sent by the
//!   last of them, so a sample wakes the bench thread once). quell: the
//!   siblings' receive answers `Cancelled` (the group cancelled them); tokio:
//!   the failing member calls `token.cancel()`, each sibling `select!`s on
//!   `token.cancelled()`. p50 and p99; quell's own cancel latency (the
//!   `cancel p50 (channel recv)` workload) runs in the same alternation for
//!   the "≤ 2× quell's cancel latency" budget (printed in the notes), and
//!   so does the same fan-out without a group (a plain token the failing
//!   member cancels): the group's own share of the latency.

use std::io;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use quell::task::{SpawnBuilder, TaskGroup, TryTaskGroup};
use tokio_util::sync::CancellationToken;

use super::cancel_lat::{self as cl, armed};
use super::harness::{self, alternate, dispose, p50_p99, Contender, Settings};
use super::notes;
use super::probe;
use super::registry::Scenario;
use super::rows::scaled;
use super::rt::{Quell, Tokio};
use super::scenarios::{Failed, TIMEOUT};
use super::table::{Budget, Row, Section};

/// Members per spawn+join_all run.
pub const MEMBERS: usize = 10_000;
/// Siblings that must observe the first error.
pub const SIBLINGS: usize = 8;
/// First-error samples per repetition (full).
pub const FAIL_SAMPLES: usize = 500;

/// The scenarios of this module, appended to `registry::all()`.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "group_join_all",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "group spawn+join_all (10k members; tokio: JoinSet)",
                    quell_join_all,
                    tokio_join_all,
                )]
            },
        },
        Scenario {
            name: "group_first_error",
            run: first_error,
        },
    ]
}

fn quell_join_all(rt: &Quell) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(async {
        let mut g = TaskGroup::new();
        for i in 0..MEMBERS {
            g.spawn(async move { i });
        }
        g.join_all().await.into_iter().filter(|r| r.is_ok()).count()
    }));
    check(n.map_err(|e| Failed(e.to_string()))?)
}

fn tokio_join_all(rt: &Tokio) -> Result<(), Failed> {
    let n = rt.0.block_on(rt.0.spawn(async {
        let mut g = tokio::task::JoinSet::new();
        for i in 0..MEMBERS {
            g.spawn(async move { i });
        }
        g.join_all().await.len()
    }));
    check(n.map_err(|e| Failed(e.to_string()))?)
}

fn check(n: usize) -> Result<(), Failed> {
    if n == MEMBERS {
        Ok(())
    } else {
        Err(Failed(format!("joined {n} of {MEMBERS} members")))
    }
}

/// Where the siblings of one sample report their `t1`: each one's report
/// is kept, and the last of the `SIBLINGS` sends them all to the bench
/// thread at once. So a sample wakes the bench thread once, as a cancel
/// latency sample does, rather than once per sibling: on 2 cores each of
/// those wakes took a core from the workers while siblings were still
/// running, which measured the bench thread, not the fan-out.
#[derive(Clone)]
struct Done {
    seen: std::sync::Arc<std::sync::Mutex<Vec<Result<Instant, String>>>>,
    tx: mpsc::Sender<Vec<Result<Instant, String>>>,
}

impl Done {
    fn new(tx: mpsc::Sender<Vec<Result<Instant, String>>>) -> Done {
        Done {
            seen: Default::default(),
            tx,
        }
    }

    /// One sibling's report; the last one's sends all of them.
    fn send(&self, r: Result<Instant, String>) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.push(r);
        if seen.len() == SIBLINGS {
            let _ = self.tx.send(std::mem::take(&mut *seen));
        }
    }
}

/// One first-error sample loop. `start(armed, done, trigger)` starts the
/// group (returning what must live until the sample ends); `fire` fires
/// the failing member; each sibling reports its `t1` to the `Done` it is given.
fn samples<H>(
    what: &str,
    n: usize,
    mut start: impl FnMut(mpsc::Sender<()>, Done) -> H,
    mut fire: impl FnMut(&mut H),
) -> Result<Vec<Duration>, Failed> {
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let (atx, arx) = mpsc::channel();
        let (dtx, drx) = mpsc::channel();
        let mut h = start(atx, Done::new(dtx));
        for _ in 0..=SIBLINGS {
            arx.recv_timeout(TIMEOUT)
                .map_err(|_| Failed(format!("{what}: sample {i}: members never parked")))?;
        }
        std::thread::sleep(probe::pause(i as u64)); // workers go idle
        let t0 = Instant::now();
        fire(&mut h);
        let mut last = t0;
        let all = drx
            .recv_timeout(TIMEOUT)
            .map_err(|_| Failed(format!("{what}: sample {i}: a sibling never saw it")))?;
        for t1 in all {
            let t1 = t1.map_err(|e| Failed(format!("{what}: sample {i}: {e}")))?;
            last = last.max(t1);
        }
        lat.push(last.saturating_duration_since(t0));
        drop(h);
    }
    Ok(lat)
}

fn quell_first_error(rt: &Quell, n: usize) -> Result<Vec<Duration>, Failed> {
    type H = (
        Option<quell::sync::oneshot::Sender<()>>,
        quell::JoinHandle<()>,
    );
    samples(
        "group first error quell",
        n,
        |atx, dtx| {
            let (ttx, trx) = quell::sync::oneshot::channel::<()>();
            let h = rt.0.spawn(async move {
                let mut g = TryTaskGroup::<(), io::Error>::new();
                let mut keep = Vec::new();
                for _ in 0..SIBLINGS {
                    let (tx, mut rx) = quell::sync::mpsc::channel::<()>(1);
                    keep.push(tx);
                    let (atx, dtx) = (atx.clone(), dtx.clone());
                    g.spawn(async move {
                        let r = armed(rx.recv(), atx).await;
                        let t1 = Instant::now();
                        dtx.send(match r {
                            Err(e) if e.cancelled().is_some() => Ok(t1),
                            other => Err(format!("recv returned {other:?}, not Cancelled")),
                        });
                        Ok(())
                    });
                }
                g.spawn(async move {
                    let _ = armed(trx, atx).await;
                    Err(io::Error::other("first error"))
                });
                let _ = g.wait().await;
                drop(keep);
            });
            (Some(ttx), h)
        },
        |h: &mut H| {
            let _ = h.0.take().expect("fired once").send(());
        },
    )
}

/// The same fan-out without a group: the siblings run under a plain token
/// that the failing member cancels (what the group costs on top of the
/// runtime's own token fan-out).
fn quell_token_fanout(rt: &Quell, n: usize) -> Result<Vec<Duration>, Failed> {
    type H = Option<quell::sync::oneshot::Sender<()>>;
    samples(
        "token fan-out quell",
        n,
        |atx, dtx| {
            let (ttx, trx) = quell::sync::oneshot::channel::<()>();
            drop(rt.0.spawn(async move {
                let token = quell::cancel::CancelToken::new();
                let mut keep = Vec::new();
                let mut hs = Vec::new();
                for _ in 0..SIBLINGS {
                    let (tx, mut rx) = quell::sync::mpsc::channel::<()>(1);
                    keep.push(tx);
                    let (atx, dtx) = (atx.clone(), dtx.clone());
                    hs.push(SpawnBuilder::new().token(token.clone()).spawn(async move {
                        let r = armed(rx.recv(), atx).await;
                        let t1 = Instant::now();
                        dtx.send(match r {
                            Err(e) if e.cancelled().is_some() => Ok(t1),
                            other => Err(format!("recv returned {other:?}, not Cancelled")),
                        });
                    }));
                }
                let t = token.clone();
                hs.push(quell::spawn(async move {
                    let _ = armed(trx, atx).await;
                    t.cancel(quell::cancel::Cause::explicit("first error"));
                }));
                for h in hs {
                    let _ = h.await;
                }
                drop(keep);
            }));
            Some(ttx)
        },
        |h: &mut H| {
            let _ = h.take().expect("fired once").send(());
        },
    )
}

fn tokio_first_error(rt: &Tokio, n: usize) -> Result<Vec<Duration>, Failed> {
    type H = Option<tokio::sync::oneshot::Sender<()>>;
    samples(
        "group first error tokio",
        n,
        |atx, dtx| {
            let (ttx, trx) = tokio::sync::oneshot::channel::<()>();
            drop(rt.0.spawn(async move {
                let token = CancellationToken::new();
                let mut g = tokio::task::JoinSet::new();
                let mut keep = Vec::new();
                for _ in 0..SIBLINGS {
                    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
                    keep.push(tx);
                    let (atx, dtx, t) = (atx.clone(), dtx.clone(), token.clone());
                    g.spawn(async move {
                        let r = armed(
                            async {
                                tokio::select! {
                                    _ = t.cancelled() => Ok(Instant::now()),
                                    r = rx.recv() => Err(format!("recv returned {r:?}")),
                                }
                            },
                            atx,
                        )
                        .await;
                        dtx.send(r);
                        Ok::<(), io::Error>(())
                    });
                }
                let t = token.clone();
                g.spawn(async move {
                    let _ = armed(trx, atx).await;
                    t.cancel(); // errgroup by hand: the failing member cancels
                    Err(io::Error::other("first error"))
                });
                while let Some(r) = g.join_next().await {
                    if matches!(r, Ok(Err(_))) {
                        token.cancel();
                    }
                }
                drop(keep);
            }));
            Some(ttx)
        },
        |h: &mut H| {
            let _ = h.take().expect("fired once").send(());
        },
    )
}

fn first_error(s: &Settings) -> Vec<Row> {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let n = scaled(s, FAIL_SAMPLES);
    let out = {
        let p = |r: Result<Vec<Duration>, Failed>| Ok(p50_p99(&r?));
        let mut cs = [
            Contender::new("quell group", || p(quell_first_error(&quell, n))),
            Contender::new("tokio JoinSet+token", || p(tokio_first_error(&tokio, n))),
            Contender::new("quell cancel", || p(cl::quell_channel(&quell, n))),
            Contender::new("quell token fan-out", || p(quell_token_fanout(&quell, n))),
        ];
        alternate(s.wake_reps, &mut cs, 2)
    };
    let [q, t, c, f]: [Vec<_>; 4] = out.try_into().expect("four contenders");
    notes::self_budget(
        "group first error → siblings p50 vs quell cancel p50",
        &q[0],
        &c[0],
        2.0,
    );
    notes::self_budget(
        "group first error → siblings p50 vs the token fan-out by hand",
        &q[0],
        &f[0],
        1.2,
    );
    dispose(quell, &[q.clone(), c, f].concat());
    dispose(tokio, &t);
    let [q50, q99]: [_; 2] = q.try_into().expect("two metrics");
    let [t50, t99]: [_; 2] = t.try_into().expect("two metrics");
    vec![
        Row::new(
            Section::VsTokio,
            "group first error → 8 siblings p50 (tokio: JoinSet+token)",
            q50,
            t50,
            Budget::None,
        ),
        Row::new(
            Section::VsTokio,
            "group first error → 8 siblings p99 (tokio: JoinSet+token)",
            q99,
            t99,
            Budget::None,
        ),
    ]
}
