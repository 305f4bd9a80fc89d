//! Criterion: what the cancel binding costs. The same workloads on quell
//! with `cancel_binding(true)` (the default) and `cancel_binding(false)`
//! (a hidden measurement switch), both runtimes alive in the same run.
//! Budget (DESIGN.md): at most 5 % on spawn and ping-pong.

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod common;

use common::scenarios as sc;
use common::{or_exit, Quell};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion, name: &str, run: fn(&Quell) -> Result<(), common::Failed>) {
    let bound = Quell::with_binding(true);
    let unbound = Quell::with_binding(false);
    let mut g = c.benchmark_group(format!("binding_cost/{name}"));
    g.bench_function("bound", |b| b.iter(|| or_exit(run(&bound))));
    g.bench_function("unbound", |b| b.iter(|| or_exit(run(&unbound))));
    g.finish();
}

fn binding_cost(c: &mut Criterion) {
    bench(c, "spawn_many_local", sc::spawn_many_local::<Quell>);
    bench(c, "ping_pong", sc::ping_pong::<Quell>);
}

criterion_group! {
    name = benches;
    config = common::crit::throughput_config();
    targets = binding_cost
}
criterion_main!(benches);
