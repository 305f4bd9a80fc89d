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

use common::crit::{head_to_head, throughput_config};
use common::scenarios as sc;
use common::{Quell, Tokio};
use criterion::{criterion_group, criterion_main, Criterion};

fn spawn_many_local(c: &mut Criterion) {
    head_to_head(
        c,
        "spawn_many_local",
        sc::spawn_many_local::<Quell>,
        sc::spawn_many_local::<Tokio>,
    );
}

fn spawn_many_remote(c: &mut Criterion) {
    head_to_head(
        c,
        "spawn_many_remote",
        sc::spawn_many_remote::<Quell>,
        sc::spawn_many_remote::<Tokio>,
    );
}

fn chained_spawn(c: &mut Criterion) {
    head_to_head(
        c,
        "chained_spawn",
        sc::chained_spawn::<Quell>,
        sc::chained_spawn::<Tokio>,
    );
}

criterion_group! {
    name = benches;
    config = throughput_config();
    targets = spawn_many_local, spawn_many_remote, chained_spawn
}
criterion_main!(benches);
