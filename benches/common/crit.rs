//! Shared criterion plumbing for the throughput benches.

use std::time::Duration;

use criterion::Criterion;

use super::{or_exit, Failed, Quell, Tokio};

/// The configuration of the throughput benches (rt_spawn, rt_sched, rt_binding).
pub fn throughput_config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// One criterion group `name` with a `quell` and a `tokio` function running
/// the same workload on a 2-worker runtime of each.
pub fn head_to_head(
    c: &mut Criterion,
    name: &str,
    q: fn(&Quell) -> Result<(), Failed>,
    t: fn(&Tokio) -> Result<(), Failed>,
) {
    let quell = Quell::new();
    let tokio = Tokio::new();
    let mut g = c.benchmark_group(name);
    g.bench_function("quell", |b| b.iter(|| or_exit(q(&quell))));
    g.bench_function("tokio", |b| b.iter(|| or_exit(t(&tokio))));
    g.finish();
}
