//! `runtime::Builder`: worker count, names, pinning, scheduler knobs.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::Runtime;
use crate::hooks::{Hooks, TaskMeta};
use crate::scheduler::Config;
use crate::task::Id;

/// Configures and builds a [`Runtime`].
///
/// ```
/// let rt = quell_executor::runtime::Builder::new()
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
///
/// Invalid settings are an error from [`build`](Self::build), not a panic:
///
/// ```
/// let err = quell_executor::runtime::Builder::new().worker_threads(0).build().unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// ```
#[derive(Clone)]
pub struct Builder {
    pub(crate) current_thread: bool,
    pub(crate) worker_threads: Option<usize>,
    pub(crate) thread_name: Arc<dyn Fn(usize) -> String + Send + Sync>,
    pub(crate) blocking_name: String,
    pub(crate) pin_workers: bool,
    pub(crate) global_queue_interval: u32,
    pub(crate) lifo_slot: bool,
    pub(crate) max_lifo_polls: u32,
    pub(crate) spin_before_park: u32,
    pub(crate) lifo_steal_after: Duration,
    pub(crate) max_blocking_threads: usize,
    pub(crate) blocking_keep_alive: Duration,
    pub(crate) cancel_binding: bool,
    pub(crate) shutdown_policy: super::ShutdownPolicy,
    pub(crate) metrics_histograms: bool,
    pub(crate) hooks: Hooks,
    #[cfg(not(loom))]
    pub(crate) observe: super::observe::Settings,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// Defaults: one worker per available CPU, names `quell-worker-N`, no
    /// pinning, global queue checked first every 61 ticks, LIFO slot on
    /// with at most 3 consecutive LIFO polls, 16 search rounds before
    /// parking, up to 512 blocking threads retiring after 10 s idle.
    pub fn new() -> Builder {
        Builder {
            current_thread: false,
            worker_threads: None,
            thread_name: Arc::new(|i| format!("quell-worker-{i}")),
            blocking_name: "quell-blocking".to_string(),
            pin_workers: false,
            global_queue_interval: 61,
            lifo_slot: true,
            max_lifo_polls: 3,
            spin_before_park: 1,
            lifo_steal_after: Duration::from_micros(5),
            max_blocking_threads: 512,
            blocking_keep_alive: Duration::from_secs(10),
            cancel_binding: true,
            shutdown_policy: super::ShutdownPolicy::default(),
            metrics_histograms: false,
            hooks: Hooks::default(),
            #[cfg(not(loom))]
            observe: super::observe::Settings::default(),
        }
    }

    /// A builder of the current-thread runtime: no worker threads; the
    /// thread inside `block_on` runs the tasks (see [`Runtime`]'s
    /// "Flavors"). The worker settings (`worker_threads`, pinning, the
    /// LIFO slot, …) do not apply; `worker_threads` is refused by
    /// [`build`](Self::build).
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = quell_executor::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let h = quell_executor::spawn(quell_io_driver::time::sleep(Duration::from_millis(1)));
    ///     h.await.unwrap().unwrap();
    /// });
    /// let err = quell_executor::runtime::Builder::new_current_thread()
    ///     .worker_threads(2)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn new_current_thread() -> Builder {
        Builder {
            current_thread: true,
            ..Builder::new()
        }
    }

    /// Number of worker threads (default: available parallelism). Must be ≥ 1.
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.worker_threads = Some(n);
        self
    }

    /// Base name of worker threads; workers are named `{name}-{index}`,
    /// blocking-pool threads `{name}-blocking-{n}`.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.blocking_name = format!("{name}-blocking");
        self.thread_name = Arc::new(move |i| format!("{name}-{i}"));
        self
    }

    /// Pin worker `i` to CPU `i % ncpus` (Linux `sched_setaffinity`).
    pub fn pin_workers(&mut self, pin: bool) -> &mut Self {
        self.pin_workers = pin;
        self
    }

    /// Every `n` scheduler ticks a worker takes from the global queue
    /// before its local one, so injected tasks cannot starve. Must be ≥ 1.
    pub fn global_queue_interval(&mut self, n: u32) -> &mut Self {
        self.global_queue_interval = n;
        self
    }

    /// Whether a task woken by the running task runs next (LIFO slot).
    pub fn lifo_slot(&mut self, on: bool) -> &mut Self {
        self.lifo_slot = on;
        self
    }

    /// Search rounds a worker makes before parking (0 counts as 1: a worker
    /// always looks once).
    ///
    /// Default 1, one pass as tokio's searchers make: a round tries every
    /// other worker's queue, the injector and the LIFO rescue, and a
    /// searcher watching a LIFO sighting goes on past the budget (steal.rs).
    /// A larger budget catches work that arrives just after a worker ran
    /// dry, but a searcher that keeps spinning takes half of a busy
    /// neighbour's queue on sight, and with it a burst the neighbour would
    /// have run in a few µs (docs/benchmarks.md, "Session 11": a `watch`
    /// send's receivers split across the workers every round, the row
    /// bimodal at 16 rounds, and `chained_spawn` 0.54–0.59× tokio against
    /// 0.94–0.95× at 1). Wake latencies from parked workers do not depend
    /// on it.
    pub fn spin_before_park(&mut self, rounds: u32) -> &mut Self {
        self.spin_before_park = rounds;
        self
    }

    /// Maximum number of `spawn_blocking` threads. Must be ≥ 1.
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before retiring.
    pub fn blocking_keep_alive(&mut self, d: Duration) -> &mut Self {
        self.blocking_keep_alive = d;
        self
    }

    /// The phases of [`Runtime::shutdown`] (and the drain grace of
    /// [`Runtime::shutdown_graceful`]); default: no drain grace, 5 s cancel
    /// grace ([`ShutdownPolicy::default`](super::ShutdownPolicy)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use quell_executor::runtime::{Builder, ShutdownPolicy};
    /// let rt = Builder::new()
    ///     .shutdown_policy(ShutdownPolicy::new(Duration::from_secs(10), Duration::from_secs(2)))
    ///     .build()
    ///     .unwrap();
    /// let report = rt.shutdown();
    /// assert_eq!(report.policy.drain_grace, Duration::from_secs(10));
    /// ```
    pub fn shutdown_policy(&mut self, policy: super::ShutdownPolicy) -> &mut Self {
        self.shutdown_policy = policy;
        self
    }

    /// Records the metrics histograms ([`RuntimeMetrics::histograms`](crate::metrics::RuntimeMetrics::histograms)):
    /// poll time, schedule latency (queued → polled) and cancel latency
    /// (cancel requested → the task observes `Cancelled`). Off by default:
    /// on, every poll reads the clock twice and every wake once.
    ///
    /// ```
    /// let rt = quell_executor::runtime::Builder::new()
    ///     .worker_threads(1)
    ///     .enable_metrics_histograms()
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async { quell_executor::spawn(async {}).await.unwrap() });
    /// let h = rt.handle().metrics().histograms.unwrap();
    /// // Recorded as the poll starts (a poll's time is recorded after it
    /// // ends, which may be just after the join returned).
    /// assert!(h.schedule_latency.count() >= 1);
    /// ```
    pub fn enable_metrics_histograms(&mut self) -> &mut Self {
        self.metrics_histograms = true;
        self
    }

    /// Runs `f` on every runtime thread (workers and blocking-pool
    /// threads) when it starts, before it runs any task. A panic of `f` is
    /// contained (see [`on_task_spawn`](Self::on_task_spawn)).
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.hooks.thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on every runtime thread as it exits (after its last task).
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.hooks.thread_stop = Some(Arc::new(f));
        self
    }

    /// Runs `f` for every async task spawned, on the spawning thread,
    /// before the task can first be polled: the place to capture the
    /// spawner's context (a `tracing` span, docs/observability.md).
    ///
    /// Every hook's panic is caught: the runtime carries on, the first
    /// panic of each hook is reported on stderr once, and the hook keeps
    /// being called.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let s = seen.clone();
    /// let rt = quell_executor::runtime::Builder::new()
    ///     .worker_threads(1)
    ///     .on_task_spawn(move |t| s.lock().unwrap().push(t.name().map(str::to_owned)))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     quell_executor::task::SpawnBuilder::new().name("job").spawn(async {}).await.unwrap()
    /// });
    /// assert_eq!(*seen.lock().unwrap(), vec![Some("job".to_string())]);
    /// ```
    pub fn on_task_spawn(
        &mut self,
        f: impl Fn(&TaskMeta<'_>) + Send + Sync + 'static,
    ) -> &mut Self {
        self.hooks.task_spawn = Some(Arc::new(f));
        self
    }

    /// Runs `f` when an async task terminates (completes, panics, or is
    /// aborted or shut down), on the thread that finishes it, after its
    /// future was dropped and before its `JoinHandle` can see the output.
    pub fn on_task_terminate(
        &mut self,
        f: impl Fn(&TaskMeta<'_>) + Send + Sync + 'static,
    ) -> &mut Self {
        self.hooks.task_terminate = Some(Arc::new(f));
        self
    }

    /// Runs `f` with the task's id on the worker just before each poll.
    pub fn before_poll(&mut self, f: impl Fn(Id) + Send + Sync + 'static) -> &mut Self {
        self.hooks.before_poll = Some(Arc::new(f));
        self
    }

    /// Runs `f` with the task's id on the worker just after each poll
    /// (the task may have completed; its id is still the one polled). For
    /// the poll that completes a task this may run after the task's join
    /// returned (the join is woken inside the poll).
    pub fn after_poll(&mut self, f: impl Fn(Id) + Send + Sync + 'static) -> &mut Self {
        self.hooks.after_poll = Some(Arc::new(f));
        self
    }

    /// Turns on the **leak watchdog**: every task (async or blocking) still
    /// alive `threshold` after its cancel scope was cancelled — by its
    /// handle, its token or an ancestor, a deadline, a group, shutdown — is
    /// reported **once**: to the [`on_leak`](Self::on_leak) callback if one
    /// is set, else as one line on stderr (the [`Leak`](super::Leak)'s
    /// `Display`: the task's dump entry and how long since its cancel).
    ///
    /// Off by default, and then it costs nothing. On, it is one thread
    /// (`quell-watchdog`) that sleeps between rounds: it looks at the live
    /// tasks every `threshold / 2` (at least every 5 s, at most every
    /// 10 ms), and sleeps until the exact due time of a cancelled task it
    /// knows of. A report therefore comes between `threshold` and
    /// `threshold` plus one such interval after the cancel. The thread
    /// stops at shutdown and never keeps the runtime alive. A threshold
    /// too large to add to an instant is accepted and never comes due.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) refuses a zero threshold (`InvalidInput`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use quell_cancel::Cause;
    ///
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let rt = quell_executor::runtime::Builder::new()
    ///     .worker_threads(1)
    ///     .leak_watchdog(Duration::from_millis(20))
    ///     .on_leak(move |leak| tx.send(leak.task.id).unwrap())
    ///     .build()
    ///     .unwrap();
    /// // Ignores its cancel: parked on a future quell does not own.
    /// let stubborn = rt.spawn(std::future::pending::<()>());
    /// stubborn.cancel(Cause::explicit("stop"));
    /// let reported = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    /// assert_eq!(reported, stubborn.id());
    ///
    /// let err = quell_executor::runtime::Builder::new()
    ///     .leak_watchdog(Duration::ZERO)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    #[cfg(not(loom))]
    pub fn leak_watchdog(&mut self, threshold: Duration) -> &mut Self {
        self.observe.leak_threshold = Some(threshold);
        self
    }

    /// The leak watchdog's callback: called with each [`Leak`](super::Leak),
    /// once per task, on the watchdog's thread, instead of the default
    /// stderr line. A panic of `f` is contained like a hook's
    /// ([`on_task_spawn`](Self::on_task_spawn)). Keep it short: the
    /// runtime's shutdown joins the watchdog thread, so it waits for a call
    /// in progress. Needs
    /// [`leak_watchdog`](Self::leak_watchdog); without it
    /// [`build`](Self::build) answers `InvalidInput`.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    ///
    /// // Collect the leaks (say, for a metrics counter or a log) instead
    /// // of the stderr line.
    /// let leaks = Arc::new(Mutex::new(Vec::new()));
    /// let l = leaks.clone();
    /// let rt = quell_executor::runtime::Builder::new()
    ///     .leak_watchdog(Duration::from_millis(20))
    ///     .on_leak(move |leak| l.lock().unwrap().push(leak.to_string()))
    ///     .build()
    ///     .unwrap();
    /// let h = rt.spawn(std::future::pending::<()>());
    /// h.cancel(quell_cancel::Cause::explicit("stop"));
    /// while leaks.lock().unwrap().is_empty() {
    ///     std::thread::yield_now();
    /// }
    /// assert!(leaks.lock().unwrap()[0].starts_with("quell: leak watchdog: task"));
    ///
    /// let err = quell_executor::runtime::Builder::new().on_leak(|_| {}).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    #[cfg(not(loom))]
    pub fn on_leak(&mut self, f: impl Fn(&super::Leak) + Send + Sync + 'static) -> &mut Self {
        self.observe.on_leak = Some(Arc::new(f));
        self
    }

    /// Writes the task dump ([`Handle::dump`](super::Handle::dump)) to
    /// stderr each time `signal` is delivered to the process; the process
    /// carries on. Usual choices: `SIGQUIT` (Ctrl-\\, like a JVM's thread
    /// dump) or `SIGUSR1`. Call it again to listen for more signals (the
    /// same signal twice is listened for once).
    ///
    /// A thread (`quell-signal`) listens, so the dump comes even when every
    /// worker is stuck in a busy task; it stops at shutdown. As for any
    /// signal quell listens for ([`quell_io_driver::signal`]), the
    /// signal's default action is replaced for the rest of the process's
    /// life: after this, `SIGQUIT` no longer kills the process. Several
    /// runtimes listening for the same signal each write their dump.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) refuses a signal that cannot be handled
    /// (`SIGKILL`, `SIGSEGV`, …, or not a signal number) with
    /// `InvalidInput`, and passes on the errors of installing the handler
    /// and starting the thread.
    ///
    /// ```
    /// use quell_io_driver::signal::SignalKind;
    ///
    /// let rt = quell_executor::runtime::Builder::new()
    ///     .worker_threads(1)
    ///     .dump_on_signal(SignalKind::user_defined2())
    ///     .build()
    ///     .unwrap();
    /// // `kill -USR2 <pid>` now writes the dump to stderr.
    /// drop(rt);
    ///
    /// let err = quell_executor::runtime::Builder::new()
    ///     .dump_on_signal(SignalKind::from_raw(libc::SIGKILL))
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    #[cfg(not(loom))]
    pub fn dump_on_signal(&mut self, signal: quell_io_driver::signal::SignalKind) -> &mut Self {
        if !self.observe.dump_signals.contains(&signal) {
            self.observe.dump_signals.push(signal);
        }
        self
    }

    /// Measurement switch: `false` spawns tasks without a cancel token
    /// binding (no token clone, no registration), to measure what the
    /// binding costs. Tasks then do not observe token cancellation.
    #[cfg(feature = "test-util")]
    pub fn cancel_binding(&mut self, on: bool) -> &mut Self {
        self.cancel_binding = on;
        self
    }

    pub(crate) fn config(&self) -> Config {
        Config {
            global_queue_interval: self.global_queue_interval,
            lifo_slot: self.lifo_slot,
            max_lifo_polls: self.max_lifo_polls,
            spin_before_park: self.spin_before_park,
            lifo_steal_after: self.lifo_steal_after,
            event_interval: 61,
        }
    }

    fn validate(&self) -> io::Result<usize> {
        let invalid = |msg: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, msg.to_string()));
        if self.current_thread && self.worker_threads.is_some() {
            return invalid(
                "worker_threads does not apply to a current-thread runtime \
                 (its one worker is the thread inside block_on)",
            );
        }
        let workers = self.worker_threads.unwrap_or_else(crate::loom::num_cpus);
        if workers == 0 {
            return invalid("worker_threads must be at least 1");
        }
        if workers > 4096 {
            return invalid("worker_threads must be at most 4096");
        }
        if self.global_queue_interval == 0 {
            return invalid("global_queue_interval must be at least 1");
        }
        if self.max_blocking_threads == 0 {
            return invalid("max_blocking_threads must be at least 1");
        }
        #[cfg(not(loom))]
        if let Err(msg) = self.observe.validate() {
            return invalid(msg);
        }
        Ok(workers)
    }

    /// Builds the runtime: validates the settings and starts the workers.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for invalid settings (0 workers, interval 0, …), or
    /// the OS error if a worker thread cannot be started.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let workers = self.validate()?;
        #[allow(unused_mut)] // set below unless under loom
        let mut rt = if self.current_thread {
            super::current_thread::start(self)?
        } else {
            Runtime::start(self, workers)?
        };
        // On error `rt` drops here: its workers are stopped and joined.
        #[cfg(not(loom))]
        {
            rt.observers = super::observe::Observers::start(&self.observe, rt.handle())?;
        }
        Ok(rt)
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("current_thread", &self.current_thread)
            .field("worker_threads", &self.worker_threads)
            .field("pin_workers", &self.pin_workers)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("lifo_slot", &self.lifo_slot)
            .field("spin_before_park", &self.spin_before_park)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("metrics_histograms", &self.metrics_histograms)
            .field("hooks", &self.hooks)
            .finish_non_exhaustive()
    }
}
