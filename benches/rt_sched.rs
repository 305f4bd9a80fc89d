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

use common::crit::{head_to_head, throughput_config};
use common::scenarios as sc;
use common::{Quell, Tokio};
use criterion::{criterion_group, criterion_main, Criterion};

fn yield_many(c: &mut Criterion) {
    head_to_head(
        c,
        "yield_many",
        sc::yield_many::<Quell>,
        sc::yield_many::<Tokio>,
    );
}

fn ping_pong(c: &mut Criterion) {
    head_to_head(
        c,
        "ping_pong",
        sc::ping_pong::<Quell>,
        sc::ping_pong::<Tokio>,
    );
}

criterion_group! {
    name = benches;
    config = throughput_config();
    targets = yield_many, ping_pong
}
criterion_main!(benches);
