//! The metrics snapshot types: plain data, taken by `Handle::metrics`.

use std::time::Duration;

use super::Histogram;

/// A snapshot of a runtime's metrics ([`Handle::metrics`](crate::Handle::metrics)).
///
/// Counters count from the runtime's start and only grow; depths and
/// counts of live things are as of the snapshot. Each number is read on
/// its own (`Relaxed`), so the set is not taken at one instant.
///
/// ```
/// let rt = quell_executor::runtime::Builder::new().worker_threads(2).build().unwrap();
/// rt.block_on(async { quell_executor::spawn(async {}).await.unwrap() });
/// let m = rt.handle().metrics();
/// assert_eq!(m.workers, 2);
/// assert!(m.total_polls() >= 1);
/// assert!(m.histograms.is_none()); // opt-in: Builder::enable_metrics_histograms
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Number of worker threads.
    pub workers: usize,
    /// Live async tasks (spawned, not yet completed).
    pub alive_tasks: usize,
    /// Tasks waiting in the global (injection) queue.
    pub global_queue_depth: usize,
    /// Tasks queued from outside a worker (through the global queue),
    /// since start. Local schedules are counted per worker.
    pub remote_schedules: u64,
    /// One entry per worker, by index.
    pub worker: Vec<WorkerMetrics>,
    /// Threads of the blocking pool (running a closure or idle).
    pub blocking_threads: usize,
    /// Of those, idle ones waiting for work.
    pub blocking_idle_threads: usize,
    /// `spawn_blocking` closures queued, not yet started.
    pub blocking_queue_depth: usize,
    /// I/O sources registered with the driver.
    pub io_sources: usize,
    /// Turns of the I/O driver (waits for events, blocking or not; a
    /// non-blocking turn with no source registered only fires timers).
    pub io_driver_turns: u64,
    /// I/O readiness events those turns dispatched (so events per turn is
    /// `io_events / io_driver_turns`).
    pub io_events: u64,
    /// Timers armed in the driver's wheel (sleeps, timeouts, deadlines).
    pub active_timers: usize,
    /// The workers' histograms summed, if enabled on the builder.
    pub histograms: Option<RuntimeHistograms>,
}

/// One worker's counters (see [`RuntimeMetrics::worker`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Task polls run by this worker.
    pub polls: u64,
    /// Times it went to sleep (each wait on its parker or in the driver).
    pub parks: u64,
    /// Times it woke from a sleep.
    pub unparks: u64,
    /// Successful steals: batches taken from another worker's queue, and
    /// tasks rescued from another worker's LIFO slot.
    pub steals: u64,
    /// Tasks it ran from its own LIFO slot (woken by the task it ran just
    /// before: the message-passing fast path).
    pub lifo_hits: u64,
    /// Tasks queued on this worker by code running on it (wakes, spawns,
    /// yields). Remote schedules are [`RuntimeMetrics::remote_schedules`].
    pub local_schedules: u64,
    /// Polls that used up the cooperative budget and were made to yield.
    pub forced_yields: u64,
    /// Time awake (running, searching, turning the driver), summed each
    /// time the worker parks: the stretch in progress is not included.
    pub busy: Duration,
    /// Tasks in its local queue as of the snapshot.
    pub local_queue_depth: usize,
    /// This worker's histograms, if enabled.
    pub histograms: Option<RuntimeHistograms>,
}

/// The opt-in histograms ([`Builder::enable_metrics_histograms`](crate::runtime::Builder::enable_metrics_histograms)).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RuntimeHistograms {
    /// How long each poll of a task ran.
    pub poll_time: Histogram,
    /// From a task being queued (woken, spawned, yielded) to its poll
    /// starting.
    pub schedule_latency: Histogram,
    /// From a cancel being requested (the originating `cancel` of the
    /// task's scope or an ancestor, or the deadline firing) to the task
    /// first observing `Cancelled` at an await point: one sample per task
    /// that observes its cancel.
    pub cancel_latency: Histogram,
}

impl RuntimeHistograms {
    fn merge(&mut self, other: &RuntimeHistograms) {
        self.poll_time.merge(&other.poll_time);
        self.schedule_latency.merge(&other.schedule_latency);
        self.cancel_latency.merge(&other.cancel_latency);
    }

    pub(crate) fn sum<'a>(it: impl Iterator<Item = &'a RuntimeHistograms>) -> RuntimeHistograms {
        let mut total = RuntimeHistograms::default();
        for h in it {
            total.merge(h);
        }
        total
    }
}

impl RuntimeMetrics {
    /// Polls summed over the workers.
    pub fn total_polls(&self) -> u64 {
        self.worker.iter().map(|w| w.polls).sum()
    }

    /// Steals summed over the workers.
    pub fn total_steals(&self) -> u64 {
        self.worker.iter().map(|w| w.steals).sum()
    }

    /// Forced yields summed over the workers.
    pub fn total_forced_yields(&self) -> u64 {
        self.worker.iter().map(|w| w.forced_yields).sum()
    }
}
