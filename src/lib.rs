#![doc = include_str!("../README.md")]
//!
//! # Crates
//!
//! * [`cancel`]: the token tree, causes, `Cancelled`, `checkpoint`, `shield`,
//!   and deadline scopes (`with_timeout`, `with_deadline`).
//! * [`time`]: `sleep`, `timeout`, `interval` on the hierarchical timer wheel.
//! * [`runtime`], [`task`]: the executor (re-exported from `quell-executor`),
//!   with [`task_local!`] for values scoped to a future, and the
//!   [`macro@main`] / [`macro@test`] attributes that run an `async fn` on a
//!   fresh runtime.
//! * [`net`]: TCP, UDP and Unix sockets; every wait is a cancel point.
//! * [`signal`]: `ctrl_c`, signal streams, and `cancel_on`, which cancels a
//!   token when a signal arrives (from `quell-io-driver`).
//! * [`sync`]: cancel-aware `oneshot`, `mpsc` (bounded, rendezvous,
//!   unbounded), `watch`, `broadcast`, `Notify`, `Semaphore`, `Mutex`,
//!   `RwLock`, `Barrier`.
//!
//! # Two builders, two names
//!
//! The runtime builder is [`runtime::Builder`] (workers, names, pinning,
//! the blocking pool) and the task builder is [`task::SpawnBuilder`]
//! (a task's name, its cancel token, detached). Neither is re-exported at
//! the crate root, so a bare `quell::Builder` does not exist and the two
//! can be imported side by side without renaming:
//!
//! ```
//! use quell::runtime::Builder;
//! use quell::task::SpawnBuilder;
//!
//! let rt = Builder::new().worker_threads(2).build()?;
//! let h = SpawnBuilder::new().name("greeter").spawn_on(async { "hi" }, rt.handle());
//! assert_eq!(rt.block_on(h).unwrap(), "hi");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Under `--cfg loom`
//!
//! Built with `RUSTFLAGS="--cfg loom"`, quell compiles its concurrency
//! code against [loom](https://docs.rs/loom) so that users can model-check
//! their own cancel races. Then only what works without a runtime is
//! there: [`cancel`] (the token tree, causes, `Cancelled`, `checkpoint`,
//! `shield`, `CancellableExt`, `with_token` — but not the deadline scopes,
//! which need the driver's timers) and [`sync`]. `runtime`, `task`,
//! `spawn`, `net`, `time` and `signal` are compiled out: a loom model runs
//! futures with `loom::future::block_on` on `loom::thread`s, and
//! [`cancel::with_token`] puts each future under a cancel token.
//! docs/loom.md shows the set-up and a worked example.

/// Cancellation: the token tree, causes, `Cancelled`, `checkpoint`,
/// `shield` (all of `quell-cancel`), plus the deadline scopes
/// [`with_timeout`](cancel::with_timeout) and
/// [`with_deadline`](cancel::with_deadline), which put a deadline on the
/// cancel tree (they live in `quell-io-driver`, which owns the timers).
///
/// A deadline set by an outer scope reaches everything inside, including
/// tasks spawned there; the inner await points answer `Cancelled` with
/// cause `DeadlineExceeded`, and the code decides what to do. A future
/// that ignores the cancel (one awaiting something quell does not own) is
/// cut off a short grace after the deadline, and the scope says so by its
/// type: `Ok` finished, `Err` cut off.
///
/// ```
/// use std::time::Duration;
/// use quell::cancel::{self, with_timeout, CauseKind};
///
/// let rt = quell::Runtime::new().unwrap();
/// let finished = rt.block_on(with_timeout(Duration::from_millis(20), async {
///     assert!(cancel::current().deadline().is_some());
///     let worker = quell::spawn(quell::time::sleep(Duration::from_secs(3600)));
///     let err = worker.await.unwrap().unwrap_err(); // cancelled by the deadline
///     err.cause().kind().clone()
/// }));
/// assert_eq!(finished.unwrap(), CauseKind::DeadlineExceeded);
///
/// // A future quell does not own never answers `Cancelled`: cut off.
/// let cut = rt.block_on(with_timeout(
///     Duration::from_millis(20),
///     std::future::pending::<()>(),
/// ));
/// assert_eq!(cut.unwrap_err().cause().kind(), &CauseKind::DeadlineExceeded);
/// ```
///
/// Under `--cfg loom` the deadline scopes are compiled out (they need the
/// driver's timer wheel, and a loom model has no runtime); the rest is
/// there and loom-aware (docs/loom.md).
///
/// # Not here: the runtime's seams
///
/// Which task a thread is polling (the context the executor enters around
/// each poll) and the cooperative budget are the runtime's business: code
/// that could enter the context could make [`current`](cancel::current)
/// answer with a token of its choosing, and code that could refill the
/// budget could monopolise a worker. Neither is reachable from `quell`:
///
/// ```compile_fail
/// use quell::cancel::context::enter; // no `context` module: not re-exported
/// ```
///
/// ```compile_fail
/// struct Fake(quell::cancel::CancelToken);
/// impl quell::cancel::TaskCancel for Fake { // no such trait
///     fn token(&self) -> &quell::cancel::CancelToken { &self.0 }
/// }
/// ```
///
/// ```compile_fail
/// let token = quell::cancel::CancelToken::new();
/// quell::cancel::enter_scope(&token, || ()); // no such function
/// ```
///
/// ```compile_fail
/// let _ = quell::cancel::BUDGET; // the budget is not in the cancel API
/// ```
///
/// ```compile_fail
/// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// let _ = quell::cancel::poll_proceed(&mut cx);
/// ```
///
/// What a task *can* do with its own cancellation is here: read it
/// ([`current`](cancel::current), [`checkpoint`](cancel::checkpoint)), hide
/// it from a cleanup section ([`shield`](cancel::shield)), or run a future
/// under a token of its own ([`with_token`](cancel::with_token), a deadline
/// scope), which narrows the scope and never widens it.
pub mod cancel {
    // Explicit, never a glob: quell-cancel's runtime seams (entering a
    // task context, the waiter lists) stay in its hidden `rt_internal`.
    pub use quell_cancel::{
        checkpoint, current, draining, is_cancelled, is_draining, shield, with_token, CancelToken,
        Cancellable, CancellableExt, Cancelled, Cause, CauseKind, Checkpoint, DropGuard, Shield,
        WaitForCancel, WaitForDrain, WaiterKey, WithToken,
    };
    #[cfg(not(loom))]
    pub use quell_io_driver::time::{with_deadline, with_timeout, DeadlineScope, DEFAULT_GRACE};
}
pub use quell_executor::sync;
/// Declares task-local values ([`task::LocalKey`]): a value given to a
/// future by [`LocalKey::scope`](task::LocalKey::scope), seen across its
/// await points and by no other task (from `quell-executor`; the
/// `task::LocalKey` docs say how it is kept apart).
///
/// ```
/// quell::task_local! {
///     static REQUEST_ID: u64;
/// }
///
/// let rt = quell::Runtime::new().unwrap();
/// rt.block_on(REQUEST_ID.scope(42, async {
///     quell::task::yield_now().await;
///     assert_eq!(REQUEST_ID.get(), 42);
///     // A spawned task is a new future: it does not inherit the value.
///     let child = quell::spawn(async { REQUEST_ID.try_with(|id| *id).is_err() });
///     assert!(child.await.unwrap());
/// }));
/// ```
#[cfg(not(loom))]
pub use quell_executor::task_local;

/// Runs an `async fn main` on a fresh multi-thread runtime, shut down when
/// `main` returns (from `quell-macros`). `worker_threads = N` sets the
/// worker count; `flavor = "multi_thread"` is the default, and
/// `flavor = "current_thread"` runs it on a current-thread runtime (no
/// worker threads: `main`'s own thread runs every task, and
/// [`task::spawn_local`] works in it). The return type is whatever the
/// `async fn` declares.
///
/// ```
/// #[quell::main(worker_threads = 2)]
/// async fn main() -> Result<(), std::io::Error> {
///     assert_eq!(quell::Handle::current().num_workers(), 2);
///     let answer = quell::spawn(async { 6 * 7 }).await.unwrap();
///     assert_eq!(answer, 42);
///     quell::time::sleep(std::time::Duration::from_millis(1)).await?;
///     Ok(())
/// }
/// ```
///
/// Only an `async fn` (without generics or parameters) is accepted:
///
/// ```compile_fail
/// #[quell::main]
/// fn main() {}
/// ```
///
/// and only the arguments above:
///
/// ```compile_fail
/// #[quell::main(threads = 4)] // unknown argument `threads`
/// async fn main() {}
/// ```
///
/// ```
/// #[quell::main(flavor = "current_thread")]
/// async fn main() {
///     assert_eq!(quell::Handle::current().num_workers(), 0);
///     let not_send = std::rc::Rc::new(41);
///     let n = quell::task::spawn_local(async move { *not_send + 1 }).await.unwrap();
///     assert_eq!(n, 42);
/// }
/// ```
///
/// ```compile_fail
/// #[quell::main(flavor = "current_thread", worker_threads = 2)] // no workers
/// async fn main() {}
/// ```
#[cfg(not(loom))]
pub use quell_macros::main;
/// Runs an `async fn` test on its own fresh multi-thread runtime (from
/// `quell-macros`): every test builds a runtime and shuts it down when it
/// returns, so tests do not share workers, tasks or a root token. The
/// arguments are those of [`macro@main`]; a test may return `Result`.
///
/// ```no_run
/// #[quell::test(worker_threads = 1)]
/// async fn reads_config() -> Result<(), std::io::Error> {
///     let n = quell::task::spawn_blocking(|| 3).await.unwrap();
///     assert_eq!(n, 3);
///     Ok(())
/// }
/// ```
///
/// ```compile_fail
/// #[quell::test]
/// fn not_async() {}
/// ```
///
/// ```compile_fail
/// #[quell::test(workers = 2)] // unknown argument `workers`
/// async fn unknown_argument() {}
/// ```
///
/// It adds `#[test]` itself, so a second one is refused:
///
/// ```compile_fail
/// #[quell::test]
/// #[test]
/// async fn twice() {}
/// ```
#[cfg(not(loom))]
pub use quell_macros::test;

/// What the expansions of [`macro@main`] and [`macro@test`] call.
/// **Not API**: hidden from the docs, and it may change in any release.
#[doc(hidden)]
#[cfg(not(loom))]
pub mod __private {
    use std::future::Future;

    /// Builds a runtime (`worker_threads` workers, or the default), runs
    /// `fut` on it, and shuts it down.
    pub fn block_on<F: Future>(worker_threads: Option<usize>, fut: F) -> F::Output {
        let mut builder = crate::runtime::Builder::new();
        if let Some(n) = worker_threads {
            builder.worker_threads(n);
        }
        let rt = builder
            .build()
            .expect("#[quell::main] / #[quell::test]: failed to build the runtime");
        rt.block_on(fut)
    }

    /// Builds a current-thread runtime, runs `fut` on it, and shuts it down.
    pub fn block_on_current_thread<F: Future>(fut: F) -> F::Output {
        let rt = crate::runtime::Builder::new_current_thread()
            .build()
            .expect("#[quell::main] / #[quell::test]: failed to build the runtime");
        rt.block_on(fut)
    }
}
#[cfg(not(loom))]
pub use quell_executor::{runtime, spawn, task, Handle, JoinError, JoinHandle, Runtime};
/// Runtime metrics: the [`RuntimeMetrics`](metrics::RuntimeMetrics)
/// snapshot that [`Handle::metrics`] returns, with per-worker counters and
/// the opt-in histograms (docs/observability.md).
pub mod metrics {
    pub use quell_executor::metrics::{
        Histogram, HistogramBucket, RuntimeHistograms, RuntimeMetrics, WorkerMetrics,
    };
}
/// Networking: TCP, UDP and Unix sockets whose every wait is a cancel
/// point (from `quell-io-driver`; the module docs list what each await
/// point does on cancel).
///
/// Besides the waiting calls: `ready`/`readable`/`writable` and `try_*`
/// on `&self` (share a stream in an `Arc`), `read_exact`/`write_all`
/// whose error ([`net::Partial`]) counts the bytes moved, reads into
/// uninitialised memory (`read_buf`, `read_uninit`), borrowed `split`,
/// [`net::TcpSocket`], [`net::UnixDatagram`], and [`net::lookup_host`]:
/// host names are resolved on the runtime's blocking pool (the wait is a
/// cancel point), IP literals in place. With the `tokio-io` feature the
/// streams also implement `tokio::io::AsyncRead`/`AsyncWrite`.
///
/// A stream shared in an `Arc`, tokio-style:
///
/// ```
/// use std::sync::Arc;
/// use quell::net::{TcpListener, TcpStream};
///
/// let rt = quell::Runtime::new()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut peer = TcpStream::connect(listener.local_addr()?).await?;
///     let conn = Arc::new(listener.accept().await?.0);
///     let reader = conn.clone();
///     let task = quell::spawn(async move {
///         let mut buf = [0; 4];
///         loop {
///             reader.readable().await?;
///             match reader.try_read(&mut buf) {
///                 Ok(n) => return Ok::<_, std::io::Error>(buf[..n].to_vec()),
///                 Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
///                 Err(e) => return Err(e),
///             }
///         }
///     });
///     peer.write_all(b"ping").await?;
///     let got = task.await.unwrap()?;
///     assert!(b"ping".starts_with(&got) && !got.is_empty());
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// A reader parked on a silent peer is cancelled through its
/// `JoinHandle`, gets `Cancelled` with the cause, and the socket stays
/// open for a shielded goodbye:
///
/// ```
/// use quell::cancel::{shield, Cancelled, Cause};
/// use quell::net::{TcpListener, TcpStream};
///
/// let rt = quell::Runtime::new()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut peer = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut conn, _) = listener.accept().await?;
///
///     let (parked_tx, parked_rx) = std::sync::mpsc::channel();
///     let reader = quell::spawn(async move {
///         let mut buf = [0; 16];
///         parked_tx.send(()).unwrap();
///         let err = conn.read(&mut buf).await.unwrap_err(); // the peer is silent
///         let cause = Cancelled::from_io(&err).unwrap().cause().clone();
///         // Cleanup on the same, still open, socket.
///         shield(conn.write_all(b"bye")).await.unwrap();
///         cause
///     });
///     parked_rx.recv().unwrap();
///     reader.cancel(Cause::explicit("client timed out"));
///     let cause = reader.await.unwrap();
///     assert_eq!(cause.message(), Some("client timed out"));
///
///     let mut buf = [0; 3];
///     let mut got = 0;
///     while got < 3 {
///         got += peer.read(&mut buf[got..]).await?;
///     }
///     assert_eq!(&buf, b"bye");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(not(loom))]
pub use quell_io_driver::net;
/// Unix signals: [`signal::signal`] streams, [`signal::ctrl_c`], and
/// [`signal::cancel_on`], which cancels a token when a signal arrives
/// (from `quell-io-driver`; the module docs explain the delivery path and
/// why a signal's handler stays installed once it was listened for).
///
/// A signal stream, and tasks stopped by a signal with it as the cause:
///
/// ```
/// use quell::cancel::{CancelToken, CancellableExt, CauseKind};
/// use quell::signal::{self, SignalKind};
///
/// let rt = quell::Runtime::new()?;
/// rt.block_on(async {
///     let mut hup = signal::signal(SignalKind::hangup())?;
///     // What `kill -HUP <pid>` would do. SAFETY: raise(3) has no
///     // preconditions; SIGHUP is handled now, so it does not kill us.
///     unsafe { libc::raise(libc::SIGHUP) };
///     hup.recv().await // "reload the configuration"
/// })?;
///
/// let token = CancelToken::new();
/// let _guard = signal::cancel_on([SignalKind::user_defined1()], &token)?;
/// let worker = quell::task::SpawnBuilder::new()
///     .token(token.child())
///     .spawn_on(std::future::pending::<()>().cancellable(), rt.handle());
/// // SAFETY: as above, SIGUSR1 is handled by `cancel_on`.
/// unsafe { libc::raise(libc::SIGUSR1) };
/// let cancelled = rt.block_on(worker).unwrap().unwrap_err();
/// assert_eq!(cancelled.cause().kind(), &CauseKind::Signal(libc::SIGUSR1));
/// assert_eq!(
///     cancelled.to_string(),
///     format!("cancelled: signal {} (inherited from an ancestor scope)", libc::SIGUSR1),
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(not(loom))]
pub use quell_io_driver::signal;
/// Time: `sleep`, `timeout`, `interval` on the driver's hierarchical timer
/// wheel, and deadline scopes (from `quell-io-driver`; the module docs show
/// the wheel's layout). A sleep is a cancel point:
///
/// ```
/// use std::time::{Duration, Instant};
/// use quell::cancel::{Cause, CauseKind};
///
/// let rt = quell::Runtime::new().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     quell::time::sleep(Duration::from_millis(5)).await.unwrap();
///     assert!(start.elapsed() >= Duration::from_millis(5));
///
///     let (tx, rx) = std::sync::mpsc::channel();
///     let sleeper = quell::spawn(async move {
///         tx.send(()).unwrap();
///         quell::time::sleep(Duration::from_secs(3600)).await
///     });
///     rx.recv().unwrap();
///     sleeper.cancel(Cause::explicit("not needed"));
///     let err = sleeper.await.unwrap().unwrap_err(); // at once, not in an hour
///     assert_eq!(err.cause().kind(), &CauseKind::Explicit);
///
///     let late = quell::time::timeout(Duration::from_millis(1), std::future::pending::<()>());
///     assert!(late.await.is_err());
/// });
/// ```
#[cfg(not(loom))]
pub use quell_io_driver::time;

/// Long-form guides, with runnable examples.
pub mod guide {
    /// Cancellation semantics (docs/cancellation.md).
    #[doc = include_str!("../docs/cancellation.md")]
    pub mod cancellation {}
    /// Porting from tokio: the API map and every semantic difference
    /// (docs/from-tokio.md).
    #[cfg(not(loom))]
    #[doc = include_str!("../docs/from-tokio.md")]
    pub mod from_tokio {}
    /// Metrics and runtime hooks (docs/observability.md).
    #[doc = include_str!("../docs/observability.md")]
    pub mod observability {}
}
