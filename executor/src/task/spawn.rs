//! `spawn`, `spawn_blocking` and `task::SpawnBuilder`: the public spawn API.

use std::future::Future;
use std::panic::Location;

use quell_cancel::CancelToken;

use super::JoinHandle;
use crate::runtime::{context, Handle, TokenChoice};

/// Spawns a task on the current runtime. The task runs under the spawner's
/// cancel token (the runtime's root token when spawned from `block_on`).
///
/// ```
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let h = quell_executor::spawn(async { "hello" });
///     assert_eq!(h.await.unwrap(), "hello");
/// });
/// ```
///
/// # Panics
///
/// Outside a runtime (no task, `block_on` or blocking-pool thread here).
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let loc = Location::caller();
    context::with_current(move |h| match h {
        Some(h) => h.spawn_with(future, None, TokenChoice::Inherit, loc),
        None => panic!(
            "`spawn` called outside a quell runtime: use `Runtime::spawn` or `Handle::spawn`"
        ),
    })
}

/// Runs a blocking closure on the runtime's blocking pool. Inside it,
/// `quell_cancel::current()` is the spawner's token, so long-running
/// blocking work can poll `is_cancelled()`.
///
/// ```
/// let rt = quell_executor::Runtime::new().unwrap();
/// let n = rt.block_on(async {
///     quell_executor::task::spawn_blocking(|| (1..=10).sum::<u32>()).await.unwrap()
/// });
/// assert_eq!(n, 55);
/// ```
///
/// # Panics
///
/// Outside a runtime.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Handle::current().spawn_blocking(f)
}

/// Spawns with options: a name, an explicit cancel token, or detached.
///
/// ```
/// use quell_cancel::{CancelToken, Cause};
/// let rt = quell_executor::Runtime::new().unwrap();
/// let token = CancelToken::new();
/// let h = quell_executor::task::SpawnBuilder::new()
///     .name("worker")
///     .token(token.clone())
///     .spawn_on(async { quell_cancel::current().is_cancelled() }, rt.handle());
/// assert!(!rt.block_on(h).unwrap());
/// ```
#[derive(Debug, Default)]
pub struct SpawnBuilder<'a> {
    name: Option<&'a str>,
    token: Option<CancelToken>,
    detached: bool,
    interruptible: bool,
}

impl<'a> SpawnBuilder<'a> {
    /// Default options: no name, inherit the spawner's token.
    pub fn new() -> SpawnBuilder<'a> {
        SpawnBuilder::default()
    }

    /// A name, shown in task listings and shutdown reports.
    pub fn name(mut self, name: &'a str) -> Self {
        self.name = Some(name);
        self
    }

    /// Run under `token` instead of the spawner's.
    pub fn token(mut self, token: CancelToken) -> Self {
        self.token = Some(token);
        self.detached = false;
        self
    }

    /// Run under a fresh root token: no existing cancellation reaches it
    /// (only `JoinHandle::cancel`/`abort` and shutdown do).
    pub fn detached(mut self) -> Self {
        self.token = None;
        self.detached = true;
        self
    }

    /// For [`spawn_blocking`](Self::spawn_blocking): on cancel of the
    /// task's scope, the runtime interrupts the closure's current blocking
    /// syscall, which returns `EINTR` (`io::ErrorKind::Interrupted`): it
    /// sends `SIGURG` to the closure's thread (handler installed once,
    /// without `SA_RESTART`), and sends it again at growing intervals (1 ms
    /// up to 50 ms) for as long as the closure runs, in case the first one
    /// landed between two syscalls. The closure's part of the contract: on
    /// `EINTR`, check [`quell_cancel::is_cancelled`] and return if set
    /// (else retry). Loops that retry `EINTR` themselves (`read_exact`,
    /// `write_all`, `thread::sleep`) are not interrupted.
    ///
    /// ```
    /// use std::io::Read;
    /// use std::os::fd::FromRawFd;
    /// use quell_cancel::Cause;
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// let mut fds = [0; 2];
    /// // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    /// assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    /// // SAFETY: the read end is ours alone from here on.
    /// let mut rd = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    /// let h = quell_executor::task::SpawnBuilder::new()
    ///     .interruptible()
    ///     .spawn_blocking_on(move || loop {
    ///         // Nobody writes: this read blocks until interrupted.
    ///         match rd.read(&mut [0u8; 16]) {
    ///             Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
    ///                 if quell_cancel::is_cancelled() {
    ///                     return "interrupted";
    ///                 }
    ///             }
    ///             _ => return "read",
    ///         }
    ///     }, rt.handle());
    /// h.cancel(Cause::explicit("stop"));
    /// assert_eq!(rt.block_on(h).unwrap(), "interrupted");
    /// # unsafe { libc::close(fds[1]) };
    /// ```
    pub fn interruptible(mut self) -> Self {
        self.interruptible = true;
        self
    }

    /// Runs a blocking closure on the current runtime's blocking pool with
    /// these options (name, token, [`interruptible`](Self::interruptible)).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let h = Handle::current();
        self.spawn_blocking_on(f, &h)
    }

    /// Runs a blocking closure on `handle`'s blocking pool with these options.
    #[track_caller]
    pub fn spawn_blocking_on<F, R>(self, f: F, handle: &Handle) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let loc = Location::caller();
        let interruptible = self.interruptible;
        let (name, choice) = self.choice();
        handle.spawn_blocking_with(f, name, choice, interruptible, loc)
    }

    fn choice(self) -> (Option<&'a str>, TokenChoice) {
        let c = match (self.token, self.detached) {
            (Some(t), _) => TokenChoice::Explicit(t),
            (None, true) => TokenChoice::Detached,
            (None, false) => TokenChoice::Inherit,
        };
        (self.name, c)
    }

    /// Spawns on the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let h = Handle::current();
        self.spawn_on(future, &h)
    }

    /// Spawns on `handle`'s runtime.
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let loc = Location::caller();
        let (name, choice) = self.choice();
        handle.spawn_with(future, name, choice, loc)
    }
}
