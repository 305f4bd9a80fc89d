//! Criterion: scheduling without spawning, quell vs tokio (2 workers each).
//!
//! * `yield_many`: 200 tasks each `yield_now()` 200 times.
//! * `ping_pong`: 4 pairs of tasks, each pair bouncing a value 1 000 round
//!   trips through the same runtime-agnostic single-slot channel
//!   (`common/slot.rs`) for both runtimes, so only the schedulers differ.
//!
//! The head-to-head summary is `cargo bench --bench compare`.

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;

use std::time::Duration;

use common::scenarios as sc;
use common::{or_exit, Quell, Tokio};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(
    c: &mut Criterion,
    name: &str,
    q: fn(&Quell) -> Result<(), common::Failed>,
    t: fn(&Tokio) -> Result<(), common::Failed>,
) {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let mut g = c.benchmark_group(name);
    g.bench_function("quell", |b| b.iter(|| or_exit(q(&quell))));
    g.bench_function("tokio", |b| b.iter(|| or_exit(t(&tokio))));
    g.finish();
}

fn yield_many(c: &mut Criterion) {
    bench(
        c,
        "yield_many",
        sc::yield_many::<Quell>,
        sc::yield_many::<Tokio>,
    );
}

fn ping_pong(c: &mut Criterion) {
    bench(
        c,
        "ping_pong",
        sc::ping_pong::<Quell>,
        sc::ping_pong::<Tokio>,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = yield_many, ping_pong
}
criterion_main!(benches);
