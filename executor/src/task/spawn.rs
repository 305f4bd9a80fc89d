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
