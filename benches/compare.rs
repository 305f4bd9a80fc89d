//! `cargo bench --bench compare`: quell vs tokio, head to head.
//!
//! Runs every scenario of `common::registry` with quell and tokio (both
//! multi-thread, 2 workers) in this one process, alternating repetitions,
//! and prints a Markdown table of medians, then the extra tables of
//! `common::notes` (quell vs its own wake latency, rates). See
//! docs/benchmarks.md.
//!
//! Arguments (after `--`): scenario-name filters (substrings), `--reps N`,
//! `--wake-reps N`,
//! `--batch-ms N`, `--samples N` (wake-latency samples per repetition; the
//! cancel, echo-RTT, churn and overshoot counts scale with it, see
//! `common/rows.rs`),
//! `--quick` (a smoke run), `--list`. Without cargo's `--bench` flag
//! (`cargo test --benches`) it does a smoke run.

mod common;

use std::time::Instant;

use common::harness::Settings;
use common::{notes, registry, table};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench");
    let mut s = if benching {
        Settings::full()
    } else {
        Settings::quick()
    };
    let mut filters = Vec::new();
    let mut it = args.iter();
    let num = |v: Option<&String>, flag: &str| -> u64 {
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a number"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bench" => {}
            "--quick" => s = Settings::quick(),
            "--reps" => s.reps = num(it.next(), a).max(1) as usize,
            "--wake-reps" => s.wake_reps = num(it.next(), a).max(1) as usize,
            "--batch-ms" => s.batch = std::time::Duration::from_millis(num(it.next(), a)),
            "--samples" => s.wake_samples = num(it.next(), a).max(1) as usize,
            "--list" => {
                for sc in registry::all() {
                    println!("{}", sc.name);
                }
                return;
            }
            f if f.starts_with("--") => {} // libtest/criterion flags: ignore
            f => filters.push(f.to_string()),
        }
    }

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("# quell vs tokio");
    println!();
    println!("command: cargo bench --bench compare{}", {
        let extra: Vec<&String> = args.iter().filter(|a| *a != "--bench").collect();
        if extra.is_empty() {
            String::new()
        } else {
            format!(
                " -- {}",
                extra
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }
    });
    println!(
        "machine: {cores} cores (available_parallelism); load average at start: {}",
        loadavg()
    );
    println!(
        "method: same process, {} workers per runtime, contenders alternate; throughput: {} reps, \
         rep = median run over a {} ms batch; wake: {} reps of {} samples, rep = p50/p99; \
         value = median over reps, ± = half the interquartile range as % of it; \
         ratio = median of the per-rep ratios",
        common::WORKERS,
        s.reps,
        s.batch.as_millis(),
        s.wake_reps,
        s.wake_samples
    );
    println!();

    let start = Instant::now();
    let mut rows = Vec::new();
    for sc in registry::all() {
        if !filters.is_empty() && !filters.iter().any(|f| sc.name.contains(f.as_str())) {
            continue;
        }
        let t = Instant::now();
        eprintln!("running {} ...", sc.name);
        rows.extend((sc.run)(&s));
        eprintln!("  done in {:.1} s", t.elapsed().as_secs_f64());
    }
    table::print(&rows);
    notes::print();
    println!(
        "total {:.1} s; load average at end: {}",
        start.elapsed().as_secs_f64(),
        loadavg()
    );
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
