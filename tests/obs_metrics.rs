//! `Handle::metrics()`: each counter moves as the behaviour it names, in
//! arrangements where that behaviour is forced (a blocked worker, a spent
//! budget, a cancel), never hoped for.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc as std_mpsc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use quell::cancel::Cause;
use quell::runtime::Builder;
use quell::task::yield_now;

/// Generous bound that only catches hangs.
const HANG: Duration = Duration::from_secs(20);

fn rt(workers: usize, histograms: bool) -> quell::Runtime {
    let mut b = Builder::new();
    b.worker_threads(workers);
    if histograms {
        b.enable_metrics_histograms();
    }
    b.build().unwrap()
}

/// Waits (bounded) until `f` holds, re-reading metrics; for counters that
/// move when an idle worker goes to sleep, which nothing can signal.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + HANG;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn polls_counted_per_poll() {
    let rt = rt(1, false);
    let before = rt.handle().metrics().total_polls();
    rt.block_on(async {
        quell::spawn(async {
            for _ in 0..10 {
                yield_now().await;
            }
        })
        .await
        .unwrap()
    });
    let m = rt.handle().metrics();
    // 10 yields: 11 polls of the task, at least.
    assert!(m.total_polls() - before >= 11, "{m:?}");
    assert_eq!(m.workers, 1);
    assert!(
        m.worker[0].local_schedules >= 10,
        "each yield queues locally: {m:?}"
    );
}

#[test]
fn steal_counted_when_a_worker_is_blocked() {
    // The task blocks its worker (a synchronous wait) after spawning four
    // tasks onto that worker's local queue: only the other worker can run
    // them, and only by stealing.
    let rt = rt(2, false);
    rt.block_on(async {
        quell::spawn(async {
            let (tx, rx) = std_mpsc::channel();
            for _ in 0..4 {
                let tx = tx.clone();
                quell::spawn(async move { tx.send(()).unwrap() });
            }
            for _ in 0..4 {
                rx.recv_timeout(HANG).expect("the other worker must steal");
            }
        })
        .await
        .unwrap()
    });
    let m = rt.handle().metrics();
    assert!(m.total_steals() >= 1, "{m:?}");
}

/// Spends the cooperative budget in one poll (a channel whose values are
/// all ready: only the budget can make it answer `Pending`), then
/// completes.
struct SpendBudget {
    rx: quell::sync::mpsc::UnboundedReceiver<u32>,
    yielded: bool,
}

impl SpendBudget {
    fn new() -> SpendBudget {
        let (tx, rx) = quell::sync::mpsc::unbounded_channel();
        for i in 0..10_000 {
            tx.send(i).unwrap();
        }
        SpendBudget { rx, yielded: false }
    }
}

impl Future for SpendBudget {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        loop {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => panic!("the budget never ran out: {e:?}"),
                Poll::Pending => {
                    self.yielded = true;
                    return Poll::Pending;
                }
            }
        }
    }
}

#[test]
fn forced_yield_counted_when_budget_runs_out() {
    let rt = rt(1, false);
    rt.block_on(async { quell::spawn(async { yield_now().await }).await.unwrap() });
    assert_eq!(
        rt.handle().metrics().total_forced_yields(),
        0,
        "a plain yield is not forced"
    );
    rt.block_on(async { quell::spawn(SpendBudget::new()).await.unwrap() });
    assert_eq!(rt.handle().metrics().total_forced_yields(), 1);
}

#[test]
fn lifo_hit_on_ping_pong() {
    let rt = rt(1, false);
    rt.block_on(async {
        quell::spawn(async {
            let (tx, mut rx) = quell::sync::mpsc::channel::<u32>(1);
            let echo = quell::spawn(async move {
                let mut n = 0;
                while rx.recv().await.is_ok() {
                    n += 1;
                }
                n
            });
            for i in 0..20 {
                tx.send(i).await.unwrap();
            }
            drop(tx);
            assert_eq!(echo.await.unwrap(), 20);
        })
        .await
        .unwrap()
    });
    let m = rt.handle().metrics();
    assert!(m.worker[0].lifo_hits >= 1, "{m:?}");
}

/// A task spawned into an empty LIFO slot runs next: each link of a chain
/// of spawns (a task that spawns the next and ends) is taken from the slot,
/// not from the back of the queue.
#[test]
fn a_chain_of_spawns_runs_through_the_lifo_slot() {
    fn link(n: u32, done: std_mpsc::Sender<()>) {
        if n == 0 {
            done.send(()).unwrap();
        } else {
            drop(quell::spawn(async move { link(n - 1, done) }));
        }
    }
    const DEPTH: u32 = 100;
    let rt = rt(1, false);
    let before = rt.handle().metrics().worker[0].lifo_hits;
    let (tx, rx) = std_mpsc::channel();
    drop(rt.spawn(async move { link(DEPTH, tx) }));
    rx.recv_timeout(HANG).unwrap();
    let m = rt.handle().metrics();
    assert!(m.worker[0].lifo_hits - before >= u64::from(DEPTH), "{m:?}");
}

/// Only the first spawn of a poll takes the LIFO slot: a burst of spawns
/// runs in spawn order (the later ones queue behind the first instead of
/// displacing it).
#[test]
fn a_burst_of_spawns_runs_in_spawn_order() {
    let rt = rt(1, false);
    let order = rt.block_on(async {
        quell::spawn(async {
            let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let hs: Vec<_> = (0..5)
                .map(|i| {
                    let seen = seen.clone();
                    quell::spawn(async move { seen.lock().unwrap().push(i) })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
            let v = seen.lock().unwrap().clone();
            v
        })
        .await
        .unwrap()
    });
    assert_eq!(order, [0, 1, 2, 3, 4]);
}

#[test]
fn global_queue_depth_and_remote_schedules() {
    let rt = rt(1, false);
    let (block_tx, block_rx) = std_mpsc::channel::<()>();
    let (started_tx, started_rx) = std_mpsc::channel::<()>();
    let blocker = rt.spawn(async move {
        started_tx.send(()).unwrap();
        block_rx.recv_timeout(HANG).unwrap();
    });
    started_rx.recv_timeout(HANG).unwrap();
    // The only worker is blocked: these wait in the global queue.
    let before = rt.handle().metrics().remote_schedules;
    let hs: Vec<_> = (0..5).map(|_| rt.spawn(async {})).collect();
    let m = rt.handle().metrics();
    assert_eq!(m.global_queue_depth, 5, "{m:?}");
    assert!(m.remote_schedules - before >= 5, "{m:?}");
    assert_eq!(m.alive_tasks, 6, "{m:?}");
    block_tx.send(()).unwrap();
    rt.block_on(async move {
        blocker.await.unwrap();
        for h in hs {
            h.await.unwrap();
        }
    });
    assert_eq!(rt.handle().metrics().global_queue_depth, 0);
}

#[test]
fn parks_unparks_and_busy_time() {
    let rt = rt(1, false);
    // An idle worker goes to sleep.
    eventually("the worker to park", || {
        rt.handle().metrics().worker[0].parks >= 1
    });
    let before = rt.handle().metrics().worker[0].clone();
    // Work from outside wakes it...
    rt.block_on(async { rt.spawn(async {}).await.unwrap() });
    let m = rt.handle().metrics();
    assert!(m.worker[0].unparks > before.unparks, "{m:?}");
    // ...and it parks again when done, adding its awake stretch to `busy`.
    eventually("the worker to park again", || {
        let w = &rt.handle().metrics().worker[0];
        w.parks > before.parks && w.busy > before.busy
    });
}

#[test]
fn blocking_pool_timers_and_io_gauges() {
    let rt = rt(1, false);
    let (tx, rx) = std_mpsc::channel::<()>();
    let (started_tx, started_rx) = std_mpsc::channel::<()>();
    let blocking = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        rx.recv_timeout(HANG).unwrap();
    });
    started_rx.recv_timeout(HANG).unwrap();
    let m = rt.handle().metrics();
    assert!(m.blocking_threads >= 1, "{m:?}");
    assert_eq!(m.blocking_queue_depth, 0, "{m:?}");
    tx.send(()).unwrap();

    rt.block_on(async {
        blocking.await.unwrap();
        let listener = quell::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let turns = quell::Handle::current().metrics().io_driver_turns;
        let sleeper = quell::spawn(quell::time::sleep(Duration::from_secs(3600)));
        yield_now().await;
        // Give the sleeper a poll so its timer is armed.
        let conn = quell::spawn(async move { quell::net::TcpStream::connect(addr).await });
        let (_server, _) = listener.accept().await.unwrap();
        let _client = conn.await.unwrap().unwrap();
        let m = quell::Handle::current().metrics();
        assert!(m.io_sources >= 2, "{m:?}");
        assert!(m.active_timers >= 1, "{m:?}");
        assert!(m.io_driver_turns > turns, "{m:?}");
        assert!(m.io_events >= 1, "{m:?}");
        sleeper.abort();
    });
}

#[test]
fn histograms_off_by_default() {
    let rt = rt(1, false);
    rt.block_on(async { quell::spawn(async {}).await.unwrap() });
    let m = rt.handle().metrics();
    assert!(m.histograms.is_none());
    assert!(m.worker[0].histograms.is_none());
}

#[test]
fn poll_time_and_schedule_latency_histograms() {
    let rt = rt(1, true);
    rt.block_on(async {
        let hs: Vec<_> = (0..50)
            .map(|_| quell::spawn(async { yield_now().await }))
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        // A poll's time is recorded after the poll, which may be after its
        // join returned: one more task on the only worker starts after the
        // last one's poll time was recorded.
        quell::spawn(async {}).await.unwrap();
    });
    let h = rt.handle().metrics().histograms.unwrap();
    // 50 tasks × 2 polls; each poll was queued first (spawn, then yield).
    assert!(h.poll_time.count() >= 100, "{h:?}");
    assert!(h.schedule_latency.count() >= 100, "{h:?}");
}

#[test]
fn cancel_latency_one_sample_per_observed_cancel() {
    let rt = rt(2, true);
    rt.block_on(async {
        let (started_tx, mut started_rx) = quell::sync::mpsc::unbounded_channel::<()>();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let started = started_tx.clone();
                quell::spawn(async move {
                    let (_keep, rx) = quell::sync::oneshot::channel::<()>();
                    started.send(()).unwrap();
                    // Parked until cancelled: the first observation...
                    let first = rx.await;
                    // ...and a second one, which must not add a sample.
                    let second = quell::time::sleep(Duration::from_secs(3600)).await;
                    (first.is_err(), second.is_err())
                })
            })
            .collect();
        // A task that is never cancelled adds nothing.
        let calm = quell::spawn(async { yield_now().await });
        for _ in 0..3 {
            started_rx.recv().await.unwrap();
        }
        calm.await.unwrap();
        for t in &tasks {
            assert!(t.cancel(Cause::explicit("stop")));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), (true, true));
        }
    });
    let h = rt.handle().metrics().histograms.unwrap();
    assert_eq!(h.cancel_latency.count(), 3, "{h:?}");
}
