//! The runtimes under test behind one small trait, so every workload is
//! written once and monomorphized for each runtime.

use std::fmt::Debug;
use std::future::Future;

use futures_util::future::{FutureExt, Map};

/// Worker threads of every runtime under test.
pub const WORKERS: usize = 2;

/// What the workloads need from a runtime.
pub trait Rt: Send + Sync + 'static {
    /// A join handle that yields the task's output (panics on a join error).
    type Join<T: Send + 'static>: Future<Output = T> + Send + Unpin + 'static;

    /// Spawns on the current runtime (called from inside a task).
    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns from outside the runtime (a plain thread).
    fn spawn_remote<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// The runtime's own `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Drives `future` on the calling thread.
    fn block_on<F: Future>(&self, future: F) -> F::Output;
}

fn unwrap_join<T, E: Debug>(r: Result<T, E>) -> T {
    r.expect("task did not complete")
}

type Unwrapped<J, T, E> = Map<J, fn(Result<T, E>) -> T>;

/// quell, multi-thread, [`WORKERS`] workers.
pub struct Quell(pub quell::Runtime);

impl Quell {
    /// The default runtime (cancel binding on).
    pub fn new() -> Quell {
        Quell::with_binding(true)
    }

    /// `cancel_binding(on)`: off only to measure what the binding costs.
    pub fn with_binding(on: bool) -> Quell {
        Quell(
            quell::runtime::Builder::new()
                .worker_threads(WORKERS)
                .cancel_binding(on)
                .build()
                .expect("build quell runtime"),
        )
    }
}

impl Rt for Quell {
    type Join<T: Send + 'static> = Unwrapped<quell::JoinHandle<T>, T, quell::JoinError>;

    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        quell::spawn(future).map(unwrap_join as fn(_) -> _)
    }

    fn spawn_remote<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(future).map(unwrap_join as fn(_) -> _)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        quell::task::yield_now()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

/// tokio, multi-thread, [`WORKERS`] workers, all drivers enabled.
pub struct Tokio(pub tokio::runtime::Runtime);

impl Tokio {
    pub fn new() -> Tokio {
        Tokio(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .enable_all()
                .build()
                .expect("build tokio runtime"),
        )
    }
}

impl Rt for Tokio {
    type Join<T: Send + 'static> = Unwrapped<tokio::task::JoinHandle<T>, T, tokio::task::JoinError>;

    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(future).map(unwrap_join as fn(_) -> _)
    }

    fn spawn_remote<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(future).map(unwrap_join as fn(_) -> _)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}
