//! `Interval` and signal listeners as `futures_core::Stream`: ticks and
//! deliveries are items; a cancel is yielded once, then the stream ends
//! (no spinning on a sticky error), and a shielded poll goes on.

mod support;

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::mpsc;
use std::time::Duration;

use futures_core::Stream;
use quell::cancel::{shield, Cause, CauseKind};
use quell::signal::{signal, SignalKind};
use quell::time;
use support::*;

async fn next<S: Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
}

#[test]
fn an_interval_stream_ticks_then_yields_the_cancel_once_and_ends() {
    let _dog = watchdog("interval stream");
    let rt = rt(2);
    let (ticked_tx, ticked_rx) = mpsc::channel();
    let h = rt.spawn(async move {
        let mut ticks = time::interval(Duration::from_millis(1));
        let mut n = 0;
        let mut errors = Vec::new();
        while let Some(t) = next(&mut ticks).await {
            match t {
                Ok(_) => {
                    n += 1;
                    if n == 3 {
                        ticked_tx.send(()).unwrap();
                    }
                }
                Err(c) => errors.push(c),
            }
        }
        // Ended while cancelled; in a shield it ticks again.
        let shielded = shield(next(&mut ticks)).await;
        (n, errors, shielded.map(|r| r.is_ok()))
    });
    recv(&ticked_rx);
    h.cancel(Cause::explicit("stop ticking"));
    let (n, errors, shielded) = rt.block_on(h).unwrap();
    assert!(n >= 3);
    assert_eq!(errors.len(), 1, "the cancel is yielded once");
    assert_eq!(errors[0].cause().message(), Some("stop ticking"));
    assert_eq!(shielded, Some(true));
}

#[test]
fn a_signal_stream_yields_deliveries_and_ends_on_cancel() {
    let _dog = watchdog("signal stream");
    let rt = rt(2);
    let kind = SignalKind::from_raw(libc::SIGRTMIN() + 9);
    let (ready_tx, ready_rx) = mpsc::channel();
    let (got_tx, got_rx) = mpsc::channel();
    let h = rt.spawn(async move {
        let mut sig = signal(kind).unwrap();
        ready_tx.send(()).unwrap();
        let mut items = Vec::new();
        while let Some(r) = next(&mut sig).await {
            if r.is_ok() {
                got_tx.send(()).unwrap();
            }
            items.push(r.map_err(|e| {
                quell::cancel::Cancelled::from_io(&e).map(|c| c.cause().kind().clone())
            }));
        }
        items
    });
    recv(&ready_rx);
    // SAFETY: raise(3) has no preconditions; the signal is handled now.
    unsafe { libc::raise(kind.as_raw_value()) };
    recv(&got_rx);
    h.cancel(Cause::shutdown());
    let items = rt.block_on(h).unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items[0].is_ok());
    assert_eq!(items[1], Err(Some(CauseKind::Shutdown)));
}
