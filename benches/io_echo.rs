//! Criterion: TCP echo over loopback, quell vs tokio (2 workers).
//!
//! Client and server are tasks on the runtime under test; connections are
//! made once with std sockets and reused (see `common/echo.rs`).
//!
//! * `echo_rtt`: 1 connection, 64 B messages; `iter_custom` returns the
//!   summed round-trip times (the time shown is the mean RTT); p50/p99 of
//!   every round trip are printed after the group.
//! * `echo_throughput`: 50 connections, each making 100 round trips of
//!   64 B per iteration, concurrently; criterion's throughput is in
//!   requests (elements) per second.
//!
//! The head-to-head summary is `cargo bench --bench compare`.

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;

use std::time::Duration;

use common::echo::{self, EchoRig};
use common::harness::p50_p99;
use common::table::fmt_ns;
use common::{or_exit, Quell, Tokio};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn rtt_fn(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    rig: &EchoRig,
) -> Vec<Duration> {
    let mut all = Vec::new();
    g.bench_function(name, |b| {
        b.iter_custom(|n| {
            let lat = or_exit(rig.run(n as usize, true));
            let sum = lat.iter().sum();
            all.extend(lat);
            sum
        })
    });
    all
}

fn echo_rtt(c: &mut Criterion) {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let qr = or_exit(EchoRig::new(&quell, 1));
    let tr = or_exit(EchoRig::new(&tokio, 1));
    let mut g = c.benchmark_group("echo_rtt");
    let q = rtt_fn(&mut g, "quell", &qr);
    let t = rtt_fn(&mut g, "tokio", &tr);
    g.finish();
    for (name, lat) in [("quell", q), ("tokio", t)] {
        if !lat.is_empty() {
            let p = p50_p99(&lat);
            println!(
                "echo_rtt/{name}: p50 {}  p99 {}  ({} round trips)",
                fmt_ns(p[0]),
                fmt_ns(p[1]),
                lat.len()
            );
        }
    }
}

fn echo_throughput(c: &mut Criterion) {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let qr = or_exit(EchoRig::new(&quell, echo::CONNS));
    let tr = or_exit(EchoRig::new(&tokio, echo::CONNS));
    let mut g = c.benchmark_group("echo_throughput");
    g.throughput(Throughput::Elements(
        (echo::CONNS * echo::REQS_PER_CONN) as u64,
    ));
    g.bench_function("quell", |b| {
        b.iter(|| or_exit(qr.run(echo::REQS_PER_CONN, false)))
    });
    g.bench_function("tokio", |b| {
        b.iter(|| or_exit(tr.run(echo::REQS_PER_CONN, false)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = echo_rtt, echo_throughput
}
criterion_main!(benches);
