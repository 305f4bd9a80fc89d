//! Shared helpers for the integration tests.
#![allow(dead_code)]

pub mod child;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// Generous bound that only catches hangs (never a timing assertion).
pub const HANG: Duration = Duration::from_secs(30);

/// Counts drops of the values it tags.
#[derive(Clone, Default)]
pub struct DropCount(pub Arc<AtomicUsize>);

impl DropCount {
    pub fn new() -> DropCount {
        DropCount::default()
    }
    pub fn tag(&self) -> Tag {
        Tag(self.0.clone())
    }
    pub fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// Increments its counter when dropped.
pub struct Tag(Arc<AtomicUsize>);

impl Drop for Tag {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Receive with a hang bound.
pub fn recv<T>(rx: &mpsc::Receiver<T>) -> T {
    rx.recv_timeout(HANG).expect("timed out waiting: hang")
}

pub fn rt(workers: usize) -> quell::Runtime {
    quell::runtime::Builder::new()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// Threads of this process whose name starts with `prefix` (from /proc:
/// the kernel's copy of each thread's name, at most 15 bytes).
pub fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|c| c.trim_end().starts_with(prefix))
        .count()
}

/// Blocks the calling thread until `cond` holds, bounded by HANG.
pub fn wait_until(mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < HANG, "condition never became true: hang");
        std::thread::yield_now();
    }
}

/// Aborts the process if not dropped within HANG: turns a hang into a
/// failure with a message instead of a stuck CI job.
pub struct Watchdog(Option<mpsc::Sender<()>>);

pub fn watchdog(what: impl Into<String>) -> Watchdog {
    let what = what.into();
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(HANG) {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "watchdog: hang in {what}");
            std::process::abort();
        }
    });
    Watchdog(Some(tx))
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// Dumps `h`'s runtime until `ok` holds for the dump; panics after
/// [`HANG`] (a hang catcher, not a timing claim).
pub fn dump_until(
    h: &quell::Handle,
    mut ok: impl FnMut(&quell::runtime::Dump) -> bool,
) -> quell::runtime::Dump {
    let give_up = std::time::Instant::now() + HANG;
    loop {
        let d = h.dump();
        if ok(&d) {
            return d;
        }
        assert!(
            std::time::Instant::now() < give_up,
            "dump never matched; last:\n{d}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}
