//! The current-thread runtime (`Builder::new_current_thread`): the thread
//! inside `block_on` is its one worker. Spawned tasks, loopback I/O,
//! timers, cancellation of a parked task, the blocking pool, wakes from
//! other threads, several `block_on` callers, and `shutdown_graceful`.

mod support;

use std::future::pending;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use quell::cancel::{self, CancellableExt, Cancelled, Cause, CauseKind};
use quell::net::{TcpListener, TcpStream};
use quell::runtime::Builder;
use quell::sync::oneshot;
use quell::task::SpawnBuilder;
use quell::time;
use support::*;

fn current() -> quell::Runtime {
    Builder::new_current_thread().build().unwrap()
}

#[test]
fn spawned_tasks_run_on_the_block_on_thread() {
    let _dog = watchdog("current-thread spawn");
    let rt = current();
    assert_eq!(rt.handle().num_workers(), 0);
    let me = thread::current().id();
    let ids = rt.block_on(async {
        let handles: Vec<_> = (0..100)
            .map(|i| {
                quell::spawn(async move {
                    // A task spawning a task, yielding in between.
                    quell::task::yield_now().await;
                    let inner = quell::spawn(async move { (i, thread::current().id()) });
                    let (j, inner_id) = inner.await.unwrap();
                    assert_eq!(i, j);
                    (thread::current().id(), inner_id)
                })
            })
            .collect();
        let mut ids = Vec::new();
        for h in handles {
            ids.push(h.await.unwrap());
        }
        ids
    });
    assert_eq!(ids.len(), 100);
    assert!(ids.iter().all(|&(a, b)| a == me && b == me));
    assert_eq!(rt.handle().num_tasks(), 0);
}

#[test]
fn a_task_spawned_from_another_thread_runs_in_the_next_block_on() {
    let _dog = watchdog("current-thread remote spawn");
    let rt = current();
    let handle = rt.handle().clone();
    // No thread is inside `block_on`: the task is queued, not run.
    let h = thread::spawn(move || handle.spawn(async { thread::current().id() }))
        .join()
        .unwrap();
    assert_eq!(rt.handle().num_tasks(), 1);
    assert!(!h.is_finished());
    assert_eq!(rt.block_on(h).unwrap(), thread::current().id());
}

#[test]
fn a_wake_from_another_thread_reaches_the_parked_block_on() {
    let _dog = watchdog("current-thread remote wake");
    let rt = current();
    for round in 0..200u32 {
        let (tx, rx) = oneshot::channel::<u32>();
        let (task_tx, task_rx) = oneshot::channel::<u32>();
        // A task parked on a channel, woken by a thread outside the runtime,
        // wakes the block_on future in turn.
        let relay = rt.spawn(async move {
            let v = rx.await.unwrap();
            task_tx.send(v + 1).unwrap();
        });
        let sender = thread::spawn(move || tx.send(round).unwrap());
        let got = rt.block_on(async { task_rx.await.unwrap() });
        assert_eq!(got, round + 1);
        rt.block_on(relay).unwrap();
        sender.join().unwrap();
    }
}

/// Bounded stress: threads outside the runtime spawn tasks onto it and
/// wake tasks parked in it while its one thread sleeps in the driver; every
/// spawn and every wake must reach it (a lost one hangs the test).
#[test]
fn remote_spawns_and_wakes_from_many_threads_are_never_lost() {
    let _dog = watchdog("current-thread remote stress");
    const THREADS: usize = 4;
    const ROUNDS: usize = 500;
    let rt = current();
    let total = rt.block_on(async {
        let mut receivers = Vec::new();
        let mut threads = Vec::new();
        for _ in 0..THREADS {
            let handle = quell::Handle::current();
            let (tx, rx) = quell::sync::mpsc::unbounded_channel::<usize>();
            receivers.push(quell::spawn(async move {
                let mut rx = rx;
                let mut sum = 0;
                while let Ok(v) = rx.recv().await {
                    sum += v;
                }
                sum
            }));
            threads.push(thread::spawn(move || {
                for i in 0..ROUNDS {
                    if i % 2 == 0 {
                        // A wake of the parked receiver.
                        tx.send(1).unwrap();
                    } else {
                        // A spawn from outside, which sends in turn.
                        let tx = tx.clone();
                        drop(handle.spawn(async move { tx.send(1).unwrap() }));
                    }
                }
            }));
        }
        let mut total = 0;
        for r in receivers {
            total += r.await.unwrap();
        }
        for t in threads {
            t.join().unwrap();
        }
        total
    });
    assert_eq!(total, THREADS * ROUNDS);
}

#[test]
fn loopback_tcp_echo_and_timers() {
    let _dog = watchdog("current-thread io");
    let rt = current();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = quell::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0; 64];
            loop {
                let n = conn.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                conn.write_all(&buf[..n]).await.unwrap();
            }
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        for i in 0..50u8 {
            let msg = [i; 16];
            client.write_all(&msg).await.unwrap();
            let mut got = [0; 16];
            client.read_exact(&mut got).await.unwrap();
            assert_eq!(got, msg);
        }
        drop(client);
        server.await.unwrap();

        // Timers: a spawned sleeper and an interval, on the same thread.
        let start = std::time::Instant::now();
        let sleeper = quell::spawn(time::sleep(Duration::from_millis(20)));
        let mut tick = time::interval(Duration::from_millis(2));
        for _ in 0..3 {
            tick.tick().await.unwrap();
        }
        sleeper.await.unwrap().unwrap();
        assert!(start.elapsed() >= Duration::from_millis(20));
    });
}

#[test]
fn a_busy_yielding_task_does_not_starve_timers() {
    let _dog = watchdog("current-thread busy vs timer");
    let rt = current();
    let yields = rt.block_on(async {
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let d = done.clone();
        // A task that only yields, until a timer elsewhere fires; no
        // socket is registered, so only the timer wheel can end it.
        let spinner = quell::spawn(async move {
            let mut n = 0u64;
            while !d.load(std::sync::atomic::Ordering::SeqCst) {
                quell::task::yield_now().await;
                n += 1;
            }
            n
        });
        time::sleep(Duration::from_millis(5)).await.unwrap();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        spinner.await.unwrap()
    });
    assert!(yields > 0);
}

#[test]
fn a_task_parked_on_a_read_is_cancelled_from_another_thread() {
    let _dog = watchdog("current-thread cancel parked read");
    let rt = current();
    let (handle_tx, handle_rx) = mpsc::channel();
    let (parked_tx, parked_rx) = mpsc::channel();
    let canceller = thread::spawn(move || {
        let reader: quell::JoinHandle<_> = recv(&handle_rx);
        recv(&parked_rx);
        assert!(reader.cancel(Cause::explicit("client gone")));
        reader
    });
    let err = rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _peer = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut conn, _) = listener.accept().await.unwrap();
        let reader = quell::spawn(async move {
            let mut buf = [0; 8];
            parked_tx.send(()).unwrap();
            conn.read(&mut buf).await.unwrap_err() // the peer is silent
        });
        handle_tx.send(reader).unwrap();
        // The handle moved to the canceller; wait for it back and join.
        let reader = quell::task::spawn_blocking(move || canceller.join().unwrap())
            .await
            .unwrap();
        reader.await.unwrap()
    });
    let cancelled = Cancelled::from_io(&err).expect("a Cancelled io::Error");
    assert_eq!(cancelled.cause().message(), Some("client gone"));
}

#[test]
fn abort_from_another_thread_drops_the_future_in_block_on() {
    let _dog = watchdog("current-thread abort");
    let rt = current();
    let drops = DropCount::new();
    let tag = drops.tag();
    let (parked_tx, parked_rx) = mpsc::channel();
    let task = rt.spawn(async move {
        let _tag = tag;
        parked_tx.send(()).unwrap();
        pending::<()>().await
    });
    let abort = task.abort_handle();
    let err = rt.block_on(async move {
        let aborter = thread::spawn(move || {
            recv(&parked_rx);
            abort.abort();
        });
        let err = task.await.unwrap_err();
        aborter.join().unwrap();
        err
    });
    assert!(err.is_aborted());
    assert_eq!(drops.get(), 1);
}

#[test]
fn the_blocking_pool_sees_the_task_scope() {
    let _dog = watchdog("current-thread blocking");
    let rt = current();
    // An async channel: blocking the block_on thread (the only worker)
    // on a std receive would keep the parent from ever running.
    let (started_tx, started_rx) = oneshot::channel();
    let (seen_tx, seen_rx) = mpsc::channel();
    let parent = rt.spawn(async move {
        let work = quell::task::spawn_blocking(move || {
            started_tx.send(()).unwrap();
            // Blocking work polls its cancel state (the spawner's scope).
            support::wait_until(cancel::is_cancelled);
            seen_tx.send(cancel::current().cause().unwrap()).unwrap();
            7
        });
        work.await.unwrap()
    });
    let n = rt.block_on(async {
        let sum = quell::task::spawn_blocking(|| (1..=10).sum::<u32>())
            .await
            .unwrap();
        assert_eq!(sum, 55);
        started_rx.await.unwrap();
        parent.cancel(Cause::explicit("stop the blocking work"));
        // The parent is cancelled while joining the blocking task inside its
        // scope: it waits for the closure's own result.
        parent.await.unwrap()
    });
    assert_eq!(n, 7);
    assert_eq!(recv(&seen_rx).message(), Some("stop the blocking work"));
}

#[test]
fn block_on_inside_the_runtime_is_a_clear_error() {
    let _dog = watchdog("current-thread nested block_on");
    let rt = Arc::new(current());
    let rt2 = rt.clone();
    let other = quell::Runtime::new().unwrap();
    let (from_main, from_task, from_other) = rt.block_on(async move {
        let from_main = rt2.try_block_on(async {}).unwrap_err();
        let rt3 = rt2.clone();
        let from_task = quell::spawn(async move { rt3.try_block_on(async {}).unwrap_err() })
            .await
            .unwrap();
        let from_other = other.try_block_on(async {}).unwrap_err();
        (from_main, from_task, from_other)
    });
    for e in [from_main, from_task, from_other] {
        assert!(
            e.to_string().contains("cannot call `block_on`"),
            "unexpected message: {e}"
        );
    }
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { rt.block_on(async {}) })
    }))
    .unwrap_err();
    let msg = panicked.downcast_ref::<String>().unwrap();
    assert!(msg.contains("cannot call `block_on`"), "{msg}");
    // Still usable afterwards.
    assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
}

#[test]
fn a_second_block_on_thread_waits_for_the_core_and_takes_it_over() {
    let _dog = watchdog("current-thread two block_on");
    let rt = Arc::new(current());
    let (started_tx, started_rx) = mpsc::channel();
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let a = {
        let rt = rt.clone();
        thread::spawn(move || {
            rt.block_on(async move {
                // The first poll comes before `block_on` takes the core; the
                // one after this yield runs with the core held.
                quell::task::yield_now().await;
                started_tx.send(()).unwrap();
                done_rx.await.unwrap();
            });
            thread::current().id()
        })
    };
    recv(&started_rx);
    // Thread A holds the core: our task runs there, and it is what lets
    // A's block_on return.
    let ran_on = rt.block_on(rt.spawn(async move {
        done_tx.send(()).unwrap();
        thread::current().id()
    }));
    let a_id = a.join().unwrap();
    assert_eq!(ran_on.unwrap(), a_id);
    // A has returned: we take the core over and run tasks (and a timer).
    let here = rt.block_on(rt.spawn(async {
        time::sleep(Duration::from_millis(1)).await.unwrap();
        thread::current().id()
    }));
    assert_eq!(here.unwrap(), thread::current().id());
}

#[test]
fn shutdown_graceful_drives_the_tasks_and_reports_the_stubborn_one() {
    let _dog = watchdog("current-thread shutdown");
    let rt = current();
    let (cause_tx, cause_rx) = mpsc::channel();
    // Spawned, never run yet: no thread has been inside block_on.
    rt.spawn(async move {
        let err = pending::<()>().cancellable().await.unwrap_err();
        cause_tx.send(err.cause().kind().clone()).unwrap();
    });
    let drops = DropCount::new();
    let tag = drops.tag();
    SpawnBuilder::new().name("stubborn").spawn_on(
        async move {
            let _tag = tag;
            pending::<()>().await
        },
        rt.handle(),
    );
    let report = rt.shutdown_graceful(Duration::from_millis(500));
    assert_eq!(report.tasks_at_start, 2);
    assert_eq!(report.finished_in_grace, 1);
    assert_eq!(report.forced.len(), 1);
    assert_eq!(report.forced[0].name.as_deref(), Some("stubborn"));
    assert!(report.forced[0].cancel.is_cancelled());
    assert_eq!(recv(&cause_rx), CauseKind::Shutdown);
    assert_eq!(drops.get(), 1, "the forced task's future was dropped");
}

#[test]
fn dropping_the_runtime_drops_every_future() {
    let _dog = watchdog("current-thread drop");
    let rt = current();
    let drops = DropCount::new();
    for _ in 0..10 {
        let tag = drops.tag();
        rt.spawn(async move {
            let _tag = tag;
            time::sleep(Duration::from_secs(3600)).await
        });
    }
    // Let them all run to their timers first (the main future yields, so
    // the queued tasks are polled in between).
    rt.block_on(async {
        for _ in 0..3 {
            quell::task::yield_now().await;
        }
    });
    drop(rt);
    assert_eq!(drops.get(), 10);
}

#[test]
fn a_spawn_after_shutdown_is_refused_with_a_shutdown_error() {
    let _dog = watchdog("current-thread spawn after shutdown");
    let rt = current();
    let handle = rt.handle().clone();
    drop(rt);
    let drops = DropCount::new();
    let tag = drops.tag();
    let h = handle.spawn(async move {
        let _tag = tag;
    });
    assert_eq!(drops.get(), 1, "the future was dropped at once");
    let other = quell::Runtime::new().unwrap();
    assert!(other.block_on(h).unwrap_err().is_shutdown());
}

#[test]
fn shutdown_with_a_drain_phase_drives_the_tasks_through_it() {
    let _dog = watchdog("current-thread drain");
    let rt = current();
    // Never polled before shutdown: only the shutdown's own waiting runs it.
    rt.spawn(async {
        quell::cancel::draining().await;
    });
    let policy =
        quell::runtime::ShutdownPolicy::new(Duration::from_secs(5), Duration::from_secs(1));
    let report = rt.shutdown_with(policy);
    assert_eq!(report.drained, 1, "{report}");
    assert!(report.is_drained(), "{report}");
}
