//! Helpers shared by the `sync_*` integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc as std_mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use quell::sync::oneshot;

/// Iterations of the race tests: 10 000 in release, fewer in debug builds.
pub fn iterations() -> usize {
    if cfg!(debug_assertions) {
        1_000
    } else {
        10_000
    }
}

/// Busy-waits a few microseconds, varying with `i`, to spread where a
/// cancel lands relative to a racing operation (race coverage only; no test
/// relies on it for correctness).
pub fn jitter(i: usize) {
    for _ in 0..(i % 64) * 64 {
        std::hint::spin_loop();
    }
}

/// Runs `f` on its own thread; fails the test if it takes a minute (a hang).
pub fn with_timeout<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std_mpsc::channel();
    let h = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(v) => v,
        Err(std_mpsc::RecvTimeoutError::Timeout) => panic!("test hung for 60 s"),
        Err(std_mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(h.join().unwrap_err())
        }
    }
}

/// Polls `fut`, and sends on `parked` the first time it returns `Pending`
/// (so the test knows the wait registered its waker before it cancels).
pub struct SignalParked<F> {
    fut: Pin<Box<F>>,
    parked: Option<oneshot::Sender<()>>,
}

pub fn signal_parked<F: Future>(fut: F, parked: oneshot::Sender<()>) -> SignalParked<F> {
    SignalParked {
        fut: Box::pin(fut),
        parked: Some(parked),
    }
}

impl<F: Future> Future for SignalParked<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let r = self.fut.as_mut().poll(cx);
        if r.is_pending() {
            if let Some(p) = self.parked.take() {
                let _ = p.send(());
            }
        }
        r
    }
}
