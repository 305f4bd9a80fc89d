//! Rows and the printed (Markdown) table of `compare`.

use super::harness::{median, Outcome, Stats};

/// Which table a row goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `quell` vs `tokio`; ratio = tokio / quell (> 1: quell faster).
    VsTokio,
    /// quell with the cancel binding (`quell`) vs without (`other`);
    /// overhead = bound / unbound − 1.
    Binding,
}

/// The DESIGN.md budget a row is held to.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    None,
    /// tokio / quell must be at least this (2.0 = quell at most half).
    RatioAtLeast(f64),
    /// bound / unbound − 1 must be at most this (0.05 = 5 %).
    OverheadAtMost(f64),
}

/// One line of the table. All values are times in ns (lower is better).
#[derive(Debug, Clone)]
pub struct Row {
    pub section: Section,
    pub name: String,
    /// quell (in `Binding`: quell with the binding on).
    pub quell: Outcome,
    /// tokio (in `Binding`: quell with the binding off).
    pub other: Outcome,
    pub budget: Budget,
}

impl Row {
    pub fn new(
        section: Section,
        name: &str,
        quell: Outcome,
        other: Outcome,
        budget: Budget,
    ) -> Row {
        Row {
            section,
            name: name.to_string(),
            quell,
            other,
            budget,
        }
    }

    /// tokio / quell, or bound / unbound − 1; None if a side failed.
    ///
    /// The median of the per-repetition ratios (repetition `i` of both
    /// sides ran back to back, under about the same machine load), or the
    /// ratio of the medians if the sides have different counts.
    pub fn figure(&self) -> Option<f64> {
        let (q, o) = (self.quell.as_ref().ok()?, self.other.as_ref().ok()?);
        let ratio = if q.values.len() == o.values.len() {
            let r: Vec<f64> = q.values.iter().zip(&o.values).map(|(q, o)| o / q).collect();
            median(&r)
        } else {
            o.median / q.median
        };
        Some(match self.section {
            Section::VsTokio => ratio,
            Section::Binding => 1.0 / ratio - 1.0,
        })
    }

    /// "ok", "MISS" or "-" (no budget, or a side failed: "FAILED").
    pub fn verdict(&self) -> &'static str {
        if self.quell.is_err() || self.other.is_err() {
            return "FAILED";
        }
        let f = self.figure().unwrap();
        let ok = match self.budget {
            Budget::None => return "-",
            Budget::RatioAtLeast(min) => f >= min,
            Budget::OverheadAtMost(max) => f <= max,
        };
        if ok {
            "ok"
        } else {
            "MISS"
        }
    }
}

/// A time in ns, scaled: "812 ns", "12.3 µs", "4.56 ms", "1.23 s".
pub fn fmt_ns(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.3} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.3} ms", ns / 1e6)
    } else {
        format!("{:.3} s", ns / 1e9)
    }
}

fn cell(o: &Outcome) -> String {
    match o {
        Ok(s) => fmt_stats(s),
        Err(_) => "FAILED".to_string(),
    }
}

fn fmt_stats(s: &Stats) -> String {
    format!("{} ±{:.0}%", fmt_ns(s.median), s.spread() * 100.0)
}

fn budget(b: Budget) -> String {
    match b {
        Budget::None => "-".into(),
        Budget::RatioAtLeast(m) => format!("≥ {m:.2}"),
        Budget::OverheadAtMost(m) => format!("≤ {:.0}%", m * 100.0),
    }
}

/// Prints both tables (Markdown), then every failure in full.
pub fn print(rows: &[Row]) {
    let vs: Vec<&Row> = rows
        .iter()
        .filter(|r| r.section == Section::VsTokio)
        .collect();
    let bind: Vec<&Row> = rows
        .iter()
        .filter(|r| r.section == Section::Binding)
        .collect();
    if !vs.is_empty() {
        println!("ratio = tokio / quell (time or latency): > 1.00 means quell is faster");
        println!();
        println!("| scenario | quell | tokio | ratio | budget | |");
        println!("|---|---:|---:|---:|---:|---|");
        for r in vs {
            let f = r.figure().map_or("-".into(), |f| format!("{f:.2}"));
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                r.name,
                cell(&r.quell),
                cell(&r.other),
                f,
                budget(r.budget),
                r.verdict()
            );
        }
        println!();
    }
    if !bind.is_empty() {
        println!("binding cost: quell cancel_binding(true) vs cancel_binding(false), same run");
        println!();
        println!("| scenario | bound | unbound | overhead | budget | |");
        println!("|---|---:|---:|---:|---:|---|");
        for r in bind {
            let f = r
                .figure()
                .map_or("-".into(), |f| format!("{:+.1}%", f * 100.0));
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                r.name,
                cell(&r.quell),
                cell(&r.other),
                f,
                budget(r.budget),
                r.verdict()
            );
        }
        println!();
    }
    for r in rows {
        for (side, o) in [("quell", &r.quell), ("other", &r.other)] {
            if let Err(e) = o {
                println!("FAILED {} ({side}): {}", r.name, e.0);
            }
        }
    }
}
