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

#[cfg(test)]
mod tests {
    use std::future::{pending, poll_fn};
    use std::sync::mpsc;

    use super::*;

    type Out = Result<Response<String>, std::convert::Infallible>;

    fn request<F: Future<Output = Out>>(f: F) -> RequestFuture<F> {
        RequestFuture {
            inner: Inner::Plain(f),
            node: OnceCell::new(),
            done: false,
        }
    }

    /// Runs `f` as a quell task (so a request future polled inside has a
    /// parent scope: the task's).
    fn in_task(f: impl Future<Output = ()> + Send + 'static) {
        let rt = quell_executor::Runtime::new().unwrap();
        rt.block_on(rt.spawn(f)).unwrap();
    }

    /// Polls `fut` once inside the current task.
    async fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
        let mut fut = Some(fut);
        poll_fn(|cx| Poll::Ready(fut.take().unwrap().poll(cx))).await
    }

    #[test]
    fn a_handler_that_never_asks_for_its_scope_gets_no_node() {
        in_task(async {
            let mut fut = std::pin::pin!(request(async {
                assert!(!quell_cancel::is_cancelled());
                Ok(Response::new(String::from("hi")))
            }));
            assert!(poll_once(fut.as_mut()).await.is_ready());
            assert!(fut.node.get().is_none(), "no node was created");
        });
    }

    #[test]
    fn an_asked_for_scope_is_a_child_cancelled_when_the_request_is_dropped_unfinished() {
        in_task(async {
            let parent = quell_cancel::current();
            let (tx, rx) = mpsc::channel();
            let mut fut = Box::pin(request(async move {
                tx.send(quell_cancel::current()).unwrap();
                pending::<Out>().await
            }));
            assert!(poll_once(fut.as_mut()).await.is_pending());
            let scope = rx.recv().unwrap();
            assert!(fut.node.get().is_some(), "asking created the node");
            assert!(!scope.is_cancelled());
            drop(fut);
            let cause = scope.cause().expect("dropped unfinished: cancelled");
            assert_eq!(cause.message(), Some(DROPPED));
            assert!(!parent.is_cancelled(), "only the request's scope");
        });
    }

    #[test]
    fn a_finished_request_leaves_its_scope_alone() {
        in_task(async {
            let (tx, rx) = mpsc::channel();
            let mut fut = Box::pin(request(async move {
                tx.send(quell_cancel::current()).unwrap();
                Ok(Response::new(String::new()))
            }));
            assert!(poll_once(fut.as_mut()).await.is_ready());
            drop(fut);
            assert!(!rx.recv().unwrap().is_cancelled());
        });
    }

    #[test]
    fn the_parents_cancel_is_seen_with_and_without_a_node() {
        in_task(async {
            let parent = quell_cancel::current();
            parent.cancel(Cause::explicit("connection cancelled"));
            // Without a node: the parent's own answer.
            let mut lazy = std::pin::pin!(request(async {
                assert!(quell_cancel::is_cancelled());
                Ok(Response::new(String::new()))
            }));
            assert!(poll_once(lazy.as_mut()).await.is_ready());
            assert!(lazy.node.get().is_none());
            // With one: the node is the parent's child, cancelled with it.
            let mut asked = std::pin::pin!(request(async {
                let scope = quell_cancel::current();
                assert!(scope.is_cancelled());
                assert!(quell_cancel::is_cancelled());
                assert_eq!(
                    scope.cause().unwrap().message(),
                    Some("connection cancelled")
                );
                Ok(Response::new(String::new()))
            }));
            assert!(poll_once(asked.as_mut()).await.is_ready());
            assert!(asked.node.get().is_some());
        });
    }

    #[test]
    fn a_spawned_sub_task_inherits_the_requests_scope() {
        in_task(async {
            let (tx, rx) = mpsc::channel();
            let mut fut = Box::pin(request(async move {
                let sub = quell_executor::task::spawn(async {
                    quell_cancel::current().cancelled().await;
                });
                tx.send(sub).unwrap();
                pending::<Out>().await
            }));
            assert!(poll_once(fut.as_mut()).await.is_pending());
            assert!(fut.node.get().is_some(), "spawning created the node");
            let sub = rx.recv().unwrap();
            drop(fut);
            // Cancelled with the request's scope: the sub-task ends (the
            // bound only catches a hang).
            let ended = quell_io_driver::time::with_timeout(Duration::from_secs(30), sub).await;
            assert!(
                ended.is_ok(),
                "the sub-task did not see the request's cancel"
            );
        });
    }
}
