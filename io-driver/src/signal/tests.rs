//! Unit tests: a `Driver` driven by hand, signals raised in-process.
//!
//! Each test listens for its own real-time signal, so tests running in
//! parallel in this process never see each other's deliveries. `raise` is
//! synchronous: the handler (and so the pipe write) has run when it
//! returns, and `Driver::park(Some(ZERO))` then dispatches the readiness.

use std::io;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use quell_cancel::context::{self as cancel_cx, TaskCancel};
use quell_cancel::{CancelToken, Cancelled, Cause, CauseKind};

use super::{signal, Signal, SignalKind};
use crate::{context, Driver};

/// Real-time signal number `n` (distinct per test).
fn rt_signal(n: i32) -> SignalKind {
    let signo = libc::SIGRTMIN() + n;
    assert!(signo <= libc::SIGRTMAX());
    SignalKind::from_raw(signo)
}

fn raise(kind: SignalKind) {
    // SAFETY: raise(3) has no memory-safety preconditions; every caller
    // has a listener registered, so the signal does not kill the process.
    let rc = unsafe { libc::raise(kind.as_raw_value()) };
    assert_eq!(rc, 0, "raise failed");
}

fn poll(sig: &mut Signal) -> Poll<io::Result<()>> {
    sig.poll_recv(&mut Context::from_waker(Waker::noop()))
}

fn turn(driver: &mut Driver) {
    driver.park(Some(Duration::ZERO));
}

struct FakeTask {
    token: CancelToken,
}

impl TaskCancel for FakeTask {
    fn token(&self) -> &CancelToken {
        &self.token
    }
}

#[test]
fn delivery_wakes_and_coalesces() {
    let mut driver = Driver::new().unwrap();
    let _enter = context::enter(driver.handle().clone());
    let kind = rt_signal(1);
    let mut sig = signal(kind).unwrap();
    assert_eq!(sig.kind(), kind);
    assert!(poll(&mut sig).is_pending());

    for _ in 0..3 {
        raise(kind);
    }
    turn(&mut driver);
    assert!(matches!(poll(&mut sig), Poll::Ready(Ok(()))));
    // The three deliveries were one `recv`'s worth.
    assert!(poll(&mut sig).is_pending());
    turn(&mut driver);
    assert!(poll(&mut sig).is_pending());

    // And the next delivery is seen again.
    raise(kind);
    turn(&mut driver);
    assert!(matches!(poll(&mut sig), Poll::Ready(Ok(()))));
}

#[test]
fn delivery_before_first_poll_is_kept() {
    let mut driver = Driver::new().unwrap();
    let _enter = context::enter(driver.handle().clone());
    let kind = rt_signal(2);
    let mut sig = signal(kind).unwrap();
    raise(kind);
    turn(&mut driver);
    assert!(matches!(poll(&mut sig), Poll::Ready(Ok(()))));
}

#[test]
fn every_listener_sees_every_delivery() {
    let mut driver = Driver::new().unwrap();
    let _enter = context::enter(driver.handle().clone());
    let kind = rt_signal(3);
    let mut a = signal(kind).unwrap();
    let mut b = signal(kind).unwrap();
    assert!(poll(&mut a).is_pending());
    assert!(poll(&mut b).is_pending());
    raise(kind);
    turn(&mut driver);
    assert!(matches!(poll(&mut a), Poll::Ready(Ok(()))));
    assert!(matches!(poll(&mut b), Poll::Ready(Ok(()))));

    // Dropping one listener leaves the other working.
    drop(a);
    raise(kind);
    turn(&mut driver);
    assert!(matches!(poll(&mut b), Poll::Ready(Ok(()))));
}

#[test]
fn cancelled_wait_removes_waker_and_keeps_delivery() {
    let mut driver = Driver::new().unwrap();
    let _enter = context::enter(driver.handle().clone());
    let kind = rt_signal(4);
    let mut sig = signal(kind).unwrap();
    let task = FakeTask {
        token: CancelToken::new(),
    };

    cancel_cx::enter(&task, || assert!(poll(&mut sig).is_pending()));
    assert!(sig.has_waiter());

    // A delivery arrives, but the task is cancelled before it polls.
    raise(kind);
    task.token.cancel(Cause::explicit("stop"));
    let r = cancel_cx::enter(&task, || poll(&mut sig));
    let err = match r {
        Poll::Ready(Err(e)) => e,
        other => panic!("expected the cancelled error, got {other:?}"),
    };
    let c = Cancelled::from_io(&err).expect("the io::Error carries Cancelled");
    assert_eq!(c.cause().kind(), &CauseKind::Explicit);
    assert!(!sig.has_waiter(), "a cancelled wait left its waker behind");

    // The delivery was not consumed: an uncancelled recv still gets it.
    turn(&mut driver);
    assert!(matches!(poll(&mut sig), Poll::Ready(Ok(()))));
}

#[test]
fn token_cancellation_is_observed_too() {
    let driver = Driver::new().unwrap();
    let _enter = context::enter(driver.handle().clone());
    let mut sig = signal(rt_signal(5)).unwrap();
    let task = FakeTask {
        token: CancelToken::new(),
    };
    task.token.cancel(Cause::signal(libc::SIGTERM));
    let r = cancel_cx::enter(&task, || poll(&mut sig));
    let Poll::Ready(Err(e)) = r else {
        panic!("expected the cancelled error")
    };
    let c = Cancelled::from_io(&e).unwrap();
    assert_eq!(c.cause().kind(), &CauseKind::Signal(libc::SIGTERM));
}

#[test]
fn drop_deregisters() {
    let driver = Driver::new().unwrap();
    let _enter = context::enter(driver.handle().clone());
    let before = driver.handle().num_sources();
    let sig = signal(rt_signal(6)).unwrap();
    assert_eq!(driver.handle().num_sources(), before + 1);
    drop(sig);
    assert_eq!(driver.handle().num_sources(), before);
}

#[test]
fn shutdown_ends_waits() {
    let driver = Driver::new().unwrap();
    let _enter = context::enter(driver.handle().clone());
    let mut sig = signal(rt_signal(7)).unwrap();
    assert!(poll(&mut sig).is_pending());
    driver.handle().shutdown();
    assert!(matches!(poll(&mut sig), Poll::Ready(Err(_))));
}

#[test]
fn refuses_what_cannot_be_handled() {
    let driver = Driver::new().unwrap();
    let _enter = context::enter(driver.handle().clone());
    for signo in [
        0,
        -1,
        128,
        1000,
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
    ] {
        let err = signal(SignalKind::from_raw(signo)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "signal {signo}");
        let err = super::cancel_on([SignalKind::from_raw(signo)], &CancelToken::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "signal {signo}");
    }
    let err = super::cancel_on([], &CancelToken::new()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn outside_a_runtime_is_an_error() {
    // No driver entered on this (test) thread.
    let err = signal(rt_signal(8)).unwrap_err();
    assert!(err.to_string().contains("no quell runtime"), "{err}");
}

#[test]
fn cancel_on_cancels_with_the_signal_cause() {
    let kind = rt_signal(9);
    let token = CancelToken::new();
    let child = token.child();
    let guard = super::cancel_on([rt_signal(10), kind], &token).unwrap();
    assert_eq!(guard.signals(), &[rt_signal(10), kind]);
    raise(kind);
    // Hang guard only: the listening thread cancels promptly.
    let start = std::time::Instant::now();
    while !child.is_cancelled() {
        assert!(start.elapsed() < Duration::from_secs(30), "never cancelled");
        std::thread::yield_now();
    }
    assert_eq!(
        token.cause().unwrap().kind(),
        &CauseKind::Signal(kind.as_raw_value())
    );
    assert!(child.cause().unwrap().same(&token.cause().unwrap()));
    drop(guard); // joins the thread
}

#[test]
fn drain_on_drains_first_and_cancels_on_the_second_delivery() {
    let (first, second) = (rt_signal(11), rt_signal(12));
    let token = CancelToken::new();
    let child = token.child();
    let guard = super::drain_on([first, second], &token).unwrap();
    let wait = |what: &str, cond: &dyn Fn() -> bool| {
        // Hang guard only: the listening thread reacts promptly.
        let start = std::time::Instant::now();
        while !cond() {
            assert!(start.elapsed() < Duration::from_secs(30), "never {what}");
            std::thread::yield_now();
        }
    };
    raise(first);
    wait("drained", &|| child.is_draining());
    assert!(!token.is_cancelled(), "the first delivery only drains");
    assert_eq!(
        child.drain_cause().unwrap().kind(),
        &CauseKind::Signal(first.as_raw_value())
    );
    raise(second);
    wait("cancelled", &|| child.is_cancelled());
    assert_eq!(
        token.cause().unwrap().kind(),
        &CauseKind::Signal(second.as_raw_value())
    );
    // The drain cause stays the first one.
    assert_eq!(
        child.drain_cause().unwrap().kind(),
        &CauseKind::Signal(first.as_raw_value())
    );
    let err = super::drain_on([], &token).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("drain_on"), "{err}");
    drop(guard);
}
