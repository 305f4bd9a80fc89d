//! Cancel latency: how long from "a plain thread cancels a parked task" to
//! "that task observes the cancellation".
//!
//! One sample = one fresh task (a cancelled task stays cancelled):
//!
//! 1. the bench thread spawns the task; the task's wait (a channel `recv`,
//!    or a `read` on a silent loopback peer) is wrapped in [`armed`], which
//!    reports on a std channel once the wait has returned `Pending` (so its
//!    waker is registered);
//! 2. the bench thread waits for that report, sleeps 200–500 µs (as the
//!    wake probe does: both workers run out of work and park), takes `t0`
//!    and fires the cancellation;
//! 3. the task takes `t1` as soon as the wait returns and checks that it
//!    returned the cancellation (quell: `Err(Cancelled)`; tokio: the
//!    `token.cancelled()` branch of `select!`; tokio abort: a watcher task
//!    parked on the `JoinHandle` takes `t1` when it resolves with
//!    `is_cancelled()`), then sends `t1` back. The sample is `t1 − t0`.
//!
//! Contenders:
//!
//! * quell: `JoinHandle::cancel(Cause::explicit(..))` (the cause is built
//!   before `t0`);
//! * tokio: `tokio::select! { _ = token.cancelled() => .., r = wait => .. }`
//!   with a `tokio_util::sync::CancellationToken`, `token.cancel()`;
//! * tokio abort (read only): `AbortHandle::abort()`, until the
//!   `JoinHandle` resolves (two hops: the aborted task is dropped, then the
//!   watcher is woken).
//!
//! Read-parked samples reuse one loopback connection per runtime: each
//! task wraps a `dup` (`try_clone`) of the std socket with `from_std` and
//! drops it when done; the peer never writes.

use std::future::{poll_fn, Future};
use std::io;
use std::net::{TcpListener, TcpStream};
use std::pin::pin;
use std::sync::mpsc;
use std::task::Poll;
use std::time::{Duration, Instant};

use quell::cancel::{Cancelled, Cause};
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

use super::probe;
use super::rt::{Quell, Tokio};
use super::scenarios::{Failed, TIMEOUT};

/// Runs `f`; after its first `Pending` (the wait is registered), sends
/// `()` on `armed`, once.
pub async fn armed<F: Future>(f: F, armed: mpsc::Sender<()>) -> F::Output {
    let mut f = pin!(f);
    let mut armed = Some(armed);
    poll_fn(move |cx| {
        let r = f.as_mut().poll(cx);
        if r.is_pending() {
            if let Some(a) = armed.take() {
                let _ = a.send(());
            }
        }
        r
    })
    .await
}

/// What a task reports: when it observed the cancellation, or what went
/// wrong instead.
pub type Done = Result<Instant, String>;

/// The sample loop (see the module docs). `start` spawns the task(s) of
/// one sample and returns a handle plus how many `armed` reports to wait
/// for; `fire` cancels through that handle (it is dropped after the
/// sample).
pub fn samples<H>(
    what: &str,
    n: usize,
    mut start: impl FnMut(mpsc::Sender<()>, mpsc::Sender<Done>) -> Result<(H, usize), Failed>,
    mut fire: impl FnMut(&mut H),
) -> Result<Vec<Duration>, Failed> {
    let mut lat = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let (armed_tx, armed_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        let (mut h, arms) = start(armed_tx, done_tx)?;
        for _ in 0..arms {
            armed_rx.recv_timeout(TIMEOUT).map_err(|e| {
                Failed(format!(
                    "{what}: task did not park for sample {i} within {TIMEOUT:?} ({e})"
                ))
            })?;
        }
        std::thread::sleep(probe::pause(i));
        let t0 = Instant::now();
        fire(&mut h);
        let t1 = done_rx
            .recv_timeout(TIMEOUT)
            .map_err(|e| {
                Failed(format!(
                    "{what}: cancellation of sample {i} not observed within {TIMEOUT:?} ({e})"
                ))
            })?
            .map_err(|e| Failed(format!("{what}: sample {i}: {e}")))?;
        lat.push(t1.saturating_duration_since(t0));
        drop(h);
    }
    Ok(lat)
}

fn bench_cause() -> Cause {
    Cause::explicit("bench")
}

/// quell: a task parked on `mpsc::Receiver::recv`, `JoinHandle::cancel`.
pub fn quell_channel(rt: &Quell, n: usize) -> Result<Vec<Duration>, Failed> {
    type H = (
        quell::JoinHandle<()>,
        quell::sync::mpsc::Sender<()>,
        Option<Cause>,
    );
    samples(
        "cancel_channel quell",
        n,
        |armed_tx, done| {
            let (tx, mut rx) = quell::sync::mpsc::channel::<()>(1);
            let h = rt.0.spawn(async move {
                let r = armed(rx.recv(), armed_tx).await;
                let t1 = Instant::now();
                let _ = done.send(match r {
                    Err(e) if e.cancelled().is_some() => Ok(t1),
                    other => Err(format!("recv returned {other:?}, not Cancelled")),
                });
            });
            Ok(((h, tx, Some(bench_cause())), 1))
        },
        |h: &mut H| {
            h.0.cancel(h.2.take().expect("fired once"));
        },
    )
}

/// tokio: `select!` on `token.cancelled()` and a `tokio::sync::mpsc`
/// `recv`, `token.cancel()`.
pub fn tokio_channel(rt: &Tokio, n: usize) -> Result<Vec<Duration>, Failed> {
    type H = (CancellationToken, tokio::sync::mpsc::Sender<()>);
    samples(
        "cancel_channel tokio",
        n,
        |armed_tx, done| {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
            let token = CancellationToken::new();
            let t = token.clone();
            drop(rt.0.spawn(async move {
                let r = armed(
                    async {
                        tokio::select! {
                            _ = t.cancelled() => Ok(Instant::now()),
                            r = rx.recv() => Err(format!("recv returned {r:?}, not cancelled")),
                        }
                    },
                    armed_tx,
                )
                .await;
                let _ = done.send(r);
            }));
            Ok(((token, tx), 1))
        },
        |h: &mut H| h.0.cancel(),
    )
}

/// A connected loopback pair: (the side tasks read from, the silent peer).
/// The read side is nonblocking (its `dup`s share that flag).
pub fn silent_pair() -> Result<(TcpStream, TcpStream), Failed> {
    let f = |e: io::Error| Failed(format!("loopback pair: {e}"));
    let l = TcpListener::bind("127.0.0.1:0").map_err(f)?;
    let peer = TcpStream::connect(l.local_addr().map_err(f)?).map_err(f)?;
    let (conn, _) = l.accept().map_err(f)?;
    conn.set_nonblocking(true).map_err(f)?;
    Ok((conn, peer))
}

fn dup(s: &TcpStream) -> Result<TcpStream, Failed> {
    s.try_clone()
        .map_err(|e| Failed(format!("dup of the loopback socket: {e}")))
}

/// quell: a task parked in `TcpStream::read` on a silent peer,
/// `JoinHandle::cancel`.
pub fn quell_read(rt: &Quell, conn: &TcpStream, n: usize) -> Result<Vec<Duration>, Failed> {
    type H = (quell::JoinHandle<()>, Option<Cause>);
    samples(
        "cancel_read quell",
        n,
        |armed_tx, done| {
            let s = dup(conn)?;
            let h = rt.0.spawn(async move {
                let mut conn = match quell::net::TcpStream::from_std(s) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = done.send(Err(format!("from_std: {e}")));
                        return;
                    }
                };
                let mut buf = [0u8; 64];
                let r = armed(conn.read(&mut buf), armed_tx).await;
                let t1 = Instant::now();
                let _ = done.send(match r {
                    Err(e) if Cancelled::from_io(&e).is_some() => Ok(t1),
                    other => Err(format!("read returned {other:?}, not Cancelled")),
                });
            });
            Ok(((h, Some(bench_cause())), 1))
        },
        |h: &mut H| {
            h.0.cancel(h.1.take().expect("fired once"));
        },
    )
}

/// tokio: `select!` on `token.cancelled()` and `TcpStream::read` on a
/// silent peer, `token.cancel()`.
pub fn tokio_read_select(rt: &Tokio, conn: &TcpStream, n: usize) -> Result<Vec<Duration>, Failed> {
    samples(
        "cancel_read tokio select",
        n,
        |armed_tx, done| {
            let s = dup(conn)?;
            let token = CancellationToken::new();
            let t = token.clone();
            drop(rt.0.spawn(async move {
                let mut conn = match tokio::net::TcpStream::from_std(s) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = done.send(Err(format!("from_std: {e}")));
                        return;
                    }
                };
                let mut buf = [0u8; 64];
                let r = armed(
                    async {
                        tokio::select! {
                            _ = t.cancelled() => Ok(Instant::now()),
                            r = conn.read(&mut buf) => Err(format!("read returned {r:?}, not cancelled")),
                        }
                    },
                    armed_tx,
                )
                .await;
                let _ = done.send(r);
            }));
            Ok((token, 1))
        },
        |t: &mut CancellationToken| t.cancel(),
    )
}

/// tokio: a task parked in `TcpStream::read` on a silent peer,
/// `AbortHandle::abort()`; a watcher task parked on its `JoinHandle` takes
/// `t1` when it resolves.
pub fn tokio_read_abort(rt: &Tokio, conn: &TcpStream, n: usize) -> Result<Vec<Duration>, Failed> {
    samples(
        "cancel_read tokio abort",
        n,
        |armed_tx, done| {
            let s = dup(conn)?;
            let reader_armed = armed_tx.clone();
            let reader_done = done.clone();
            let reader = rt.0.spawn(async move {
                let mut conn = match tokio::net::TcpStream::from_std(s) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = reader_done.send(Err(format!("from_std: {e}")));
                        return;
                    }
                };
                let mut buf = [0u8; 64];
                let r = armed(conn.read(&mut buf), reader_armed).await;
                let _ = reader_done.send(Err(format!("read returned {r:?} before the abort")));
            });
            let abort = reader.abort_handle();
            drop(rt.0.spawn(async move {
                let r = armed(reader, armed_tx).await;
                let t1 = Instant::now();
                let _ = done.send(match r {
                    Err(e) if e.is_cancelled() => Ok(t1),
                    other => Err(format!("JoinHandle resolved with {other:?}, not cancelled")),
                });
            }));
            Ok((abort, 2))
        },
        |a: &mut tokio::task::AbortHandle| a.abort(),
    )
}
