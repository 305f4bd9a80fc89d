//! A cancel scope per request: the service wrapper the driver hands hyper.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use quell_cancel::{context, CancelToken, Cause};
use quell_io_driver::time::{with_timeout, DeadlineScope};

use super::BoxError;

/// The cause a request's scope is cancelled with when hyper drops its
/// service future before it finished (the client went away, the
/// connection failed or was aborted).
pub(crate) const DROPPED: &str = "request dropped before it finished (client went away)";

/// Wraps the user's service: each request runs in a fresh child scope of
/// the connection's, optionally under a deadline.
#[derive(Clone)]
pub(crate) struct RequestScoped<S> {
    pub(crate) inner: S,
    /// The connection task's scope.
    pub(crate) scope: CancelToken,
    pub(crate) timeout: Option<Duration>,
}

impl<S, B> hyper::service::Service<Request<Incoming>> for RequestScoped<S>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>>,
    S::Error: Into<BoxError>,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = RequestFuture<S::Future>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let token = self.scope.child();
        let fut = self.inner.call(req);
        let inner = match self.timeout {
            None => Inner::Plain(fut),
            Some(d) => Inner::Deadline(with_timeout(d, fut)),
        };
        RequestFuture {
            inner,
            token,
            done: false,
        }
    }
}

enum Inner<F> {
    Plain(F),
    Deadline(DeadlineScope<F>),
}

/// A request's service future in its scope. Dropped before it finished,
/// it cancels the scope: the handler's sub-tasks (spawned inside, so
/// under the scope) stop with it.
///
/// Each poll runs inside [`context::enter_scope`] of the request's token
/// (what [`with_token`](quell_cancel::with_token) does, without its waker
/// registration): the future is always polled by the connection task or
/// by an HTTP/2 stream task spawned in the connection's scope, so a cancel
/// of the connection's scope (the token's parent) already wakes it, and the
/// only other cancel of the token is our own, in `drop`, with nothing left
/// to wake. A deadline scope inside registers its own waker. That saves
/// two token locks per request.
pub(crate) struct RequestFuture<F> {
    inner: Inner<F>,
    token: CancelToken,
    done: bool,
}

impl<F, B, E> Future for RequestFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Response<B>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `inner` only: it is never moved out
        // of a pinned `RequestFuture` (no method hands it out), `Drop`
        // touches only `token` and `done`, and `Unpin` is the auto trait.
        let this = unsafe { self.get_unchecked_mut() };
        let token = &this.token;
        let inner = &mut this.inner;
        let out = match context::enter_scope(token, || match inner {
            // SAFETY: as above, the variant's future stays where it is.
            Inner::Plain(f) => unsafe { Pin::new_unchecked(f) }
                .poll(cx)
                .map(|r| r.map_err(Into::into)),
            // SAFETY: as above.
            Inner::Deadline(f) => unsafe { Pin::new_unchecked(f) }.poll(cx).map(|r| match r {
                Ok(r) => r.map_err(Into::into),
                // Cut off: the handler ignored its deadline; hyper closes
                // the connection (HTTP/1) or resets the stream (HTTP/2).
                Err(cut) => Err(Box::new(cut) as BoxError),
            }),
        }) {
            Poll::Ready(out) => out,
            Poll::Pending => return Poll::Pending,
        };
        this.done = true;
        Poll::Ready(out)
    }
}

impl<F> Drop for RequestFuture<F> {
    fn drop(&mut self) {
        if !self.done {
            self.token.cancel(Cause::explicit(DROPPED));
        }
    }
}
