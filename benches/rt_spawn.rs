//! Criterion: spawning, quell vs tokio (2 workers each).
//!
//! * `spawn_many_local`: a task spawns 10 000 tasks that each decrement a
//!   counter; the last one signals the bench thread.
//! * `spawn_many_remote`: the same 10 000 tasks spawned from the bench
//!   thread (outside the runtime).
//! * `chained_spawn`: a task spawns a task that spawns … 1 000 deep.
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

fn spawn_many_local(c: &mut Criterion) {
    bench(
        c,
        "spawn_many_local",
        sc::spawn_many_local::<Quell>,
        sc::spawn_many_local::<Tokio>,
    );
}

fn spawn_many_remote(c: &mut Criterion) {
    bench(
        c,
        "spawn_many_remote",
        sc::spawn_many_remote::<Quell>,
        sc::spawn_many_remote::<Tokio>,
    );
}

fn chained_spawn(c: &mut Criterion) {
    bench(
        c,
        "chained_spawn",
        sc::chained_spawn::<Quell>,
        sc::chained_spawn::<Tokio>,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = spawn_many_local, spawn_many_remote, chained_spawn
}
criterion_main!(benches);
