//! Criterion: cancel latency of a parked task, quell vs tokio (2 workers).
//!
//! * `cancel_channel`: a task parked on a channel `recv` is cancelled from
//!   this (plain) thread — quell `JoinHandle::cancel`, tokio `select!` on
//!   a `CancellationToken` and `token.cancel()`.
//! * `cancel_read`: the same with a task parked in `TcpStream::read` on a
//!   silent loopback peer; tokio also with `abort()` (until the
//!   `JoinHandle` resolves).
//!
//! One iteration = one task, one cancellation after a 200–500 µs pause
//! (see `common/cancel_lat.rs`). `iter_custom` returns the summed
//! latencies, so criterion's "time" is the mean latency; the p50/p99 of
//! every sample are printed after each group. Wall time is dominated by
//! the pauses (criterion sizes the run by the reported time, ~0.02 of the
//! wall time), hence the very short measurement time.
//!
//! The head-to-head summary is `cargo bench --bench compare`.

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;

use std::time::Duration;

use common::cancel_lat as cl;
use common::harness::p50_p99;
use common::table::fmt_ns;
use common::{or_exit, Failed, Quell, Tokio};
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};

type Samples = Vec<(&'static str, Vec<Duration>)>;

fn function<'a>(
    g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    all: &mut Samples,
    name: &'static str,
    mut run: impl FnMut(usize) -> Result<Vec<Duration>, Failed> + 'a,
) {
    let mut mine = Vec::new();
    g.bench_function(name, |b| {
        b.iter_custom(|n| {
            let lat = or_exit(run(n as usize));
            let sum = lat.iter().sum();
            mine.extend(lat);
            sum
        })
    });
    all.push((name, mine));
}

fn report(group: &str, all: &Samples) {
    for (name, lat) in all {
        if lat.is_empty() {
            continue;
        }
        let p = p50_p99(lat);
        println!(
            "{group}/{name}: p50 {}  p99 {}  ({} samples)",
            fmt_ns(p[0]),
            fmt_ns(p[1]),
            lat.len()
        );
    }
}

fn cancel_channel(c: &mut Criterion) {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let mut all = Vec::new();
    let mut g = c.benchmark_group("cancel_channel");
    g.sampling_mode(SamplingMode::Flat);
    function(&mut g, &mut all, "quell", |n| cl::quell_channel(&quell, n));
    function(&mut g, &mut all, "tokio_select", |n| {
        cl::tokio_channel(&tokio, n)
    });
    g.finish();
    report("cancel_channel", &all);
}

fn cancel_read(c: &mut Criterion) {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let (qc, _qpeer) = or_exit(cl::silent_pair());
    let (tc, _tpeer) = or_exit(cl::silent_pair());
    let mut all = Vec::new();
    let mut g = c.benchmark_group("cancel_read");
    g.sampling_mode(SamplingMode::Flat);
    function(&mut g, &mut all, "quell", |n| {
        cl::quell_read(&quell, &qc, n)
    });
    function(&mut g, &mut all, "tokio_select", |n| {
        cl::tokio_read_select(&tokio, &tc, n)
    });
    function(&mut g, &mut all, "tokio_abort", |n| {
        cl::tokio_read_abort(&tokio, &tc, n)
    });
    g.finish();
    report("cancel_read", &all);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(50))
        .measurement_time(Duration::from_millis(200));
    targets = cancel_channel, cancel_read
}
criterion_main!(benches);
