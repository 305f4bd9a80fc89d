//! One connection task: hyper's connection driven under the connection's
//! scope, with drain → cancel → abort.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;

use http::{Request, Response};
use hyper::body::{Body, Incoming};
use quell_cancel::shield;
use quell_io_driver::time;

use super::request::RequestScoped;
use super::{BoxError, Shared};
use crate::rt::{QuellIo, Stream};

/// Registers a connection as open from before its task is spawned until
/// its future is dropped (finished, aborted by the driver or by the
/// runtime).
pub(crate) struct Live {
    pub(crate) shared: Arc<Shared>,
    id: u64,
    aborted: bool,
}

impl Live {
    pub(crate) fn new(shared: Arc<Shared>, peer: String) -> Live {
        let id = {
            let mut c = super::lock(&shared.conns);
            let id = c.next_id;
            c.next_id += 1;
            c.open.insert(id, peer);
            id
        };
        Live {
            shared,
            id,
            aborted: false,
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let last = {
            let mut c = super::lock(&self.shared.conns);
            let peer = c.open.remove(&self.id);
            if let (true, Some(peer)) = (self.aborted, peer) {
                c.aborted.push(peer);
            }
            c.open.is_empty()
        };
        if last {
            self.shared.idle.notify_one();
        }
    }
}

/// Whether `scope` is draining (a cancel implies it), with `cx`'s waker
/// registered to hear when it starts.
fn drain_seen(
    scope: &quell_cancel::CancelToken,
    drain: &mut quell_cancel::WaitForDrain,
    registered: &mut Option<std::task::Waker>,
    cx: &mut std::task::Context<'_>,
) -> bool {
    match registered {
        Some(w) if w.will_wake(cx.waker()) => scope.is_draining(),
        _ => {
            *registered = Some(cx.waker().clone());
            Pin::new(drain).poll(cx).is_ready()
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

/// The body of a connection task: serves the connection under the task's
/// own scope (a child of the server's), which is also the parent of every
/// request's scope.
pub(crate) async fn run<I, S, B>(mut live: Live, io: I, service: S)
where
    I: Stream + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let shared = live.shared.clone();
    let scope = quell_cancel::current();
    let service = RequestScoped {
        inner: service,
        timeout: shared.request_timeout,
    };
    let mut conn = pin!(shared
        .http
        .serve_connection_with_upgrades(QuellIo::shielded(io), service));
    let mut drain = scope.draining();
    // The waker `drain` holds: re-registered only when the task's waker
    // changes (a lock on the scope's node), otherwise one atomic load.
    let mut drain_waker: Option<std::task::Waker> = None;
    let mut shut_down = false;
    let mut abort: Option<time::Sleep> = None;
    let end = poll_fn(|cx| {
        // Drain (a cancel implies one): idle keep-alive connections
        // close now, in-flight requests finish. Checked before polling
        // hyper, so a connection that is idle when the drain lands closes
        // in this very poll.
        if !shut_down && drain_seen(&scope, &mut drain, &mut drain_waker, cx) {
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
    // `conn` (declared after `live`) is dropped first: the connection is
    // closed before it leaves the open set.
    live.aborted = matches!(end, End::Aborted);
}
