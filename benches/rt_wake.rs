//! Criterion: wake latency of a parked task, quell vs tokio (2 workers).
//!
//! A task waits on a runtime-agnostic probe (`common/probe.rs`); this
//! bench's thread pauses 200–500 µs (the workers run out of work and
//! park), records `t0` and wakes the task, which reads the clock when it
//! is polled. `iter_custom` returns the summed latencies, so criterion's
//! "time" is the mean latency per wake; the p50/p99 of every sample taken
//! during the run are printed after each group. Wall time is dominated by
//! the pauses, hence the short measurement time.

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;

use std::time::Duration;

use common::harness::p50_p99;
use common::scenarios::wake_latency;
use common::table::fmt_ns;
use common::{or_exit, Quell, Rt, Tokio};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};

fn measure<R: Rt>(rt: &R, iters: u64, all: &mut Vec<Duration>) -> Duration {
    let lat = or_exit(wake_latency(rt, iters as usize));
    let sum = lat.iter().sum();
    all.extend(lat);
    sum
}

fn report(name: &str, all: &[Duration]) {
    if all.is_empty() {
        return;
    }
    let p = p50_p99(all);
    println!(
        "wake_latency/{name}: p50 {}  p99 {}  ({} samples)",
        fmt_ns(p[0]),
        fmt_ns(p[1]),
        all.len()
    );
}

fn wake(c: &mut Criterion) {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let (mut q_all, mut t_all) = (Vec::new(), Vec::new());
    let mut g = c.benchmark_group("wake_latency");
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("quell", |b| {
        b.iter_custom(|n| measure(&quell, n, &mut q_all))
    });
    g.bench_function("tokio", |b| {
        b.iter_custom(|n| measure(&tokio, n, &mut t_all))
    });
    g.finish();
    report("quell", &q_all);
    report("tokio", &t_all);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(1));
    targets = wake
}
criterion_main!(benches);
