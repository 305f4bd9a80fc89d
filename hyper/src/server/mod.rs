//! The server driver: [`serve`] / [`Builder::serve`] accept connections
//! from a quell listener and serve each with hyper (HTTP/1 and HTTP/2
//! prior knowledge, h2c, detected per connection), in a task per
//! connection and a cancel scope per request.
//!
//! # Scopes
//!
//! ```text
//! caller's scope ── server scope ─┬─ connection task (named "quell-hyper connection PEER")
//!     (e.g. the runtime root)     │     ├─ request scope ── handler, its spawned sub-tasks
//!                                 │     └─ HTTP/2 stream task ── request scope ── handler ..
//!                                 └─ connection task ..
//! ```
//!
//! * **Request.** Each service future runs in a fresh child of the scope
//!   of the task polling it (the connection task; for HTTP/2 the stream
//!   task): `quell_cancel::current()` is that scope, and tasks the handler
//!   spawns inherit it. (Its token node is created the first time it is
//!   asked for as a token, so a handler that never asks costs no node.)
//!   When hyper drops a service future
//!   before it finished (the client went away, the connection failed),
//!   the scope is cancelled and those sub-tasks stop. With
//!   [`Builder::request_timeout`] the scope also has a deadline: the
//!   handler's await points answer `Cancelled` (`DeadlineExceeded`) when it
//!   passes, and a handler that ignores that is cut off a short grace
//!   later (hyper then closes the connection / resets the stream).
//! * **Connection.** hyper's socket I/O ([`QuellIo::shielded`](crate::rt::QuellIo::shielded)) and timers
//!   ([`crate::rt::QuellTimer`]) do not observe cancellation:
//!   they are hyper's business, and a cancelled handler's answer must
//!   still be written. The driver stops connections itself, in phases.
//!
//! # Drain → cancel → abort
//!
//! 1. **Drain** (the caller's scope drains — e.g. `Runtime::shutdown_with`
//!    or a first SIGTERM — or the server stops accepting for another
//!    reason): the listener is closed (new connections are refused) and
//!    every connection gets hyper's `graceful_shutdown`: idle keep-alive
//!    connections close at once, in-flight requests finish and their
//!    connections close after the response (HTTP/2: `GOAWAY`, open streams
//!    finish). Nothing answers `Cancelled`; handlers that want to know (long
//!    polls, streams) can ask `quell_cancel::is_draining()`.
//! 2. **Cancel** ([`Builder::drain_grace`] after the drain, or when the
//!    caller's scope is cancelled): the handlers' await points answer
//!    `Cancelled` with the cause; a handler can still answer (a 503) and
//!    hyper writes it.
//! 3. **Abort** ([`Builder::cancel_grace`] after the cancel): a connection
//!    still open is dropped, its handler future with it, and the
//!    [`ServeReport`] lists its peer. (The runtime's own shutdown policy
//!    aborts whatever is left after its grace in any case.)
//!
//! `serve` returns when the listener is closed and every connection has
//! ended; dropping the `serve` future instead cancels the server scope.

mod conn;
mod listener;
mod request;

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::{Duration, Instant};

use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper_util::server::conn::auto;
use quell_cancel::{shield, CancelToken, Cancelled, Cause};
use quell_executor::sync::Notify;
use quell_executor::task::SpawnBuilder;
use quell_io_driver::net::is_resource_exhaustion;
use quell_io_driver::time;

use crate::rt::{QuellExecutor, QuellTimer};
pub use listener::Listener;

/// The error type of hyper services and bodies.
type BoxError = Box<dyn StdError + Send + Sync>;

/// How long accepting pauses after a descriptor-exhaustion error
/// (`EMFILE`, …): the connection stays in the backlog, and an immediate
/// retry would fail again.
const EXHAUSTION_BACKOFF: Duration = Duration::from_millis(20);

/// Serves `service` on every connection accepted from `listener`, with
/// the default [`Builder`] (HTTP/1 and h2c, no graces of its own: the
/// caller's shutdown policy bounds the phases). See [`Builder::serve`].
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use hyper::body::Incoming;
/// use quell_cancel::{CancelToken, Cause};
/// use quell_hyper::server;
///
/// let rt = quell_executor::Runtime::new()?;
/// rt.block_on(async {
///     let listener = quell_io_driver::net::TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let stop = CancelToken::new();
///     let server = quell_executor::task::SpawnBuilder::new().token(stop.clone()).spawn(
///         server::serve(
///             listener,
///             hyper::service::service_fn(|_req: Request<Incoming>| async {
///                 Ok::<_, Infallible>(Response::new(String::from("hello")))
///             }),
///         ),
///     );
///     // A raw HTTP/1.0 request (the server speaks whatever the client does).
///     let mut s = quell_io_driver::net::TcpStream::connect(addr).await?;
///     s.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
///     let mut reply = Vec::new();
///     s.read_to_end(&mut reply).await?;
///     assert!(reply.starts_with(b"HTTP/1.0 200 OK"));
///     assert!(reply.ends_with(b"hello"));
///     stop.cancel(Cause::explicit("done"));
///     let report = server.await.unwrap()?;
///     assert_eq!(report.connections, 1);
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn serve<L, S, B>(listener: L, service: S) -> io::Result<ServeReport>
where
    L: Listener,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Builder::new().serve(listener, service).await
}

/// Settings of the server driver: hyper's own (through
/// [`http`](Builder::http)) and the phase graces.
pub struct Builder {
    http: auto::Builder<QuellExecutor>,
    drain_grace: Option<Duration>,
    cancel_grace: Option<Duration>,
    request_timeout: Option<Duration>,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("drain_grace", &self.drain_grace)
            .field("cancel_grace", &self.cancel_grace)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// HTTP/1 and HTTP/2 (prior knowledge) detected per connection, quell
    /// executor and timers, no graces and no request timeout.
    pub fn new() -> Builder {
        let mut http = auto::Builder::new(QuellExecutor::new().name("quell-hyper h2 stream"));
        http.http1().timer(QuellTimer);
        http.http2().timer(QuellTimer);
        Builder {
            http,
            drain_grace: None,
            cancel_grace: None,
            request_timeout: None,
        }
    }

    /// hyper-util's connection builder, for hyper's own settings
    /// (`http().http1().keep_alive(false)`, `http().http2().max_concurrent_streams(..)`, …).
    pub fn http(&mut self) -> &mut auto::Builder<QuellExecutor> {
        &mut self.http
    }

    /// Serve HTTP/1 only.
    pub fn http1_only(mut self) -> Builder {
        self.http = self.http.http1_only();
        self
    }

    /// Serve HTTP/2 (prior knowledge) only.
    pub fn http2_only(mut self) -> Builder {
        self.http = self.http.http2_only();
        self
    }

    /// After the drain began, wait at most `grace` for connections to
    /// finish, then cancel the server scope (the handlers see `Cancelled`).
    /// Without it the drain lasts until the caller cancels.
    pub fn drain_grace(mut self, grace: Duration) -> Builder {
        self.drain_grace = Some(grace);
        self
    }

    /// A connection still open `grace` after its scope was cancelled is
    /// dropped (and listed in the report). Without it, a connection whose
    /// handler ignores the cancel lives until the runtime aborts it.
    pub fn cancel_grace(mut self, grace: Duration) -> Builder {
        self.cancel_grace = Some(grace);
        self
    }

    /// Each request's scope gets a deadline `timeout` after the request
    /// head arrived.
    pub fn request_timeout(mut self, timeout: Duration) -> Builder {
        self.request_timeout = Some(timeout);
        self
    }

    /// Serves `service` (cloned per connection) on every connection
    /// accepted from `listener`, until the caller's scope drains or is
    /// cancelled (or accepting fails); then drains, cancels and aborts as
    /// the [module docs](self) say, and returns a report once every
    /// connection has ended.
    ///
    /// # Errors
    ///
    /// A listener error other than descriptor exhaustion (which pauses
    /// accepting briefly) and `Cancelled` (which is the cancel phase). The
    /// connections are drained as after a drain before it is returned.
    pub async fn serve<L, S, B>(self, listener: L, service: S) -> io::Result<ServeReport>
    where
        L: Listener,
        S: hyper::service::Service<Request<Incoming>, Response = Response<B>>
            + Clone
            + Send
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let scope = quell_cancel::current().child();
        // Dropping this future (its task aborted, a `select` lost) stops
        // the connections it owns.
        let _owned = CancelOnDrop(scope.clone());
        let shared = Arc::new(Shared {
            http: self.http,
            cancel_grace: self.cancel_grace,
            request_timeout: self.request_timeout,
            conns: Mutex::new(Conns::default()),
            idle: Notify::new(),
        });
        let mut report = ServeReport::default();
        let failed = {
            let mut drain = scope.draining();
            loop {
                let next = poll_fn(|cx| match Pin::new(&mut drain).poll(cx) {
                    Poll::Ready(_) => Poll::Ready(None),
                    Poll::Pending => listener.poll_accept(cx).map(Some),
                })
                .await;
                match next {
                    None => break None,
                    Some(Ok((io, peer))) => {
                        report.connections += 1;
                        let name = format!("quell-hyper connection {peer}");
                        let live = conn::Live::new(shared.clone(), peer);
                        drop(
                            SpawnBuilder::new()
                                .name(&name)
                                .token(scope.clone())
                                .spawn(conn::run(live, io, service.clone())),
                        );
                    }
                    Some(Err(e)) if Cancelled::is_cancelled_io(&e) => break None,
                    Some(Err(e)) if is_resource_exhaustion(&e) => {
                        if time::sleep(EXHAUSTION_BACKOFF).await.is_err() {
                            break None;
                        }
                    }
                    Some(Err(e)) => break Some(e),
                }
            }
        };
        // Phase 1: refuse new connections, shut the open ones down.
        drop(listener);
        report.open_at_drain = shared.open();
        scope.drain(Cause::explicit("server stopped accepting"));
        // The waits are ours to finish even when our task is cancelled:
        // every connection is bounded by its own phases.
        shield(async {
            let deadline = self.drain_grace.map(|g| Instant::now() + g);
            if !shared.wait_idle(deadline, Some(&scope)).await {
                // Phase 2 (our drain grace expired, or someone cancelled
                // the scope): the handlers see `Cancelled`.
                report.cancelled = shared.open_peers();
                scope.cancel(Cause::explicit("server drain grace expired"));
                shared.wait_idle(None, None).await;
            }
        })
        .await;
        report.aborted = std::mem::take(&mut lock(&shared.conns).aborted);
        match failed {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }
}

/// What the connection tasks share with the accept loop.
pub(crate) struct Shared {
    http: auto::Builder<QuellExecutor>,
    cancel_grace: Option<Duration>,
    request_timeout: Option<Duration>,
    conns: Mutex<Conns>,
    /// Notified (one permit) when the last open connection ends.
    idle: Notify,
}

/// The connections whose task has not ended, by id, with their peers;
/// and the peers of those the driver aborted.
#[derive(Default)]
pub(crate) struct Conns {
    next_id: u64,
    open: HashMap<u64, String>,
    aborted: Vec<String>,
}

impl Shared {
    fn open(&self) -> usize {
        lock(&self.conns).open.len()
    }

    fn open_peers(&self) -> Vec<String> {
        let mut peers: Vec<String> = lock(&self.conns).open.values().cloned().collect();
        peers.sort();
        peers
    }

    /// Waits until no connection is open (`true`), or `deadline` passed,
    /// or `cancelled` is cancelled (`false`). Called inside a shield: the
    /// waits do not answer `Cancelled`.
    async fn wait_idle(&self, deadline: Option<Instant>, cancelled: Option<&CancelToken>) -> bool {
        let mut timer = deadline.map(time::sleep_until);
        let mut cancel = cancelled.map(CancelToken::cancelled);
        loop {
            let notified = self.idle.notified();
            if lock(&self.conns).open.is_empty() {
                return true;
            }
            let mut notified = pin!(notified);
            let woke = poll_fn(|cx| {
                if notified.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(true);
                }
                if let Some(t) = &mut timer {
                    if Pin::new(t).poll(cx).is_ready() {
                        return Poll::Ready(false);
                    }
                }
                match &mut cancel {
                    Some(c) => Pin::new(c).poll(cx).map(|_| false),
                    None => Poll::Pending,
                }
            })
            .await;
            if !woke {
                return lock(&self.conns).open.is_empty();
            }
        }
    }
}

/// Locks `m`, ignoring poisoning (the data is a list of strings).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Cancels the server scope when the `serve` future is dropped.
struct CancelOnDrop(CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel(Cause::explicit("serve future dropped"));
    }
}

/// What [`Builder::serve`] did.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ServeReport {
    /// Connections accepted.
    pub connections: u64,
    /// Connections open when the server stopped accepting (the drain).
    pub open_at_drain: usize,
    /// Peers of the connections still open when the server scope was
    /// cancelled (the drain grace expired, or the caller cancelled): their
    /// handlers saw `Cancelled`.
    pub cancelled: Vec<String>,
    /// Peers of the connections still open `cancel_grace` after the
    /// cancel, which were dropped (forced).
    pub aborted: Vec<String>,
}

impl ServeReport {
    /// Whether nothing had to be cancelled or forced.
    pub fn is_clean(&self) -> bool {
        self.cancelled.is_empty() && self.aborted.is_empty()
    }
}

impl fmt::Display for ServeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "served {} connection(s); {} open at drain",
            self.connections, self.open_at_drain
        )?;
        write!(
            f,
            ", {} cancelled, {} aborted",
            self.cancelled.len(),
            self.aborted.len()
        )?;
        for peer in &self.cancelled {
            write!(f, "\n  cancelled: connection {peer}")?;
        }
        for peer in &self.aborted {
            write!(f, "\n  aborted: connection {peer}")?;
        }
        Ok(())
    }
}
