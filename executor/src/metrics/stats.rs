//! The live counters behind [`RuntimeMetrics`](super::RuntimeMetrics).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use super::histogram::LiveHistogram;
use super::snapshot::{RuntimeHistograms, WorkerMetrics};

/// A counter with one writer (its worker): `inc` is a `Relaxed` load and
/// store, no read-modify-write; readers on other threads load `Relaxed`.
#[derive(Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    #[inline]
    pub(crate) fn inc(&self) {
        self.add(1);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// The opt-in histograms of one worker.
pub(crate) struct Histograms {
    pub(crate) poll_time: LiveHistogram,
    pub(crate) schedule_latency: LiveHistogram,
    pub(crate) cancel_latency: LiveHistogram,
}

/// One worker's counters, written only by that worker's thread.
#[derive(Default)]
pub(crate) struct WorkerStats {
    pub(crate) polls: Counter,
    pub(crate) parks: Counter,
    pub(crate) unparks: Counter,
    pub(crate) steals: Counter,
    pub(crate) lifo_hits: Counter,
    pub(crate) local_schedules: Counter,
    pub(crate) forced_yields: Counter,
    /// Time awake (not parked), summed at each park.
    busy_ns: Counter,
    /// When the worker last woke (ns since `Stats::epoch`).
    awake_since_ns: Counter,
    pub(crate) hist: Option<Box<Histograms>>,
}

/// One worker's counters as its core holds them: shared with the
/// snapshot side ([`Stats::workers`]), so that the hot increments reach
/// them through one pointer the core already has in cache (no index
/// arithmetic through the handle). A `std` `Arc`: not part of any protocol
/// loom checks.
pub(crate) type WorkerStatsRef = Arc<CachePadded<WorkerStats>>;

/// Every worker's counters plus the few shared ones.
pub(crate) struct Stats {
    pub(crate) workers: Box<[WorkerStatsRef]>,
    /// Tasks queued from off-worker (the injector): shared, `fetch_add`.
    remote_schedules: AtomicU64,
    epoch: Instant,
    histograms: bool,
}

impl Stats {
    pub(crate) fn new(num_workers: usize, histograms: bool) -> Stats {
        let workers = (0..num_workers)
            .map(|_| {
                Arc::new(CachePadded::new(WorkerStats {
                    hist: histograms.then(|| {
                        Box::new(Histograms {
                            poll_time: LiveHistogram::new(),
                            schedule_latency: LiveHistogram::new(),
                            cancel_latency: LiveHistogram::new(),
                        })
                    }),
                    ..WorkerStats::default()
                }))
            })
            .collect();
        Stats {
            workers,
            remote_schedules: AtomicU64::new(0),
            epoch: Instant::now(),
            histograms,
        }
    }

    #[inline]
    pub(crate) fn histograms(&self) -> bool {
        self.histograms
    }

    pub(crate) fn remote_scheduled(&self) {
        // Relaxed: a counter, ordered with nothing.
        self.remote_schedules.fetch_add(1, Relaxed);
    }

    pub(crate) fn remote_schedules(&self) -> u64 {
        self.remote_schedules.load(Relaxed)
    }

    /// A wake stamp for schedule latency: ns since the epoch, plus one so
    /// that 0 means "not stamped".
    pub(crate) fn stamp_now(&self) -> u64 {
        self.ns_since_epoch(Instant::now()) + 1
    }

    /// The time since a [`stamp_now`](Self::stamp_now) stamp.
    pub(crate) fn since_stamp(&self, stamp: u64, now: Instant) -> Duration {
        Duration::from_nanos(self.ns_since_epoch(now).saturating_sub(stamp - 1))
    }

    fn ns_since_epoch(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// The worker `index` is about to sleep: add its awake stretch.
    pub(crate) fn parking(&self, index: usize) {
        let w = &self.workers[index];
        w.parks.inc();
        let now = self.ns_since_epoch(Instant::now());
        w.busy_ns.add(now.saturating_sub(w.awake_since_ns.get()));
        w.awake_since_ns.0.store(now, Relaxed);
    }

    /// The worker `index` woke up (or started).
    pub(crate) fn awake(&self, index: usize, count: bool) {
        let w = &self.workers[index];
        if count {
            w.unparks.inc();
        }
        w.awake_since_ns
            .0
            .store(self.ns_since_epoch(Instant::now()), Relaxed);
    }

    pub(crate) fn worker_snapshot(&self, index: usize, queue_depth: usize) -> WorkerMetrics {
        let w = &self.workers[index];
        WorkerMetrics {
            polls: w.polls.get(),
            parks: w.parks.get(),
            unparks: w.unparks.get(),
            steals: w.steals.get(),
            lifo_hits: w.lifo_hits.get(),
            local_schedules: w.local_schedules.get(),
            forced_yields: w.forced_yields.get(),
            busy: Duration::from_nanos(w.busy_ns.get()),
            local_queue_depth: queue_depth,
            histograms: w.hist.as_ref().map(|h| RuntimeHistograms {
                poll_time: h.poll_time.snapshot(),
                schedule_latency: h.schedule_latency.snapshot(),
                cancel_latency: h.cancel_latency.snapshot(),
            }),
        }
    }
}

std::thread_local! {
    /// The counters of the worker this thread runs (null elsewhere), for
    /// the paths that have no handle at hand (forced yields and cancel
    /// latency, seen from inside a task's poll).
    static WORKER: Cell<*const WorkerStats> = const { Cell::new(std::ptr::null()) };
}

/// Resets the worker pointer when the worker's run loop ends.
pub(crate) struct WorkerGuard(*const WorkerStats);

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        let prev = self.0;
        let _ = WORKER.try_with(|w| w.set(prev));
    }
}

/// Makes `stats` this thread's worker counters until the guard drops. The
/// caller keeps `stats` alive at least as long as the guard (the worker's
/// run loop holds the scheduler handle that owns them).
pub(crate) fn enter_worker(stats: &WorkerStats) -> WorkerGuard {
    WorkerGuard(WORKER.with(|w| w.replace(stats)))
}

/// Calls `f` with this thread's worker counters, if it is a worker.
pub(crate) fn with_worker(f: impl FnOnce(&WorkerStats)) {
    let p = WORKER.try_with(Cell::get).unwrap_or(std::ptr::null());
    if !p.is_null() {
        // SAFETY: a non-null pointer was set by `enter_worker`, whose guard
        // resets it before the worker's run loop (which owns a handle of
        // the stats) returns; only this thread reads it.
        f(unsafe { &*p });
    }
}

/// A task's poll used up its cooperative budget and was made to yield.
pub(crate) fn forced_yield() {
    with_worker(|w| w.forced_yields.inc());
}

/// A task observed its cancel `latency` after it was requested.
pub(crate) fn cancel_observed(latency: Duration) {
    with_worker(|w| {
        if let Some(h) = &w.hist {
            h.cancel_latency.record(latency);
        }
    });
}

/// Whether this thread's worker records histograms (false off-worker).
pub(crate) fn histograms_on() -> bool {
    let mut on = false;
    with_worker(|w| on = w.hist.is_some());
    on
}
