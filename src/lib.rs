#![doc = include_str!("../README.md")]
//!
//! # Crates
//!
//! * [`cancel`]: the token tree, causes, `Cancelled`, `checkpoint`, `shield`,
//!   and deadline scopes (`with_timeout`, `with_deadline`).
//! * [`time`]: `sleep`, `timeout`, `interval` on the hierarchical timer wheel.
//! * [`runtime`], [`task`]: the executor (re-exported from `quell-executor`).
//! * [`net`]: TCP, UDP and Unix sockets; every wait is a cancel point.
//! * [`signal`]: `ctrl_c`, signal streams, and `cancel_on`, which cancels a
//!   token when a signal arrives (from `quell-io-driver`).
//! * [`sync`]: cancel-aware `oneshot`, `mpsc` (bounded, rendezvous,
//!   unbounded), `watch`, `broadcast`, `Notify`, `Semaphore`, `Mutex`,
//!   `RwLock`, `Barrier`.
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
pub mod cancel {
    pub use quell_cancel::*;
    #[cfg(not(loom))]
    pub use quell_io_driver::time::{with_deadline, with_timeout, DeadlineScope};
}
pub use quell_executor::sync;
#[cfg(not(loom))]
pub use quell_executor::{runtime, spawn, task, Builder, Handle, JoinError, JoinHandle, Runtime};
/// Networking: TCP, UDP and Unix sockets whose every wait is a cancel
/// point (from `quell-io-driver`; the module docs list what each await
/// point does on cancel).
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
/// let worker = quell::task::Builder::new()
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
}
