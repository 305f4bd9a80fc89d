//! Current-thread rows: quell's current-thread runtime vs tokio's
//! `current_thread`, each driven by `block_on` on the bench thread (no
//! worker threads on either side). The workloads run inside one
//! `block_on` call, so they measure the single-threaded scheduler only.

use std::future::Future;
use std::sync::Arc;

use super::harness::{alternate, dispose, time_batch, Contender, Settings};
use super::registry::Scenario;
use super::scenarios::Failed;
use super::slot::Slot;
use super::table::{Budget, Row, Section};

const SPAWN: usize = 10_000;
const YIELD_TASKS: usize = 200;
const YIELDS: usize = 200;
const PAIRS: usize = 4;
const ROUND_TRIPS: usize = 1000;

/// What the workloads need: spawn (awaitable), yield.
trait Ct {
    fn spawn<F>(f: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    fn yield_now() -> impl Future<Output = ()> + Send;
}

struct Q;
struct T;

impl Ct for Q {
    fn spawn<F>(f: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let h = quell::spawn(f);
        async move { h.await.expect("quell task") }
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        quell::task::yield_now()
    }
}

impl Ct for T {
    fn spawn<F>(f: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let h = tokio::spawn(f);
        async move { h.await.expect("tokio task") }
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

async fn spawn_many<R: Ct>() {
    let hs: Vec<_> = (0..SPAWN).map(|i| R::spawn(async move { i })).collect();
    for h in hs {
        h.await;
    }
}

async fn yield_many<R: Ct>() {
    let hs: Vec<_> = (0..YIELD_TASKS)
        .map(|_| {
            R::spawn(async {
                for _ in 0..YIELDS {
                    R::yield_now().await;
                }
            })
        })
        .collect();
    for h in hs {
        h.await;
    }
}

async fn ping_pong<R: Ct>() {
    let (mut pongers, mut pingers) = (Vec::new(), Vec::new());
    for _ in 0..PAIRS {
        let ping = Arc::new(Slot::<usize>::new());
        let pong = Arc::new(Slot::<usize>::new());
        let (ping2, pong2) = (ping.clone(), pong.clone());
        pongers.push(R::spawn(async move {
            for _ in 0..ROUND_TRIPS {
                let v = ping2.recv().await;
                pong2.send(v + 1);
            }
        }));
        pingers.push(R::spawn(async move {
            for i in 0..ROUND_TRIPS {
                ping.send(i);
                assert_eq!(pong.recv().await, i + 1, "ping_pong: wrong value");
            }
        }));
    }
    for h in pingers {
        h.await;
    }
    for h in pongers {
        h.await;
    }
}

fn row<FQ, FT>(s: &Settings, name: &str, q: fn() -> FQ, t: fn() -> FT) -> Row
where
    FQ: Future<Output = ()>,
    FT: Future<Output = ()>,
{
    let quell = quell::runtime::Builder::new_current_thread()
        .build()
        .expect("build quell runtime");
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build tokio runtime");
    let mut out = {
        let mut cs = [
            Contender::new("quell", || {
                time_batch(s, || {
                    quell.block_on(q());
                    Ok::<(), Failed>(())
                })
            }),
            Contender::new("tokio", || {
                time_batch(s, || {
                    tokio.block_on(t());
                    Ok::<(), Failed>(())
                })
            }),
        ];
        alternate(s.reps, &mut cs, 1)
    };
    let tt = out[1].remove(0);
    let tq = out[0].remove(0);
    let row = Row::new(Section::VsTokio, name, tq, tt, Budget::None);
    dispose(quell, std::slice::from_ref(&row.quell));
    dispose(tokio, std::slice::from_ref(&row.other));
    row
}

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "current_thread_spawn",
            run: |s| {
                vec![row(
                    s,
                    "current_thread spawn (10k tasks, awaited, in block_on)",
                    spawn_many::<Q>,
                    spawn_many::<T>,
                )]
            },
        },
        Scenario {
            name: "current_thread_yield",
            run: |s| {
                vec![row(
                    s,
                    "current_thread yield (200 tasks × 200 yields)",
                    yield_many::<Q>,
                    yield_many::<T>,
                )]
            },
        },
        Scenario {
            name: "current_thread_ping_pong",
            run: |s| {
                vec![row(
                    s,
                    "current_thread ping_pong (4 pairs × 1000 round trips)",
                    ping_pong::<Q>,
                    ping_pong::<T>,
                )]
            },
        },
    ]
}
