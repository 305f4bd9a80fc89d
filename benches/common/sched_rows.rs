//! The scheduler rows of `compare`: task-to-task wake, busy waker per
//! wake, abort → join, CPU use (workloads in `lifo.rs`).

use std::time::Duration;

use hdrhistogram::Histogram;

use super::harness::{alternate, dispose, Contender, Outcome, Settings};
use super::lifo::{self, Load};
use super::notes;
use super::rows::scaled;
use super::rt::{Quell, Tokio};
use super::scenarios::{self, Failed, BUSY};
use super::table::{Budget, Row, Section};

/// Samples per repetition of the rows below (full; scaled by `--samples`).
pub const SAMPLES: usize = 1_000;
/// Wall window of one CPU-use repetition.
pub const CPU_WINDOW: Duration = Duration::from_millis(250);

/// The given quantiles (ns) of a set of latencies.
fn quantiles(lat: &[Duration], q: &[f64]) -> Vec<f64> {
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    for d in lat {
        h.record(d.as_nanos().max(1) as u64).expect("record");
    }
    q.iter().map(|&q| h.value_at_quantile(q) as f64).collect()
}

fn of(r: Result<Vec<Duration>, Failed>, q: &[f64]) -> Result<Vec<f64>, Failed> {
    Ok(quantiles(&r?, q))
}

fn vs(name: &str, q: Outcome, t: Outcome, b: Budget) -> Row {
    Row::new(Section::VsTokio, name, q, t, b)
}

/// Two rows, quell vs tokio, from one alternation: quantiles p50 and p99
/// of the latencies `q` and `t` measure, named and budgeted by `rows`.
fn p50_p99_rows(
    s: &Settings,
    q: impl Fn(&Quell, usize) -> Result<Vec<Duration>, Failed>,
    t: impl Fn(&Tokio, usize) -> Result<Vec<Duration>, Failed>,
    rows: [(&str, Budget); 2],
) -> Vec<Row> {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let n = scaled(s, SAMPLES);
    let qs = [0.5, 0.99];
    let out = {
        let mut cs = [
            Contender::new("quell", || of(q(&quell, n), &qs)),
            Contender::new("tokio", || of(t(&tokio, n), &qs)),
        ];
        alternate(s.wake_reps, &mut cs, 2)
    };
    let [qo, to]: [Vec<Outcome>; 2] = out.try_into().expect("two contenders");
    dispose(quell, &qo);
    dispose(tokio, &to);
    let mut qo = qo.into_iter();
    let mut to = to.into_iter();
    rows.into_iter()
        .map(|(name, b)| vs(name, qo.next().unwrap(), to.next().unwrap(), b))
        .collect()
}

/// Task A wakes task B (B parked on a probe), then parks; B runs next on
/// A's worker. p50 and p99, head to head.
pub fn task_to_task(s: &Settings) -> Vec<Row> {
    p50_p99_rows(
        s,
        |rt, n| lifo::wake_then(rt, n, Duration::ZERO),
        |rt, n| lifo::wake_then(rt, n, Duration::ZERO),
        [
            (
                "task-to-task wake p50 (A wakes B, then parks; B on A's worker)",
                Budget::RatioAtLeast(1.0),
            ),
            ("task-to-task wake p99", Budget::RatioAtLeast(1.0)),
        ],
    )
}

/// Task A wakes task B, then spins [`BUSY`]; how long B waits, per wake
/// (p50/p90/p99), head to head, and against quell's own external wake
/// measured in the same alternation.
pub fn busy_waker_per_wake(s: &Settings) -> Vec<Row> {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let n = scaled(s, SAMPLES);
    let q = [0.5, 0.9, 0.99];
    let out = {
        let mut cs = [
            Contender::new("quell", || of(lifo::wake_then(&quell, n, BUSY), &q)),
            Contender::new("tokio", || of(lifo::wake_then(&tokio, n, BUSY), &q)),
            // Same quantiles (`alternate` wants one metric count); p50 is used.
            Contender::new("quell wake", || of(scenarios::wake_latency(&quell, n), &q)),
        ];
        alternate(s.wake_reps, &mut cs, 3)
    };
    let [qo, to, wo]: [Vec<Outcome>; 3] = out.try_into().expect("three contenders");
    notes::self_budget("busy waker per-wake p50", &qo[0], &wo[0], 2.0);
    notes::self_budget("busy waker per-wake p90", &qo[1], &wo[0], 4.0);
    // Context, not a DESIGN budget: the same percentile of the external
    // wake (on a loaded machine both tails are the woken worker waiting
    // for a CPU).
    notes::self_budget(
        "busy waker per-wake p90 vs quell wake p90 (context)",
        &qo[1],
        &wo[1],
        2.0,
    );
    dispose(quell, &[qo.clone(), wo].concat());
    dispose(tokio, &to);
    let names = [
        "busy waker: B's wait p50 (A wakes B, then spins 100 µs)",
        "busy waker: B's wait p90",
        "busy waker: B's wait p99",
    ];
    names
        .iter()
        .zip(qo.into_iter().zip(to))
        .map(|(n, (q, t))| vs(n, q, t, Budget::None))
        .collect()
}

/// A plain thread aborts a parked task; until the task awaiting its
/// `JoinHandle` sees the aborted join. p50/p99 head to head.
pub fn abort_join(s: &Settings) -> Vec<Row> {
    p50_p99_rows(
        s,
        lifo::quell_abort_join,
        lifo::tokio_abort_join,
        [
            (
                "abort → join observed p50 (plain thread aborts; awaiting task sees it)",
                Budget::RatioAtLeast(2.0),
            ),
            ("abort → join observed p99", Budget::None),
        ],
    )
}

/// CPU-seconds per wall-second of the process: an idle runtime, and one
/// with one busy worker and one idle worker (quell vs tokio; printed in
/// the CPU table of `notes`, not as rows: the value is not a time).
pub fn cpu_use(s: &Settings) -> Vec<Row> {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let window = if s.wake_samples < 100 {
        Duration::from_millis(20)
    } else {
        CPU_WINDOW
    };
    let reps = s.wake_reps.min(3);
    for (load, name, max) in [
        (Load::Idle, "idle runtime", 0.01),
        (Load::OneBusy, "one busy worker, one idle", 1.05),
    ] {
        let out = {
            // Values are CPU-s/s × 1e9 (the harness keeps f64 "ns").
            let mut cs = [
                Contender::new("quell", || {
                    Ok(vec![lifo::cpu_use(&quell, load, window)? * 1e9])
                }),
                Contender::new("tokio", || {
                    Ok(vec![lifo::cpu_use(&tokio, load, window)? * 1e9])
                }),
            ];
            alternate(reps, &mut cs, 1)
        };
        let [q, t]: [Vec<Outcome>; 2] = out.try_into().expect("two contenders");
        notes::cpu(name, &q[0], &t[0], max);
    }
    Vec::new()
}
