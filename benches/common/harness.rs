//! The `compare` method: every contender of a scenario is measured in the
//! same process, in alternating repetitions (the starting contender rotates
//! each repetition), and each metric is the median over repetitions.
//!
//! A repetition of a throughput workload = a short untimed warm-up, then
//! as many timed runs as fit in `batch` (at least 3); its value is the
//! median run time. A repetition of wake latency = `wake_samples` samples;
//! its values are their p50 and p99.

use std::mem;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::notes;
use super::rt::{Quell, Rt, Tokio};
use super::scenarios::{self, Failed};
use super::table::{Budget, Row, Section};

/// How much to measure.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Alternating repetitions per contender (throughput).
    pub reps: usize,
    /// Alternating repetitions per contender (wake latency).
    pub wake_reps: usize,
    /// Timed part of one throughput repetition.
    pub batch: Duration,
    /// Untimed warm-up before each throughput repetition.
    pub warmup: Duration,
    /// Wake-latency samples per repetition.
    pub wake_samples: usize,
}

impl Settings {
    /// `cargo bench --bench compare`: about 75 s on 2 cores. Many short
    /// repetitions rather than a few long ones: the load of a shared
    /// machine changes over seconds, and adjacent repetitions are paired.
    pub fn full() -> Settings {
        Settings {
            reps: 15,
            wake_reps: 5,
            batch: Duration::from_millis(200),
            warmup: Duration::from_millis(30),
            wake_samples: 2_000,
        }
    }

    /// A smoke run (`cargo test --benches`, or `--quick`): seconds.
    pub fn quick() -> Settings {
        Settings {
            reps: 1,
            wake_reps: 1,
            batch: Duration::from_millis(10),
            warmup: Duration::ZERO,
            wake_samples: 20,
        }
    }
}

/// The median of `v` (not empty).
pub fn median(v: &[f64]) -> f64 {
    assert!(!v.is_empty());
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One metric over the repetitions (in ns): the values in repetition
/// order (so two contenders' values can be paired), median and quartiles.
#[derive(Debug, Clone)]
pub struct Stats {
    pub values: Vec<f64>,
    pub median: f64,
    /// First and third quartile (nearest rank).
    pub q1: f64,
    pub q3: f64,
}

impl Stats {
    pub fn of(values: Vec<f64>) -> Stats {
        let mut v = values.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        Stats {
            median: median(&values),
            q1: v[n / 4],
            q3: v[(3 * n) / 4],
            values,
        }
    }

    /// Half the interquartile range, as a fraction of the median.
    pub fn spread(&self) -> f64 {
        (self.q3 - self.q1) / 2.0 / self.median
    }
}

pub type Outcome = Result<Stats, Failed>;

/// One contender: runs one repetition, returning one value per metric (ns).
pub struct Contender<'a> {
    pub label: &'static str,
    pub rep: Box<dyn FnMut() -> Result<Vec<f64>, Failed> + 'a>,
}

impl<'a> Contender<'a> {
    pub fn new(label: &'static str, rep: impl FnMut() -> Result<Vec<f64>, Failed> + 'a) -> Self {
        Contender {
            label,
            rep: Box::new(rep),
        }
    }
}

/// Runs `reps` alternating repetitions of every contender (the first one
/// to run rotates); returns `[contender][metric]`. A contender that fails
/// is not run again.
pub fn alternate(
    reps: usize,
    contenders: &mut [Contender<'_>],
    metrics: usize,
) -> Vec<Vec<Outcome>> {
    let n = contenders.len();
    let mut vals: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); metrics]; n];
    let mut failed: Vec<Option<Failed>> = vec![None; n];
    for rep in 0..reps {
        for k in 0..n {
            let i = (k + rep) % n;
            if failed[i].is_some() {
                continue;
            }
            match (contenders[i].rep)() {
                Ok(v) => {
                    assert_eq!(
                        v.len(),
                        metrics,
                        "{}: wrong metric count",
                        contenders[i].label
                    );
                    for (m, x) in v.into_iter().enumerate() {
                        vals[i][m].push(x);
                    }
                }
                Err(e) => {
                    eprintln!("  {} FAILED: {}", contenders[i].label, e.0);
                    failed[i] = Some(e);
                }
            }
        }
    }
    vals.into_iter()
        .zip(failed)
        .map(|(per_metric, f)| {
            per_metric
                .into_iter()
                .map(|v| match &f {
                    Some(e) => Err(e.clone()),
                    None => Ok(Stats::of(v)),
                })
                .collect()
        })
        .collect()
}

/// One throughput repetition: warm-up, then timed runs for `s.batch`
/// (at least 3); the median run time in ns.
pub fn time_batch(
    s: &Settings,
    mut once: impl FnMut() -> Result<(), Failed>,
) -> Result<Vec<f64>, Failed> {
    let start = Instant::now();
    once()?;
    while start.elapsed() < s.warmup {
        once()?;
    }
    let start = Instant::now();
    let mut runs = Vec::new();
    while runs.len() < 3 || start.elapsed() < s.batch {
        let t = Instant::now();
        once()?;
        runs.push(t.elapsed().as_nanos() as f64);
    }
    Ok(vec![median(&runs)])
}

/// p50 and p99 (ns) of a set of latencies.
pub fn p50_p99(lat: &[Duration]) -> Vec<f64> {
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    for d in lat {
        h.record(d.as_nanos().max(1) as u64).expect("record");
    }
    vec![
        h.value_at_quantile(0.50) as f64,
        h.value_at_quantile(0.99) as f64,
    ]
}

/// Drops a runtime, unless a workload failed on it: its tasks may hang,
/// and dropping would wait for them, so it is leaked instead.
pub fn dispose<T>(rt: T, outcomes: &[Outcome]) {
    if outcomes.iter().any(|o| o.is_err()) {
        mem::forget(rt);
    }
}

/// A throughput row, quell vs tokio: `run` is the workload, instantiated
/// for each runtime (e.g. `scenarios::spawn_many_local::<Quell>`).
pub fn time_vs_tokio(
    s: &Settings,
    name: &str,
    mut q: impl FnMut(&Quell) -> Result<(), Failed>,
    mut t: impl FnMut(&Tokio) -> Result<(), Failed>,
) -> Row {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let mut out = {
        let mut cs = [
            Contender::new("quell", || time_batch(s, || q(&quell))),
            Contender::new("tokio", || time_batch(s, || t(&tokio))),
        ];
        alternate(s.reps, &mut cs, 1)
    };
    let tt = out[1].remove(0);
    let tq = out[0].remove(0);
    let row = Row::new(Section::VsTokio, name, tq, tt, Budget::RatioAtLeast(1.0));
    dispose(quell, std::slice::from_ref(&row.quell));
    dispose(tokio, std::slice::from_ref(&row.other));
    row
}

/// A binding-cost row: the same workload on quell with the cancel binding
/// on and off (`cancel_binding(false)`).
pub fn time_binding(s: &Settings, name: &str, run: fn(&Quell) -> Result<(), Failed>) -> Row {
    let bound = Quell::with_binding(true);
    let unbound = Quell::with_binding(false);
    let mut out = {
        let mut cs = [
            Contender::new("quell bound", || time_batch(s, || run(&bound))),
            Contender::new("quell unbound", || time_batch(s, || run(&unbound))),
        ];
        alternate(s.reps, &mut cs, 1)
    };
    let u = out[1].remove(0);
    let b = out[0].remove(0);
    let row = Row::new(Section::Binding, name, b, u, Budget::OverheadAtMost(0.05));
    dispose(bound, std::slice::from_ref(&row.quell));
    dispose(unbound, std::slice::from_ref(&row.other));
    row
}

/// Wake latency, quell vs tokio: rows `wake p50` and `wake p99`.
pub fn wake_vs_tokio(s: &Settings) -> Vec<Row> {
    fn rep<R: Rt>(rt: &R, samples: usize) -> Result<Vec<f64>, Failed> {
        Ok(p50_p99(&scenarios::wake_latency(rt, samples)?))
    }
    let quell = Quell::new();
    let tokio = Tokio::new();
    let n = s.wake_samples;
    let out = {
        let mut cs = [
            Contender::new("quell", || rep(&quell, n)),
            Contender::new("tokio", || rep(&tokio, n)),
            Contender::new("futex floor", || Ok(p50_p99(&scenarios::futex_floor(n)?))),
        ];
        alternate(s.wake_reps, &mut cs, 2)
    };
    let [q, t, f]: [Vec<Outcome>; 3] = out.try_into().expect("three contenders");
    dispose(quell, &q);
    dispose(tokio, &t);
    notes::floor("wake p50", &q[0], &t[0], &f[0]);
    notes::floor("wake p99", &q[1], &t[1], &f[1]);
    let mut q = q.into_iter();
    let mut t = t.into_iter();
    vec![
        Row::new(
            Section::VsTokio,
            "wake p50 (parked worker)",
            q.next().unwrap(),
            t.next().unwrap(),
            Budget::RatioAtLeast(2.0),
        ),
        Row::new(
            Section::VsTokio,
            "wake p99 (parked worker)",
            q.next().unwrap(),
            t.next().unwrap(),
            Budget::RatioAtLeast(1.0),
        ),
    ]
}
