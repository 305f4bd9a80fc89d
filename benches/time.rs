//! Criterion: timers, quell vs tokio (2 workers).
//!
//! * `timer_churn`: a task creates `sleep(10 s)`, polls it once (the timer
//!   is inserted) and drops it (removed); one element = one timer, so
//!   criterion's throughput is timers per second (the task times itself;
//!   see `common/timers.rs`).
//! * `sleep_overshoot`: `sleep(1 ms)`, actual − requested; `iter_custom`
//!   returns the summed overshoot (the time shown is the mean); p50/p99 of
//!   every sample are printed after the group.
//!
//! The head-to-head summary is `cargo bench --bench compare`.

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;

use std::time::Duration;

use common::harness::p50_p99;
use common::table::fmt_ns;
use common::timers::{churn, overshoot, TimeRt};
use common::{or_exit, Quell, Tokio};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};

fn timer_churn(c: &mut Criterion) {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let mut g = c.benchmark_group("timer_churn");
    g.throughput(Throughput::Elements(1));
    g.bench_function("quell", |b| {
        b.iter_custom(|n| Duration::from_nanos(or_exit(churn(&quell, n as usize)) as u64))
    });
    g.bench_function("tokio", |b| {
        b.iter_custom(|n| Duration::from_nanos(or_exit(churn(&tokio, n as usize)) as u64))
    });
    g.finish();
}

fn overshoot_fn<R: TimeRt>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    rt: &R,
) -> Vec<Duration> {
    let mut all = Vec::new();
    g.bench_function(name, |b| {
        b.iter_custom(|n| {
            let lat = or_exit(overshoot(rt, n as usize));
            let sum = lat.iter().sum();
            all.extend(lat);
            sum
        })
    });
    all
}

fn sleep_overshoot(c: &mut Criterion) {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let mut g = c.benchmark_group("sleep_overshoot");
    g.sampling_mode(SamplingMode::Flat);
    let q = overshoot_fn(&mut g, "quell", &quell);
    let t = overshoot_fn(&mut g, "tokio", &tokio);
    g.finish();
    for (name, lat) in [("quell", q), ("tokio", t)] {
        if !lat.is_empty() {
            let p = p50_p99(&lat);
            println!(
                "sleep_overshoot/{name}: p50 {}  p99 {}  ({} samples)",
                fmt_ns(p[0]),
                fmt_ns(p[1]),
                lat.len()
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(1));
    targets = timer_churn, sleep_overshoot
}
criterion_main!(benches);
