//! The scenarios of `cargo bench --bench compare`, in table order.
//!
//! To add a row: write the workload (generic over `Rt`, returning when
//! done, bounded by a timeout) in `scenarios.rs` or a module of its own,
//! then add a [`Scenario`] here whose `run` returns its rows, usually via
//! `harness::time_vs_tokio` (throughput), `harness::time_binding`, or your
//! own `harness::alternate` call (latency percentiles, like
//! `harness::wake_vs_tokio`).

use super::harness::{self, Settings};
use super::rows;
use super::rt::{Quell, Tokio};
use super::scenarios as sc;
use super::sched_rows;
use super::table::Row;

/// A named group of rows.
pub struct Scenario {
    /// Filter key on the command line (`compare -- ping`).
    pub name: &'static str,
    pub run: fn(&Settings) -> Vec<Row>,
}

pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "spawn_many_local",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "spawn_many_local (10k tasks, from a task)",
                    sc::spawn_many_local::<Quell>,
                    sc::spawn_many_local::<Tokio>,
                )]
            },
        },
        Scenario {
            name: "spawn_many_remote",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "spawn_many_remote (10k tasks, from outside)",
                    sc::spawn_many_remote::<Quell>,
                    sc::spawn_many_remote::<Tokio>,
                )]
            },
        },
        Scenario {
            name: "yield_many",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "yield_many (200 tasks × 200 yields)",
                    sc::yield_many::<Quell>,
                    sc::yield_many::<Tokio>,
                )]
            },
        },
        Scenario {
            name: "ping_pong",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "ping_pong (4 pairs × 1000 round trips)",
                    sc::ping_pong::<Quell>,
                    sc::ping_pong::<Tokio>,
                )]
            },
        },
        Scenario {
            name: "chained_spawn",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "chained_spawn (depth 1000)",
                    sc::chained_spawn::<Quell>,
                    sc::chained_spawn::<Tokio>,
                )]
            },
        },
        Scenario {
            name: "busy_waker",
            run: |s| {
                vec![harness::time_vs_tokio(
                    s,
                    "busy_waker (waker busy 100 µs after waking; woken task 100 µs)",
                    sc::busy_waker::<Quell>,
                    sc::busy_waker::<Tokio>,
                )]
            },
        },
        Scenario {
            name: "busy_waker_per_wake",
            run: sched_rows::busy_waker_per_wake,
        },
        Scenario {
            name: "wake_latency",
            run: harness::wake_vs_tokio,
        },
        Scenario {
            name: "task_to_task",
            run: sched_rows::task_to_task,
        },
        Scenario {
            name: "abort_join",
            run: sched_rows::abort_join,
        },
        Scenario {
            name: "cancel_channel",
            run: rows::cancel_channel,
        },
        Scenario {
            name: "cancel_read",
            run: rows::cancel_read,
        },
        Scenario {
            name: "echo_rtt",
            run: rows::echo_rtt,
        },
        Scenario {
            name: "echo_throughput",
            run: rows::echo_throughput,
        },
        Scenario {
            name: "timer_churn",
            run: rows::timer_churn,
        },
        Scenario {
            name: "sleep_overshoot",
            run: rows::sleep_overshoot,
        },
        Scenario {
            name: "cpu_use",
            run: sched_rows::cpu_use,
        },
        Scenario {
            name: "binding_spawn_many_local",
            run: |s| {
                vec![harness::time_binding(
                    s,
                    "spawn_many_local",
                    sc::spawn_many_local::<Quell>,
                )]
            },
        },
        Scenario {
            name: "binding_ping_pong",
            run: |s| {
                vec![harness::time_binding(
                    s,
                    "ping_pong",
                    sc::ping_pong::<Quell>,
                )]
            },
        },
    ]
    .into_iter()
    .chain(super::group::scenarios())
    .chain(super::sync9::scenarios())
    .chain(super::current::scenarios())
    .collect()
}
