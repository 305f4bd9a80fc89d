//! A cancel scope per request: the service wrapper the driver hands hyper.
//!
//! # The scope's node is created lazily
//!
//! A request's scope is a child of the scope of the task that polls its
//! service future (the connection task for HTTP/1, the stream task for
//! HTTP/2). Most handlers never look at their scope: they neither spawn,
//! nor ask [`quell_cancel::current`], nor open a deadline scope. For them a
//! token node would be created, linked into the connection's node and
//! unlinked again for nothing (two locks on the connection's node and a
//! node allocation per request). So the node is created the first time
//! someone needs the scope as a token — [`TaskCancel::scope_token`], which
//! `current()`, an inheriting `spawn` and a deadline scope call — and
//! until then the request's scope *is* its parent's as far as anyone can
//! tell:
//!
//! 1. Await points ask [`TaskCancel::cancelled`]: without a node, the
//!    parent's answer; with one, the node's, then the parent's (as
//!    [`enter_scope`](quell_cancel::rt_internal::enter_scope) does). Only two
//!    things cancel a request's scope: its parent (seen either way) and the
//!    driver when hyper drops the future unfinished (below).
//! 2. Drains come from the parent ([`TaskCancel::drain_token`]), node or not.
//! 3. Dropped before it finished, the future cancels the node if there is
//!    one. If there is none, nobody outside holds the scope (every way to
//!    get it as a token creates the node), so there is nothing to stop:
//!    the handler's future is dropped with ours.

use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use quell_cancel::rt_internal::{self as context, TaskCancel};
use quell_cancel::{CancelToken, Cancelled, Cause};
use quell_io_driver::time::{with_timeout, DeadlineScope};

use super::BoxError;

/// The cause a request's scope is cancelled with when hyper drops its
/// service future before it finished (the client went away, the
/// connection failed or was aborted).
pub(crate) const DROPPED: &str = "request dropped before it finished (client went away)";

/// Wraps the user's service: each request runs in a fresh child scope of
/// the task polling it, optionally under a deadline.
#[derive(Clone)]
pub(crate) struct RequestScoped<S> {
    pub(crate) inner: S,
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
        // One expression, so the handler's future is built in place (it
        // holds the request: a few hundred bytes copied per extra move).
        RequestFuture {
            inner: match self.timeout {
                None => Inner::Plain(self.inner.call(req)),
                Some(d) => Inner::Deadline(with_timeout(d, self.inner.call(req))),
            },
            node: OnceCell::new(),
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
/// Each poll runs with [`RequestCx`] as the current task context (see the
/// module docs). No waker is registered on the scope: the future is
/// always polled by a task whose scope is the request scope's parent, so
/// a cancel of the parent already wakes it; the only other cancel of the
/// scope is our own, in `drop`, with nothing left to wake. A deadline
/// scope inside registers its own waker.
pub(crate) struct RequestFuture<F> {
    inner: Inner<F>,
    /// The scope's node, once someone asked for it as a token.
    node: OnceCell<CancelToken>,
    done: bool,
}

/// The request scope as the cancel context sees it while the service
/// future is polled.
struct RequestCx<'a> {
    /// The task polling the future: the scope's parent.
    parent: &'a dyn TaskCancel,
    /// Whether the parent's cancellation applies: not when the future is
    /// polled inside a shield (then only the request's own node counts,
    /// as with `enter_scope`).
    inherits: bool,
    node: &'a OnceCell<CancelToken>,
}

impl TaskCancel for RequestCx<'_> {
    fn token(&self) -> &CancelToken {
        self.node.get().unwrap_or_else(|| self.parent.token())
    }

    fn scope_token(&self) -> CancelToken {
        self.node
            .get_or_init(|| self.parent.scope_token().child())
            .clone()
    }

    fn cancelled(&self) -> Option<Cancelled> {
        let own = self.node.get().and_then(CancelToken::cancelled_error);
        own.or_else(|| {
            if !self.inherits {
                return None;
            }
            let c = self.parent.cancelled()?;
            Some(match self.node.get() {
                // Seen from inside a scope of its own, the parent's cancel
                // is inherited (as through `enter_scope`).
                Some(_) => Cancelled::new(c.cause().clone(), true),
                None => c,
            })
        })
    }

    fn drain_token(&self) -> &CancelToken {
        self.parent.drain_token()
    }

    fn note_cancelled_scope(&self, token: &CancelToken, inside: bool) {
        if self.inherits {
            self.parent.note_cancelled_scope(token, inside);
        }
    }

    fn cancel_observed(&self, token: &CancelToken) {
        self.parent.cancel_observed(token);
    }

    fn forced_yield(&self) {
        self.parent.forced_yield();
    }
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
        // touches only `node` and `done`, and `Unpin` is the auto trait.
        let this = unsafe { self.get_unchecked_mut() };
        let node = &this.node;
        let inner = &mut this.inner;
        let mut poll_inner = || match inner {
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
        };
        let inherits = !context::is_shielded();
        let out = context::with_current(|parent| match parent {
            Some(parent) => {
                let scope = RequestCx {
                    parent,
                    inherits,
                    node,
                };
                context::enter(&scope, poll_inner)
            }
            // Not polled by a task (never the case in the driver): no
            // context to extend.
            None => poll_inner(),
        });
        let Poll::Ready(out) = out else {
            return Poll::Pending;
        };
        this.done = true;
        Poll::Ready(out)
    }
}

impl<F> Drop for RequestFuture<F> {
    fn drop(&mut self) {
        if let (false, Some(node)) = (self.done, self.node.get()) {
            node.cancel(Cause::explicit(DROPPED));
        }
    }
}
