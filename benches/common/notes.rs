//! Small tables `compare` prints after the main one, for what the
//! `Row` table cannot show:
//!
//! * **quell vs its own wake latency**: budgets of the form "quell's X p50
//!   ≤ k × quell's wake p50", with both measured in the same scenario, in
//!   alternating repetitions (factor = median of the per-repetition
//!   ratios X / wake);
//! * **rates**: throughput rows restated as operations per second (from
//!   the median run time of each side);
//! * **the machine's floor**: the wake rows against a plain futex wake
//!   of a parked thread (what no runtime can beat), in the same
//!   alternation;
//! * **CPU use**: CPU-seconds per wall-second of the process (idle runtime,
//!   one busy worker).
//!
//! Scenarios push formatted lines here while they run; `print` empties it.

use std::sync::Mutex;

use super::harness::{median, Outcome};
use super::table::fmt_ns;

static SELF_ROWS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static RATES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static CPU: Mutex<Vec<String>> = Mutex::new(Vec::new());
static FLOOR: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn push(v: &Mutex<Vec<String>>, line: String) {
    v.lock().unwrap_or_else(|e| e.into_inner()).push(line);
}

fn take(v: &Mutex<Vec<String>>) -> Vec<String> {
    std::mem::take(&mut *v.lock().unwrap_or_else(|e| e.into_inner()))
}

fn cell(o: &Outcome) -> String {
    match o {
        Ok(s) => format!("{} ±{:.0}%", fmt_ns(s.median), s.spread() * 100.0),
        Err(_) => "FAILED".into(),
    }
}

/// `value` / `reference`: the median of the per-repetition ratios (the
/// same alternation), or the ratio of the medians if the counts differ;
/// `None` if a side failed.
fn factor(value: &Outcome, reference: &Outcome) -> Option<f64> {
    let (v, r) = (value.as_ref().ok()?, reference.as_ref().ok()?);
    Some(if v.values.len() == r.values.len() {
        let q: Vec<f64> = v.values.iter().zip(&r.values).map(|(v, r)| v / r).collect();
        median(&q)
    } else {
        v.median / r.median
    })
}

/// A budget "`value` ≤ `max` × `reference`" (both quell, same scenario).
pub fn self_budget(name: &str, value: &Outcome, reference: &Outcome, max: f64) {
    let (factor, verdict) = match factor(value, reference) {
        Some(f) => (
            format!("{f:.2}×"),
            if f <= max { "ok" } else { "MISS" }.to_string(),
        ),
        None => ("-".into(), "FAILED".into()),
    };
    push(
        &SELF_ROWS,
        format!(
            "| {name} | {} | {} | {factor} | ≤ {max:.2}× | {verdict} |",
            cell(value),
            cell(reference)
        ),
    );
}

/// A throughput row as a rate: `per_run` operations per run of the row's
/// workload; rate = `per_run` / median run time.
pub fn rate(name: &str, unit: &str, per_run: f64, quell: &Outcome, tokio: &Outcome) {
    let r = |o: &Outcome| match o {
        Ok(s) => fmt_rate(per_run / (s.median / 1e9)),
        Err(_) => "FAILED".into(),
    };
    push(
        &RATES,
        format!("| {name} | {} {unit}/s | {} {unit}/s |", r(quell), r(tokio)),
    );
}

/// A CPU-use line: values are CPU-seconds per wall-second × 1e9 (as the
/// harness stores them); budget: quell's median at most `max`.
pub fn cpu(name: &str, quell: &Outcome, tokio: &Outcome, max: f64) {
    let c = |o: &Outcome| match o {
        Ok(s) => format!("{:.3}", s.median / 1e9),
        Err(_) => "FAILED".into(),
    };
    let verdict = match quell {
        Ok(s) if s.median / 1e9 <= max => "ok",
        Ok(_) => "MISS",
        Err(_) => "FAILED",
    };
    push(
        &CPU,
        format!(
            "| {name} | {} | {} | ≤ {max:.2} | {verdict} |",
            c(quell),
            c(tokio)
        ),
    );
}

/// A latency against the machine's floor (`scenarios::futex_floor`, same
/// alternation): quell's and tokio's value divided by the floor's (median
/// of the per-repetition ratios).
pub fn floor(name: &str, quell: &Outcome, tokio: &Outcome, floor: &Outcome) {
    let to_floor = |o: &Outcome| factor(o, floor).map_or("-".into(), |f| format!("{f:.2}×"));
    push(
        &FLOOR,
        format!(
            "| {name} | {} | {} | {} | {} | {} |",
            cell(floor),
            cell(quell),
            to_floor(quell),
            cell(tokio),
            to_floor(tokio)
        ),
    );
}

/// "1.23 M", "456 k", "789".
pub fn fmt_rate(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// Prints (and clears) both tables, if not empty.
pub fn print() {
    let own = take(&SELF_ROWS);
    if !own.is_empty() {
        println!(
            "quell vs quell's own wake latency (same scenario, alternating reps): \
             factor = median of per-rep ratios, lower is better"
        );
        println!();
        println!("| quell metric | value | quell wake (p50 unless named) | factor | budget | |");
        println!("|---|---:|---:|---:|---:|---|");
        for l in own {
            println!("{l}");
        }
        println!();
    }
    let floor = take(&FLOOR);
    if !floor.is_empty() {
        println!(
            "the machine's floor: a plain thread parked in futex, woken by another \
             (std park/unpark, same pauses, same alternation); factor = median of \
             per-rep ratios to it"
        );
        println!();
        println!("| metric | futex floor | quell | quell / floor | tokio | tokio / floor |");
        println!("|---|---:|---:|---:|---:|---:|");
        for l in floor {
            println!("{l}");
        }
        println!();
    }
    let cpu = take(&CPU);
    if !cpu.is_empty() {
        println!(
            "CPU use of the whole process (getrusage user+system) over a fixed window, \
             CPU-seconds per wall-second, median over reps"
        );
        println!();
        println!("| runtime load | quell | tokio | budget (quell) | |");
        println!("|---|---:|---:|---:|---|");
        for l in cpu {
            println!("{l}");
        }
        println!();
    }
    let rates = take(&RATES);
    if !rates.is_empty() {
        println!("rates (from the median run times above)");
        println!();
        println!("| scenario | quell | tokio |");
        println!("|---|---:|---:|");
        for l in rates {
            println!("{l}");
        }
        println!();
    }
}
