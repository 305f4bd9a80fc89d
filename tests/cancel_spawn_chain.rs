//! A chain of spawns — each task spawns its successor and ends — holds a
//! bounded amount of cancel-tree memory however long it runs: a finished
//! task's scope node, once no handle refers to it, is spliced out of the
//! tree and its child moves up to its parent (quell-cancel `tree.rs`,
//! invariant 6). Before the splice every generation's node stayed in the
//! tree until the chain ended (about 450 bytes each: 200 000 generations
//! held ≈ 90 MB).
//!
//! Measured as resident memory in the last generation (while the whole
//! chain would still be held) against a baseline taken after a warm-up
//! chain. One test in its own binary, so no other test allocates
//! meanwhile.

use std::sync::mpsc;
use std::time::Duration;

use quell::cancel;

/// Resident set size of this process, in bytes (Linux `/proc/self/statm`).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("statm has a resident field");
    // SAFETY: sysconf with a valid name has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * usize::try_from(page).expect("page size is positive")
}

/// Generation `n` spawns generation `n - 1` and ends; generation 0 reports
/// the resident size, and that its cancel scope still reaches up to the
/// chain's first task (the splice keeps ancestry for live scopes).
fn chain(n: usize, first: cancel::CancelToken, done: mpsc::Sender<(usize, bool)>) {
    if n == 0 {
        let under_first = first.is_ancestor_of(&cancel::current());
        let _ = done.send((rss(), under_first));
    } else {
        drop(quell::spawn(async move { chain(n - 1, first, done) }));
    }
}

fn run_chain(rt: &quell::Runtime, generations: usize) -> (usize, bool) {
    let (tx, rx) = mpsc::channel();
    drop(rt.spawn(async move {
        let first = cancel::current();
        chain(generations, first, tx)
    }));
    rx.recv_timeout(Duration::from_secs(120))
        .expect("the chain ends (bound only catches a hang)")
}

#[test]
fn a_long_spawn_chain_holds_bounded_memory() {
    const GENERATIONS: usize = 200_000;
    // Growth allowed over the baseline: far below the ≈ 90 MB that one
    // retained node per generation costs, far above allocator noise.
    const SLACK: usize = 16 << 20;

    let rt = quell::runtime::Builder::new()
        .worker_threads(1)
        .build()
        .unwrap();
    let (_, ok) = run_chain(&rt, 10_000); // warm-up: allocator pools, queues
    assert!(ok);
    let base = rss();
    let (last, under_first) = run_chain(&rt, GENERATIONS);
    assert!(
        under_first,
        "the last generation is still in the first one's scope"
    );
    let grew = last.saturating_sub(base);
    assert!(
        grew < SLACK,
        "{GENERATIONS} generations grew resident memory by {} KiB (bound {} KiB)",
        grew >> 10,
        SLACK >> 10
    );
}
