//! Signals received in-process on the real runtime: `signal` streams woken
//! by `raise`, a parked `recv` cancelled through its `JoinHandle`, several
//! runtimes listening at once, and `cancel_on` waking a parked task.
//!
//! Each test listens for its own signal: the tests of this file share one
//! process (and so one set of signal dispositions) and run in parallel.
//! `raise` is synchronous: when it returns, the handler has written every
//! listener's pipe, so no test waits for anything but the runtime.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};

use quell::cancel::{CancelToken, CancellableExt, Cancelled, Cause, CauseKind};
use quell::signal::{self, CancelOnSignal, Signal, SignalKind};
use quell::task::SpawnBuilder;
use support::{recv, rt, watchdog};

fn raise(kind: SignalKind) {
    // SAFETY: raise(3) has no memory-safety preconditions; every caller has
    // a listener registered first, so the signal does not kill the process.
    let rc = unsafe { libc::raise(kind.as_raw_value()) };
    assert_eq!(rc, 0, "raise failed");
}

/// Polls `F` and reports on `tx` the first time it returns `Pending`: the
/// test then knows the task is parked inside it.
struct ReportPending<F> {
    inner: Pin<Box<F>>,
    tx: Option<mpsc::Sender<()>>,
}

impl<F: Future> Future for ReportPending<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let r = self.inner.as_mut().poll(cx);
        if r.is_pending() {
            if let Some(tx) = self.tx.take() {
                let _ = tx.send(());
            }
        }
        r
    }
}

fn report_pending<F: Future>(f: F, tx: mpsc::Sender<()>) -> ReportPending<F> {
    ReportPending {
        inner: Box::pin(f),
        tx: Some(tx),
    }
}

#[test]
fn send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Signal>();
    assert_send_sync::<SignalKind>();
    fn assert_send<T: Send>() {}
    assert_send::<CancelOnSignal>();
}

#[test]
fn usr1_is_received() {
    let _w = watchdog("usr1_is_received");
    let rt = rt(2);
    rt.block_on(async {
        let mut usr1 = signal::signal(SignalKind::user_defined1()).unwrap();
        raise(SignalKind::user_defined1());
        usr1.recv().await.unwrap();

        // From a spawned task, parked before the delivery.
        let (tx, rx) = mpsc::channel();
        let h = quell::spawn(async move { report_pending(usr1.recv(), tx).await });
        quell::task::spawn_blocking(move || recv(&rx))
            .await
            .unwrap();
        raise(SignalKind::user_defined1());
        h.await.unwrap().unwrap();
    });
}

#[test]
fn parked_recv_is_cancelled_by_join_handle() {
    let _w = watchdog("parked_recv_is_cancelled_by_join_handle");
    let kind = SignalKind::user_defined2();
    let rt = rt(2);
    let sources = rt.handle().io().num_sources();
    let (tx, rx) = mpsc::channel();
    let h = rt.spawn(async move {
        let mut sig = signal::signal(kind).unwrap();
        let r = report_pending(sig.recv(), tx).await;
        (r, sig)
    });
    recv(&rx); // parked in recv
    assert!(h.cancel(Cause::explicit("operator said stop")));
    let (r, mut sig) = rt.block_on(h).unwrap();

    let err = r.expect_err("a cancelled recv returns the cancelled error");
    let c = Cancelled::from_io(&err).expect("the io::Error carries Cancelled");
    assert_eq!(c.cause().kind(), &CauseKind::Explicit);
    assert_eq!(c.cause().message(), Some("operator said stop"));

    // The listener survived its cancelled wait and still receives.
    rt.block_on(async {
        raise(kind);
        sig.recv().await.unwrap();
    });
    drop(sig);
    assert_eq!(rt.handle().io().num_sources(), sources);
}

#[test]
fn cancelled_task_gets_the_error_at_once() {
    let _w = watchdog("cancelled_task_gets_the_error_at_once");
    let kind = SignalKind::hangup();
    let rt = rt(1);
    let token = CancelToken::new();
    token.cancel(Cause::shutdown());
    let h = SpawnBuilder::new().token(token).spawn_on(
        async move {
            let mut sig = signal::signal(kind)?;
            sig.recv().await
        },
        rt.handle(),
    );
    let err = rt.block_on(h).unwrap().unwrap_err();
    let c = Cancelled::from_io(&err).unwrap();
    assert_eq!(c.cause().kind(), &CauseKind::Shutdown);
}

#[test]
fn every_runtime_sees_the_delivery() {
    let _w = watchdog("every_runtime_sees_the_delivery");
    let kind = SignalKind::window_change();
    let (a, b) = (rt(1), rt(1));
    let mut sig_a = a.block_on(async { signal::signal(kind) }).unwrap();
    let mut sig_b = b.block_on(async { signal::signal(kind) }).unwrap();
    raise(kind);
    a.block_on(sig_a.recv()).unwrap();
    b.block_on(sig_b.recv()).unwrap();
}

#[test]
fn cancel_on_wakes_a_parked_task() {
    let _w = watchdog("cancel_on_wakes_a_parked_task");
    let kind = SignalKind::from_raw(libc::SIGRTMIN());
    let rt = rt(2);
    let token = CancelToken::new();
    let _guard = signal::cancel_on([SignalKind::terminate(), kind], &token).unwrap();
    let (tx, rx) = mpsc::channel();
    let h = SpawnBuilder::new().token(token.child()).spawn_on(
        report_pending(std::future::pending::<()>().cancellable(), tx),
        rt.handle(),
    );
    recv(&rx);
    raise(kind);
    let c = rt.block_on(h).unwrap().unwrap_err();
    assert_eq!(c.cause().kind(), &CauseKind::Signal(kind.as_raw_value()));
    assert!(c.is_inherited());
    assert!(c.cause().same(&token.cause().unwrap()));
}

#[test]
fn outside_a_runtime_is_an_error() {
    let err = signal::signal(SignalKind::quit()).unwrap_err();
    assert!(!Cancelled::is_cancelled_io(&err));
    let err = signal::signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
