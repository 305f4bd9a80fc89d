//! The cancel-latency, TCP echo and timer rows of `compare` (the workloads
//! are in `cancel_lat.rs`, `echo.rs` and `timers.rs`).
//!
//! Sample counts scale with `--samples` (default 2 000; `--quick`: 20):
//! a count given here as "full" is `full × samples / 2000`, at least 10.

use std::time::Duration;

use super::cancel_lat as cl;
use super::echo::{self, EchoRig};
use super::harness::{alternate, dispose, p50_p99, time_batch, Contender, Outcome, Settings};
use super::notes;
use super::rt::{Quell, Tokio};
use super::scenarios::{self, Failed};
use super::table::{Budget, Row, Section};
use super::timers;

/// Cancel-latency samples per repetition (full).
pub const CANCEL_SAMPLES: usize = 1_000;
/// Echo round trips per RTT repetition (full).
pub const RTT_SAMPLES: usize = 1_000;
/// Timers per churn repetition (full).
pub const CHURN_TIMERS: usize = 1_000_000;
/// `sleep(1 ms)` samples per overshoot repetition (full).
pub const OVERSHOOT_SAMPLES: usize = 200;

/// `full × samples / 2000`, at least 10.
pub fn scaled(s: &Settings, full: usize) -> usize {
    (full * s.wake_samples / 2_000).max(10)
}

fn vs(name: &str, q: Outcome, t: Outcome, b: Budget) -> Row {
    Row::new(Section::VsTokio, name, q, t, b)
}

fn p50_p99_of(r: Result<Vec<Duration>, Failed>) -> Result<Vec<f64>, Failed> {
    Ok(p50_p99(&r?))
}

/// Splits `alternate`'s output into its contenders' metric lists.
fn split<const N: usize>(out: Vec<Vec<Outcome>>) -> [Vec<Outcome>; N] {
    out.try_into().expect("contender count")
}

/// Cancel latency of a task parked on a channel `recv`: quell
/// `JoinHandle::cancel` vs tokio `select!` + `CancellationToken`, and
/// quell's wake latency in the same alternation (for the "≤ 1.2× wake"
/// budget).
pub fn cancel_channel(s: &Settings) -> Vec<Row> {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let n = scaled(s, CANCEL_SAMPLES);
    let out = {
        let mut cs = [
            Contender::new("quell cancel", || p50_p99_of(cl::quell_channel(&quell, n))),
            Contender::new("tokio select+token", || {
                p50_p99_of(cl::tokio_channel(&tokio, n))
            }),
            Contender::new("quell wake", || {
                p50_p99_of(scenarios::wake_latency(&quell, n))
            }),
        ];
        alternate(s.wake_reps, &mut cs, 2)
    };
    let [q, t, w] = split(out);
    notes::self_budget("cancel p50 (channel recv)", &q[0], &w[0], 1.2);
    dispose(quell, &[q.clone(), w].concat());
    dispose(tokio, &t);
    let [q50, q99]: [Outcome; 2] = q.try_into().expect("two metrics");
    let [t50, t99]: [Outcome; 2] = t.try_into().expect("two metrics");
    vec![
        vs(
            "cancel p50 (channel recv; tokio: select!+token)",
            q50,
            t50,
            Budget::RatioAtLeast(2.0),
        ),
        vs(
            "cancel p99 (channel recv; tokio: select!+token)",
            q99,
            t99,
            Budget::None,
        ),
    ]
}

/// Cancel latency of a task parked in `TcpStream::read` on a silent
/// loopback peer: quell `JoinHandle::cancel` vs tokio `select!` + token and
/// tokio `abort()`, and quell's wake latency in the same alternation.
pub fn cancel_read(s: &Settings) -> Vec<Row> {
    let names = [
        "cancel p50 (read-parked; tokio: select!+token)",
        "cancel p99 (read-parked; tokio: select!+token)",
        "cancel p50 (read-parked; tokio: abort, until JoinHandle resolves)",
        "cancel p99 (read-parked; tokio: abort, until JoinHandle resolves)",
    ];
    let budgets = [
        Budget::RatioAtLeast(2.0),
        Budget::None,
        Budget::None,
        Budget::None,
    ];
    let pairs = cl::silent_pair().and_then(|q| Ok((q, cl::silent_pair()?)));
    let ((qc, _qpeer), (tc, _tpeer)) = match pairs {
        Ok(p) => p,
        Err(e) => {
            return names
                .iter()
                .zip(budgets)
                .map(|(n, b)| vs(n, Err(e.clone()), Err(e.clone()), b))
                .collect()
        }
    };
    let quell = Quell::new();
    let tokio = Tokio::new();
    let n = scaled(s, CANCEL_SAMPLES);
    let out = {
        let mut cs = [
            Contender::new("quell cancel", || {
                p50_p99_of(cl::quell_read(&quell, &qc, n))
            }),
            Contender::new("tokio select+token", || {
                p50_p99_of(cl::tokio_read_select(&tokio, &tc, n))
            }),
            Contender::new("tokio abort", || {
                p50_p99_of(cl::tokio_read_abort(&tokio, &tc, n))
            }),
            Contender::new("quell wake", || {
                p50_p99_of(scenarios::wake_latency(&quell, n))
            }),
        ];
        alternate(s.wake_reps, &mut cs, 2)
    };
    let [q, t, a, w] = split(out);
    notes::self_budget("cancel p50 (read-parked)", &q[0], &w[0], 1.2);
    dispose(quell, &[q.clone(), w].concat());
    dispose(tokio, &[t.clone(), a.clone()].concat());
    let others = [&t[0], &t[1], &a[0], &a[1]];
    let mine = [&q[0], &q[1], &q[0], &q[1]];
    names
        .iter()
        .zip(budgets)
        .zip(mine.iter().zip(others))
        .map(|((n, b), (q, o))| vs(n, (*q).clone(), o.clone(), b))
        .collect()
}

/// The echo rows' budget: DESIGN.md asks for tokio's throughput; the
/// scheduler issue (echo 50-connection throughput and 1-connection RTT)
/// for 5 % more.
const ECHO_BUDGET: Budget = Budget::RatioAtLeast(1.05);

/// Builds an echo rig on each runtime, or fails both sides.
fn rigs(quell: &Quell, tokio: &Tokio, conns: usize) -> Result<(EchoRig, EchoRig), Failed> {
    let q = EchoRig::new(quell, conns)?;
    let t = EchoRig::new(tokio, conns)?;
    // One short untimed run each: connections warm, tasks polled once.
    q.run(10, false)?;
    t.run(10, false)?;
    Ok((q, t))
}

/// Round-trip time of 64 B messages over 1 loopback connection (client
/// and server tasks on the same runtime).
pub fn echo_rtt(s: &Settings) -> Vec<Row> {
    let name50 = "echo RTT p50 (1 conn, 64 B, client+server tasks)";
    let name99 = "echo RTT p99 (1 conn, 64 B, client+server tasks)";
    let quell = Quell::new();
    let tokio = Tokio::new();
    let (qr, tr) = match rigs(&quell, &tokio, 1) {
        Ok(r) => r,
        Err(e) => {
            std::mem::forget(quell);
            std::mem::forget(tokio);
            return vec![
                vs(name50, Err(e.clone()), Err(e.clone()), ECHO_BUDGET),
                vs(name99, Err(e.clone()), Err(e), Budget::None),
            ];
        }
    };
    let n = scaled(s, RTT_SAMPLES);
    let out = {
        let mut cs = [
            Contender::new("quell", || p50_p99_of(qr.run(n, true))),
            Contender::new("tokio", || p50_p99_of(tr.run(n, true))),
        ];
        alternate(s.reps, &mut cs, 2)
    };
    drop((qr, tr));
    let [q, t] = split(out);
    dispose(quell, &q);
    dispose(tokio, &t);
    let [q50, q99]: [Outcome; 2] = q.try_into().expect("two metrics");
    let [t50, t99]: [Outcome; 2] = t.try_into().expect("two metrics");
    vec![
        vs(name50, q50, t50, ECHO_BUDGET),
        vs(name99, q99, t99, Budget::None),
    ]
}

/// [`echo::CONNS`] connections, each making [`echo::REQS_PER_CONN`]
/// round trips per run, all at once; the time of a run.
pub fn echo_throughput(s: &Settings) -> Vec<Row> {
    let name = format!(
        "echo throughput ({} conns × {} req, 64 B; time per run)",
        echo::CONNS,
        echo::REQS_PER_CONN
    );
    let quell = Quell::new();
    let tokio = Tokio::new();
    let (qr, tr) = match rigs(&quell, &tokio, echo::CONNS) {
        Ok(r) => r,
        Err(e) => {
            std::mem::forget(quell);
            std::mem::forget(tokio);
            return vec![vs(&name, Err(e.clone()), Err(e), ECHO_BUDGET)];
        }
    };
    let per_run = echo::REQS_PER_CONN;
    let mut out = {
        let mut cs = [
            Contender::new("quell", || {
                time_batch(s, || qr.run(per_run, false).map(drop))
            }),
            Contender::new("tokio", || {
                time_batch(s, || tr.run(per_run, false).map(drop))
            }),
        ];
        alternate(s.reps, &mut cs, 1)
    };
    drop((qr, tr));
    let t = out[1].remove(0);
    let q = out[0].remove(0);
    notes::rate(
        "echo throughput (50 conns, 64 B)",
        "req",
        (echo::CONNS * echo::REQS_PER_CONN) as f64,
        &q,
        &t,
    );
    dispose(quell, std::slice::from_ref(&q));
    dispose(tokio, std::slice::from_ref(&t));
    vec![vs(&name, q, t, ECHO_BUDGET)]
}

/// Insert + cancel of [`CHURN_TIMERS`] `sleep(10 s)` timers.
pub fn timer_churn(s: &Settings) -> Vec<Row> {
    let n = scaled(s, CHURN_TIMERS);
    let quell = Quell::new();
    let tokio = Tokio::new();
    let mut out = {
        let mut cs = [
            Contender::new("quell", || Ok(vec![timers::churn(&quell, n)?])),
            Contender::new("tokio", || Ok(vec![timers::churn(&tokio, n)?])),
        ];
        alternate(s.wake_reps, &mut cs, 1)
    };
    let t = out[1].remove(0);
    let q = out[0].remove(0);
    notes::rate("timer insert+cancel", "timers", n as f64, &q, &t);
    dispose(quell, std::slice::from_ref(&q));
    dispose(tokio, std::slice::from_ref(&t));
    let name = format!(
        "timer insert+cancel ({} sleeps, poll once, drop; time)",
        if n == CHURN_TIMERS {
            "1M".to_string()
        } else {
            n.to_string()
        }
    );
    vec![vs(&name, q, t, Budget::RatioAtLeast(1.0))]
}

/// Overshoot of `sleep(1 ms)` (actual − requested).
pub fn sleep_overshoot(s: &Settings) -> Vec<Row> {
    let n = scaled(s, OVERSHOOT_SAMPLES);
    let quell = Quell::new();
    let tokio = Tokio::new();
    let out = {
        let mut cs = [
            Contender::new("quell", || p50_p99_of(timers::overshoot(&quell, n))),
            Contender::new("tokio", || p50_p99_of(timers::overshoot(&tokio, n))),
        ];
        alternate(s.wake_reps, &mut cs, 2)
    };
    let [q, t] = split(out);
    dispose(quell, &q);
    dispose(tokio, &t);
    let [q50, q99]: [Outcome; 2] = q.try_into().expect("two metrics");
    let [t50, t99]: [Outcome; 2] = t.try_into().expect("two metrics");
    vec![
        vs("sleep(1 ms) overshoot p50", q50, t50, Budget::None),
        vs("sleep(1 ms) overshoot p99", q99, t99, Budget::None),
    ]
}
