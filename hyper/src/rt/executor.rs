//! [`QuellExecutor`]: hyper's `Executor` on quell tasks.

use std::future::Future;
use std::sync::Arc;

use quell_cancel::CancelToken;
use quell_executor::task::SpawnBuilder;

/// Spawns the futures hyper hands to an executor (HTTP/2 stream tasks,
/// client connection tasks) as quell tasks.
///
/// Which cancel scope they run under is the point:
///
/// * [`QuellExecutor::new`] — the task that calls `execute` (inherit). The
///   server driver uses this: hyper spawns an HTTP/2 stream task from
///   inside the connection task, so the stream (and the handler it polls)
///   lives in the connection's scope, which drain and cancel reach as they
///   reach an HTTP/1 request on the same connection.
/// * [`QuellExecutor::with_token`] — an explicit token. The client uses
///   this: hyper-util spawns a connection task from inside the request
///   that dialled it, and a pooled connection must not die with that one
///   caller's deadline.
///
/// Spawning needs a quell runtime on the calling thread (hyper only calls
/// `execute` from inside its own futures, which run on quell).
///
/// ```
/// use hyper::rt::Executor;
/// use quell_hyper::rt::QuellExecutor;
///
/// let rt = quell_executor::Runtime::new()?;
/// rt.block_on(async {
///     let (tx, rx) = std::sync::mpsc::channel();
///     QuellExecutor::new().execute(async move { tx.send(7).unwrap() });
///     let seven = quell_executor::task::spawn_blocking(move || rx.recv().unwrap());
///     assert_eq!(seven.await.unwrap(), 7);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct QuellExecutor {
    token: Option<CancelToken>,
    name: Option<Arc<str>>,
}

impl QuellExecutor {
    /// Spawned tasks inherit the spawner's scope.
    pub fn new() -> QuellExecutor {
        QuellExecutor::default()
    }

    /// Spawned tasks run under `token` (a child scope of it each).
    pub fn with_token(token: CancelToken) -> QuellExecutor {
        QuellExecutor {
            token: Some(token),
            name: None,
        }
    }

    /// Names the spawned tasks (task listings, shutdown reports).
    pub fn name(mut self, name: &str) -> QuellExecutor {
        self.name = Some(name.into());
        self
    }
}

impl<F> hyper::rt::Executor<F> for QuellExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[track_caller]
    fn execute(&self, fut: F) {
        let mut b = SpawnBuilder::new();
        if let Some(name) = &self.name {
            b = b.name(name);
        }
        if let Some(token) = &self.token {
            b = b.token(token.clone());
        }
        drop(b.spawn(fut));
    }
}
