//! `sleep`, `timeout`, `interval` on the real runtime: completion (lower
//! bounds only), cancellation (the entry is gone), shutdown, misuse.

mod support;

use std::future::{pending, poll_fn, Future};
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use quell::cancel::{Cause, CauseKind};
use quell::time::{self, MissedTickBehavior};
use support::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn sleep_completes_no_earlier_than_its_duration() {
    let _dog = watchdog("sleep completes");
    let rt = rt(2);
    // One per wheel level that a test can afford, plus zero.
    for d in [0, 1, 3, 63, 64, 70, 150] {
        let start = Instant::now();
        rt.block_on(time::sleep(ms(d))).unwrap();
        assert!(start.elapsed() >= ms(d), "{d} ms sleep ended early");
    }
    assert_eq!(rt.handle().io().num_timers(), 0);
}

#[test]
fn many_concurrent_sleeps_all_complete_and_leave_no_entry() {
    let _dog = watchdog("many sleeps");
    let rt = rt(2);
    let handles: Vec<_> = (0..2000u64)
        .map(|i| {
            rt.spawn(async move {
                let d = ms(i % 97);
                let start = Instant::now();
                time::sleep(d).await.unwrap();
                start.elapsed() >= d
            })
        })
        .collect();
    for h in handles {
        assert!(rt.block_on(h).unwrap(), "a sleep ended early");
    }
    assert_eq!(rt.handle().io().num_timers(), 0);
}

#[test]
fn sleep_until_a_past_instant_is_ready_at_once() {
    let rt = rt(1);
    rt.block_on(async {
        time::sleep_until(Instant::now() - ms(5)).await.unwrap();
        let s = time::sleep_until(Instant::now());
        assert!(s.is_elapsed() || s.deadline() <= Instant::now() + ms(1));
        s.await.unwrap();
    });
    assert_eq!(rt.handle().io().num_timers(), 0);
}

#[test]
fn a_cancelled_sleep_answers_with_the_cause_and_removes_its_entry() {
    let _dog = watchdog("cancelled sleep");
    let rt = rt(2);
    let io = rt.handle().io().clone();
    let h = rt.spawn(async { time::sleep(Duration::from_secs(3600)).await });
    // The sleep is armed once its entry is in the wheel.
    wait_until(|| io.num_timers() == 1);
    assert!(h.cancel(Cause::explicit("enough")));
    let err = rt.block_on(h).unwrap().unwrap_err();
    assert_eq!(err.cause().kind(), &CauseKind::Explicit);
    assert_eq!(err.cause().message(), Some("enough"));
    assert!(!err.is_inherited());
    assert_eq!(io.num_timers(), 0, "the cancelled sleep left its entry");
}

#[test]
fn a_root_cancel_reaches_a_sleeping_task_with_an_inherited_cause() {
    let _dog = watchdog("root cancel");
    let rt = rt(2);
    let io = rt.handle().io().clone();
    let h = rt.spawn(async { time::sleep(Duration::from_secs(3600)).await });
    wait_until(|| io.num_timers() == 1);
    rt.handle().root_token().cancel(Cause::shutdown());
    let err = rt.block_on(h).unwrap().unwrap_err();
    assert_eq!(err.cause().kind(), &CauseKind::Shutdown);
    assert_eq!(io.num_timers(), 0);
}

#[test]
fn dropping_or_aborting_a_sleep_removes_its_entry() {
    let _dog = watchdog("drop sleep");
    let rt = rt(2);
    let io = rt.handle().io().clone();
    rt.block_on(async {
        let mut s = time::sleep(Duration::from_secs(3600));
        poll_fn(|cx| {
            assert!(Pin::new(&mut s).poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        assert_eq!(io.num_timers(), 1);
        drop(s);
        assert_eq!(io.num_timers(), 0);
    });
    let h = rt.spawn(async { time::sleep(Duration::from_secs(3600)).await });
    wait_until(|| io.num_timers() == 1);
    h.abort();
    assert!(rt.block_on(h).unwrap_err().is_aborted());
    assert_eq!(io.num_timers(), 0);
}

#[test]
fn reset_moves_a_sleep_earlier() {
    let _dog = watchdog("reset");
    let rt = rt(2);
    rt.block_on(async {
        let mut s = time::sleep(Duration::from_secs(3600));
        poll_fn(|cx| {
            assert!(Pin::new(&mut s).poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        let start = Instant::now();
        s.reset(start + ms(10));
        s.await.unwrap();
        assert!(start.elapsed() >= ms(10));
    });
}

#[test]
fn timeout_elapses_or_not() {
    let _dog = watchdog("timeout");
    let rt = rt(2);
    rt.block_on(async {
        let start = Instant::now();
        let err = time::timeout(ms(20), pending::<()>()).await.unwrap_err();
        assert!(start.elapsed() >= ms(20));
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);

        assert_eq!(time::timeout(ms(20), async { 7 }).await, Ok(7));
        let quick = time::timeout(Duration::from_secs(3600), async {
            time::sleep(ms(5)).await.unwrap();
            8
        });
        assert_eq!(quick.await, Ok(8));
    });
    assert_eq!(rt.handle().io().num_timers(), 0);
}

#[test]
fn interval_ticks_on_schedule() {
    let _dog = watchdog("interval");
    let rt = rt(2);
    rt.block_on(async {
        let period = ms(10);
        let start = Instant::now();
        let mut iv = time::interval(period);
        let first = iv.tick().await.unwrap();
        assert!(
            first >= start && first <= Instant::now(),
            "first tick at once"
        );
        let mut prev = first;
        for _ in 0..4 {
            let t = iv.tick().await.unwrap();
            assert_eq!(t, prev + period, "ticks follow the schedule");
            assert!(Instant::now() >= t, "a tick never comes early");
            prev = t;
        }
        assert!(start.elapsed() >= 4 * period);

        // Skip: after a long stall the next tick is in the future again.
        iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
        std::thread::sleep(5 * period); // the task is late (on purpose)
        let late = iv.tick().await.unwrap(); // the overdue tick, at once
        let next = iv.tick().await.unwrap();
        assert!(next > late + period, "missed ticks were skipped");
    });
    assert_eq!(rt.handle().io().num_timers(), 0);
}

#[test]
fn a_cancelled_interval_tick_answers_cancelled() {
    let _dog = watchdog("interval cancel");
    let rt = rt(2);
    let io = rt.handle().io().clone();
    let h = rt.spawn(async {
        let mut iv = time::interval(Duration::from_secs(3600));
        iv.tick().await.unwrap();
        iv.tick().await
    });
    wait_until(|| io.num_timers() == 1);
    h.cancel(Cause::explicit("stop ticking"));
    let err = rt.block_on(h).unwrap().unwrap_err();
    assert_eq!(err.cause().message(), Some("stop ticking"));
    assert_eq!(io.num_timers(), 0);
}

#[test]
fn dropping_the_runtime_wakes_sleepers_and_drops_their_futures() {
    let _dog = watchdog("shutdown with sleepers");
    let rt = rt(2);
    let drops = DropCount::new();
    let (armed_tx, armed_rx) = mpsc::channel();
    for _ in 0..10 {
        let tag = drops.tag();
        let tx = armed_tx.clone();
        rt.spawn(async move {
            let _tag = tag;
            tx.send(()).unwrap();
            let _ = time::sleep(Duration::from_secs(3600)).await;
        });
    }
    for _ in 0..10 {
        recv(&armed_rx);
    }
    drop(rt);
    assert_eq!(drops.get(), 10);
}

#[test]
fn after_shutdown_a_sleep_answers_shutdown() {
    let rt = rt(1);
    let io = rt.handle().io().clone();
    io.shutdown();
    let err = rt
        .block_on(time::sleep(Duration::from_secs(1)))
        .unwrap_err();
    assert_eq!(err.cause().kind(), &CauseKind::Shutdown);
}

#[test]
fn polling_a_sleep_outside_a_runtime_panics_with_a_clear_message() {
    let mut s = time::sleep(ms(1));
    let err = std::panic::catch_unwind(move || {
        let mut cx = Context::from_waker(Waker::noop());
        let _ = Pin::new(&mut s).poll(&mut cx);
    })
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("no quell runtime"), "message: {msg}");
}

/// Polls `fut` once: whether it was pending.
async fn pending_once<F: Future + Unpin>(fut: &mut F) -> bool {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx).is_pending())).await
}

#[test]
fn an_interval_of_duration_max_ticks_once_then_waits_without_overflow() {
    let _dog = watchdog("interval max");
    let rt = rt(2);
    rt.block_on(async {
        for missed in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            let mut iv = time::interval(Duration::MAX);
            iv.set_missed_tick_behavior(missed);
            iv.tick().await.unwrap(); // the first tick, at once
            assert!(pending_once(&mut Box::pin(iv.tick())).await, "{missed:?}");
            iv.reset();
            assert!(pending_once(&mut Box::pin(iv.tick())).await, "{missed:?}");
        }
        // A start far in the future, and a huge period after it.
        let far = Instant::now() + Duration::from_secs(86_400 * 365 * 100);
        let mut iv = time::interval_at(far, Duration::MAX);
        assert!(pending_once(&mut Box::pin(iv.tick())).await);

        assert_eq!(time::timeout(Duration::MAX, async { 7 }).await, Ok(7));
        let mut t = Box::pin(time::timeout(Duration::MAX, pending::<()>()));
        assert!(pending_once(&mut t).await);
        let mut s = Box::pin(time::sleep(Duration::MAX));
        assert!(pending_once(&mut s).await);
    });
    assert_eq!(rt.handle().io().num_timers(), 0);
}
