//! One connection task: hyper's connection driven under the connection's
//! scope, with drain → cancel → abort.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use http::{Request, Response};
use hyper::body::{Body, Incoming};
use quell_cancel::shield;
use quell_io_driver::time;

use super::request::RequestScoped;
use super::{BoxError, Shared};
use crate::phase;
use crate::rt::{QuellIo, Stream};

/// Counts a connection as live from before its task is spawned until its
/// future is dropped (finished, aborted by the driver or by the runtime).
pub(crate) struct Live(pub(crate) Arc<Shared>);

impl Live {
    pub(crate) fn new(shared: Arc<Shared>) -> Live {
        shared.live.fetch_add(1, Ordering::Relaxed);
        Live(shared)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // AcqRel: the release half publishes this task's writes (an
        // `aborted` entry) to the waiter that reads 0 with the acquire in
        // `Shared::wait_idle`; the acquire half orders it after earlier
        // decrements.
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_one();
        }
    }
}

/// How the connection ended.
enum End {
    /// hyper finished it (closed by either side, shut down gracefully,
    /// or an error).
    Closed,
    /// Still open `cancel_grace` after its scope was cancelled: dropped.
    Aborted,
}

/// The body of a connection task. `scope` is the task's own scope.
pub(crate) async fn run<I, S, B>(live: Live, io: I, service: S, peer: String)
where
    I: Stream + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let shared = &live.0;
    let scope = quell_cancel::current();
    let service = RequestScoped {
        inner: service,
        scope: scope.clone(),
        timeout: shared.request_timeout,
    };
    let mut conn = pin!(shared
        .http
        .serve_connection_with_upgrades(QuellIo::shielded(io), service));
    let mut drain = pin!(phase::draining(&scope));
    let mut shut_down = false;
    let mut abort: Option<time::Sleep> = None;
    let end = poll_fn(|cx| {
        // Drain (or a cancel without one): idle keep-alive connections
        // close now, in-flight requests finish. Checked before polling
        // hyper, so a connection that is idle when the drain lands closes
        // in this very poll.
        if !shut_down && (drain.as_mut().poll(cx).is_ready() || scope.is_cancelled()) {
            conn.as_mut().graceful_shutdown();
            shut_down = true;
        }
        // Cancel (the task is woken by it): the handlers' await points
        // answer `Cancelled` and they may still answer; after the cancel
        // grace the connection is dropped. The timer is shielded: the task
        // is cancelled, and the grace is ours to keep.
        if scope.is_cancelled() && abort.is_none() {
            abort = shared.cancel_grace.map(time::sleep);
        }
        if let Some(a) = &mut abort {
            if Pin::new(&mut shield(a)).poll(cx).is_ready() {
                return Poll::Ready(End::Aborted);
            }
        }
        conn.as_mut().poll(cx).map(|_| End::Closed)
    })
    .await;
    if let End::Aborted = end {
        super::lock(&shared.aborted).push(peer);
    }
}
