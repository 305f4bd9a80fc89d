//! Bad input gets a clear error, never a hang or a dead runtime: invalid
//! builder settings, `block_on` inside the runtime, spawning after
//! shutdown, a panicking task, a panicking join waker.

mod support;

use std::future::Future;
use std::io::ErrorKind;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};

use quell::runtime::Builder;
use support::*;

#[test]
fn builder_rejects_invalid_settings() {
    let e = Builder::new().worker_threads(0).build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("worker_threads"), "{e}");
    let e = Builder::new().global_queue_interval(0).build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = Builder::new().max_blocking_threads(0).build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn block_on_inside_block_on_is_refused() {
    let rt = Arc::new(rt(1));
    let rt2 = rt.clone();
    let err = rt.block_on(async move { rt2.try_block_on(async { 1 }).unwrap_err() });
    assert!(err.to_string().contains("cannot call `block_on`"), "{err}");
}

#[test]
fn block_on_inside_a_task_is_refused_and_the_runtime_survives() {
    let rt = Arc::new(rt(2));
    let rt2 = rt.clone();
    let h = rt.spawn(async move { rt2.try_block_on(async { 1 }).is_err() });
    assert!(rt.block_on(h).unwrap());

    // The panicking form panics in the task with the clear message.
    let rt3 = rt.clone();
    let h = rt.spawn(async move { rt3.block_on(async { 1 }) });
    let err = rt.block_on(h).unwrap_err();
    assert!(err.is_panic());
    let msg = err.into_panic().downcast::<String>().unwrap();
    assert!(msg.contains("cannot call `block_on`"), "{msg}");
    // Still serving.
    assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
}

#[test]
fn spawn_after_shutdown_reports_shutdown_and_drops_the_future() {
    let rt = rt(1);
    let handle = rt.handle().clone();
    drop(rt);
    let drops = DropCount::new();
    let tag = drops.tag();
    let mut h = handle.spawn(async move {
        let _t = tag;
        7
    });
    assert_eq!(drops.get(), 1, "the future is dropped at once");
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(&mut h).poll(&mut cx) {
        Poll::Ready(Err(e)) => {
            assert!(e.is_aborted() && e.is_shutdown(), "{e}");
            assert!(e.to_string().contains("shutdown"), "{e}");
        }
        other => panic!(
            "expected a shutdown error, got {:?}",
            other.map(|r| r.is_ok())
        ),
    }
    // spawn_blocking after shutdown too.
    let mut hb = handle.spawn_blocking(|| 1);
    match Pin::new(&mut hb).poll(&mut cx) {
        Poll::Ready(Err(e)) => assert!(e.is_shutdown(), "{e}"),
        _ => panic!("expected a shutdown error"),
    }
}

#[test]
fn spawn_outside_a_runtime_panics_with_a_clear_message() {
    let err = std::panic::catch_unwind(|| quell::spawn(async {})).unwrap_err();
    let msg = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned());
    assert!(msg.unwrap().contains("outside a quell runtime"));
    assert!(quell::Handle::try_current().is_err());
}

#[test]
fn panicking_task_is_reported_and_the_runtime_keeps_running() {
    let rt = rt(2);
    let hs: Vec<_> = (0..100)
        .map(|i| {
            rt.spawn(async move {
                if i % 2 == 0 {
                    panic!("boom {i}")
                } else {
                    i
                }
            })
        })
        .collect();
    let mut ok = 0;
    let mut panicked = 0;
    for h in hs {
        match rt.block_on(h) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(e.is_panic());
                panicked += 1;
            }
        }
    }
    assert_eq!((ok, panicked), (50, 50));
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
}

struct PanickingWaker(AtomicUsize);

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
        panic!("this waker panics");
    }
}

#[test]
fn a_panicking_join_waker_does_not_break_the_runtime() {
    let rt = rt(2);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let mut h = rt.spawn(async move {
        let _ = go_rx.recv_timeout(HANG);
        11
    });
    let pw = Arc::new(PanickingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(pw.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut h).poll(&mut cx).is_pending());
    go_tx.send(()).unwrap();
    // The completion wakes the panicking waker; the runtime contains it.
    wait_until(|| h.is_finished());
    wait_until(|| pw.0.load(SeqCst) == 1);
    match Pin::new(&mut h).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(v)) => assert_eq!(v, 11),
        _ => panic!("output lost"),
    }
    // The worker that ran the completion still serves.
    let hs: Vec<_> = (0..64).map(|i| rt.spawn(async move { i })).collect();
    for (i, h) in hs.into_iter().enumerate() {
        assert_eq!(rt.block_on(h).unwrap(), i);
    }
}
