//! The leak watchdog ([`Builder::leak_watchdog`](crate::runtime::Builder::leak_watchdog)):
//! every task still alive a threshold after its cancel is reported once.
//!
//! # Protocol
//!
//! 1. `build` starts one thread, `quell-watchdog`, holding a `Weak` of the
//!    runtime: the thread never keeps the runtime alive.
//! 2. Each round the thread upgrades the `Weak` (and exits if the runtime
//!    is gone), lists the live tasks whose scope is cancelled (or that are
//!    inside a cancelled deadline scope) with the instant of that cancel
//!    (`CancelToken::cancelled_at`, stamped once by the cancel tree), and
//!    reports each one whose `cancelled_at + threshold` has passed and
//!    that it has not reported yet, with its dump entry. It forgets the
//!    reported ids that are no longer listed (the task ended), so the set
//!    holds live stragglers only. (A cancel never reverts, so a reported
//!    task stays listed until it ends: it is never reported twice.)
//! 3. It sleeps on the stop condvar until the earliest due time of a
//!    cancelled task it has not reported yet, or `interval` from now
//!    (a cancel that happens meanwhile is seen at the next round), which
//!    ever comes first. A report is therefore due-time accurate for
//!    cancels the watchdog has already seen, and at most `interval` late
//!    otherwise; between rounds the thread is asleep (no polling).
//! 4. Stop (runtime shutdown, before the workers stop): set the flag under
//!    the lock, notify, join. A round in progress finishes first; the
//!    flag is checked under the same lock as the wait, so a stop is never
//!    slept through.
//!
//! Not seen by loom (compiled out under `cfg(loom)`): it takes part in no
//! protocol the models check, so it uses `std`'s lock, condvar and thread.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use quell_cancel::CancelToken;

use crate::hooks::call_contained;
use crate::runtime::flavor::Scheduler;
use crate::runtime::handle::Inner;
use crate::runtime::shutdown::one_line;
use crate::runtime::Handle;
use crate::runtime::TaskDump;
use crate::task::{Id, RawTask};

/// The leak watchdog's callback
/// ([`Builder::on_leak`](crate::runtime::Builder::on_leak)).
pub(crate) type LeakHook = Arc<dyn Fn(&Leak) + Send + Sync>;

/// The shortest wait between two rounds, whatever the threshold: a tiny
/// threshold does not turn the watchdog into a spin.
const MIN_INTERVAL: Duration = Duration::from_millis(10);
/// The longest wait between two rounds: a huge threshold still has a
/// watchdog that notices new cancels.
const MAX_INTERVAL: Duration = Duration::from_secs(5);

/// How often the watchdog looks for new cancels with this threshold: half
/// of it, within [`MIN_INTERVAL`, `MAX_INTERVAL`].
fn interval(threshold: Duration) -> Duration {
    (threshold / 2).clamp(MIN_INTERVAL, MAX_INTERVAL)
}

/// A task the leak watchdog found still alive [`threshold`](Self::threshold)
/// after its cancel; passed to the [`Builder::on_leak`](crate::runtime::Builder::on_leak)
/// callback, and by default written to stderr as one line (its
/// `Display`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Leak {
    /// The task's entry in the task dump ([`Handle::dump`]): what it waits
    /// on, its cancel state (why, by whom), where it was spawned.
    pub task: TaskDump,
    /// How long ago its cancel was requested, as of the report.
    pub cancelled_for: Duration,
    /// The watchdog's threshold.
    pub threshold: Duration,
}

impl fmt::Display for Leak {
    /// One line: `quell: leak watchdog: task 7 "name" [parked, cancelled]
    /// still alive 1.2s after its cancel (threshold 1s): waits on …;
    /// cancel: …; spawned at …` — the dump entry's lines, joined.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (head, rest) = one_line(&self.task);
        write!(
            f,
            "quell: leak watchdog: {head} still alive {:.1?} after its cancel (threshold {:.1?}): {rest}",
            self.cancelled_for, self.threshold
        )
    }
}

/// What the thread is told to stop with (step 4).
struct Stop {
    stopped: Mutex<bool>,
    cv: Condvar,
}

/// The running watchdog; dropping it stops and joins its thread.
pub(crate) struct Watchdog {
    stop: Arc<Stop>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Watchdog {
    /// Step 1: starts the thread for `handle`'s runtime.
    pub(crate) fn start(
        handle: &Handle,
        threshold: Duration,
        hook: Option<LeakHook>,
    ) -> std::io::Result<Watchdog> {
        let stop = Arc::new(Stop {
            stopped: Mutex::new(false),
            cv: Condvar::new(),
        });
        let rt = Arc::downgrade(&handle.inner);
        let s = stop.clone();
        let thread = thread::Builder::new()
            .name("quell-watchdog".into())
            .spawn(move || run(rt, &s, threshold, hook))?;
        Ok(Watchdog {
            stop,
            thread: Some(thread),
        })
    }

    /// Step 4.
    fn stop(&mut self) {
        *self.stop.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.stop.cv.notify_all();
        if let Some(t) = self.thread.take() {
            // A callback that drops the runtime runs on this thread, which
            // cannot join itself: it exits by itself on the flag. The
            // thread contains the callback's panics; a panic of our own
            // there is not worth a second one in shutdown.
            if t.thread().id() != thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The thread's body: steps 2–3 until stopped or the runtime is gone.
fn run(rt: Weak<Inner>, stop: &Stop, threshold: Duration, hook: Option<LeakHook>) {
    let mut reported: HashSet<Id> = HashSet::new();
    let hook_panicked = AtomicBool::new(false);
    loop {
        let Some(inner) = rt.upgrade() else { return };
        let handle = Handle { inner };
        let now = Instant::now();
        let mut next = now + interval(threshold);
        let cancelled = cancelled_tasks(&handle);
        let live: HashSet<Id> = cancelled.iter().map(|&(id, _)| id).collect();
        reported.retain(|id| live.contains(id));
        let mut due = Vec::new();
        for (id, at) in cancelled {
            if reported.contains(&id) {
                continue;
            }
            // A threshold too large to add never comes due.
            match at.checked_add(threshold) {
                Some(d) if d <= now => due.push((id, at)),
                Some(d) => next = next.min(d),
                None => {}
            }
        }
        if !due.is_empty() {
            for leak in leaks(&handle, &due, threshold) {
                reported.insert(leak.task.id);
                match &hook {
                    Some(h) => call_contained("on_leak", &hook_panicked, || h(&leak)),
                    None => eprintln!("{leak}"),
                }
            }
        }
        // Drop the handle before sleeping: a runtime whose last other
        // handle goes meanwhile is not kept alive by this thread.
        drop(handle);
        let mut stopped = stop.stopped.lock().unwrap_or_else(|e| e.into_inner());
        while !*stopped {
            let left = next.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            stopped = stop
                .cv
                .wait_timeout(stopped, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if *stopped {
            return;
        }
    }
}

/// The cheap part of a round: the live tasks, async and blocking, whose
/// cancel scope is cancelled (or that are inside a cancelled deadline
/// scope: the dump's answer), with the instant of that cancel. Per task
/// that is not cancelled: the token's flag (one `Acquire` load) and the
/// noted-scope lock; nothing is allocated for it. The task list is walked
/// as the dump walks it, in chunks, so no shard lock is held for long.
fn cancelled_tasks(handle: &Handle) -> Vec<(Id, Instant)> {
    const CHUNK: usize = 256;
    let mut v = Vec::new();
    let mut visit = |t: &RawTask| {
        t.with_scope(&mut |s| {
            let at = s
                .token()
                .and_then(CancelToken::cancelled_at)
                .or_else(|| s.scope.noted().as_ref().and_then(CancelToken::cancelled_at));
            if let Some(at) = at {
                v.push((t.header().id, at));
            }
        });
    };
    let inner = &handle.inner;
    match &inner.sched {
        Scheduler::MultiThread(s) => s.owned.for_each_chunked(CHUNK, &mut visit),
        Scheduler::CurrentThread { shared, .. } => shared.owned.for_each_chunked(CHUNK, &mut visit),
    }
    inner.blocking.for_each(|t, _, _| visit(t));
    v
}

/// The reports of the `due` tasks that are still alive, with their dump
/// entries (a dump is taken only in a round where some task is due).
fn leaks(handle: &Handle, due: &[(Id, Instant)], threshold: Duration) -> Vec<Leak> {
    let dump = handle.dump();
    let taken_at = dump.taken_at;
    let mut entries: HashMap<Id, TaskDump> = dump.tasks.into_iter().map(|t| (t.id, t)).collect();
    due.iter()
        .filter_map(|&(id, at)| {
            Some(Leak {
                task: entries.remove(&id)?,
                cancelled_for: taken_at.saturating_duration_since(at),
                threshold,
            })
        })
        .collect()
}
