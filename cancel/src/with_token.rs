//! [`with_token`]: run a future inside a cancel scope of an explicit token,
//! with or without a runtime.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::{context, CancelToken, WaiterKey};

/// Runs `fut` in a cancel scope of `token`: inside it, `token` is the
/// current token, so every quell await point (`checkpoint`, `Cancellable`,
/// the `quell::sync` waits, sockets, timers) answers `Cancelled` with
/// `token`'s cause once `token` (or an ancestor) is cancelled, and a cancel
/// wakes the future where it is parked. See [`WithToken`].
///
/// No runtime is needed. That is what makes it the entry point of a user's
/// loom model (docs/loom.md): `loom::future::block_on(with_token(t, work))`
/// on one `loom::thread`, `t.cancel(..)` on another.
///
/// ```
/// use std::cell::Cell;
/// use std::future::{poll_fn, Future};
/// use std::pin::pin;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use std::task::{Context, Poll, Wake, Waker};
/// use quell_cancel::{checkpoint, with_token, CancelToken, Cause};
///
/// struct Count(AtomicUsize);
/// impl Wake for Count {
///     fn wake(self: Arc<Self>) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
/// let wakes = Arc::new(Count(AtomicUsize::new(0)));
/// let waker = Waker::from(wakes.clone());
/// let mut cx = Context::from_waker(&waker);
///
/// let stop = CancelToken::new();
/// let polls = Cell::new(0);
/// let mut work = pin!(with_token(stop.clone(), poll_fn(|cx| {
///     polls.set(polls.get() + 1);
///     // The scope's token is the current token in here.
///     assert!(quell_cancel::current().same(&stop));
///     // A quell await point: `Cancelled` once `stop` is cancelled.
///     match pin!(checkpoint()).poll(cx) {
///         Poll::Ready(Err(cancelled)) => Poll::Ready(cancelled),
///         _ => Poll::Pending, // "parked", as on a channel
///     }
/// })));
/// assert!(work.as_mut().poll(&mut cx).is_pending());
///
/// stop.cancel(Cause::explicit("stop"));
/// assert_eq!(wakes.0.load(Ordering::Relaxed), 1); // the cancel woke it
/// let Poll::Ready(cancelled) = work.as_mut().poll(&mut cx) else { panic!() };
/// assert_eq!(cancelled.cause().message(), Some("stop"));
/// assert_eq!(polls.get(), 2);
/// // Outside the scope nothing is cancelled.
/// assert!(!quell_cancel::is_cancelled());
/// ```
pub fn with_token<F: IntoFuture>(token: CancelToken, fut: F) -> WithToken<F::IntoFuture> {
    WithToken {
        fut: fut.into_future(),
        token,
        waiter: None,
    }
}

/// Future returned by [`with_token`]; resolves to the inner future's output.
///
/// Each poll, in order:
///
/// 1. unless `token` is already cancelled, registers the task's waker with
///    `token` ([`CancelToken::register_waker`]; again only when the waker
///    changes), so that a cancel of `token` or of an ancestor wakes it;
/// 2. polls the inner future inside
///    a cancel scope of `token` (the current token becomes `token`, the
///    enclosing scope still applies).
///
/// A cancel that lands after step 1 wakes the task, and the next poll's
/// await points see it; one that lands before step 1 is seen by step 2's
/// await points already. Either way no cancel is lost. When the inner
/// future completes, or the adapter is dropped, the waker is deregistered.
///
/// The scope does not drop the inner future on cancel, and the output is
/// the inner future's own: its await points answer `Cancelled` and the
/// future decides (propagate with `?`, clean up in a
/// [`shield`](fn@crate::shield), return a partial result). A future that
/// ignores cancellation runs on.
///
/// # Inside a task of a runtime
///
/// The adapter opens a scope with an explicit token, like a deadline scope
/// without the timer. Inside it, `token` is what
/// [`current`](crate::current) returns, what the await points check and
/// what a `spawn` inherits, and the enclosing task's scope (its
/// `JoinHandle::cancel`, its token and every ancestor, a deadline scope it
/// is in) still applies to the inner await points (unless the adapter is
/// polled inside a `shield`, where only `token` counts). Tasks spawned
/// inside inherit `token` alone: for a section whose spawned tasks must
/// also obey the task's scope, pass a child of the current scope,
/// `with_token(quell_cancel::current().child(), ..)`, and keep a clone to
/// cancel the section with.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct WithToken<F> {
    fut: F,
    token: CancelToken,
    /// The registered waker (a clone, to compare with the next poll's).
    waiter: Option<(WaiterKey, Waker)>,
}

impl<F> WithToken<F> {
    /// The scope's token.
    pub fn token(&self) -> &CancelToken {
        &self.token
    }

    /// Registers `waker` with the token, once per distinct waker.
    fn register(&mut self, waker: &Waker) {
        if matches!(&self.waiter, Some((_, w)) if w.will_wake(waker)) {
            return;
        }
        self.deregister();
        // `None`: cancelled meanwhile; the inner await points will see it.
        if let Some(key) = self.token.register_waker(waker) {
            self.waiter = Some((key, waker.clone()));
        }
    }

    fn deregister(&mut self) {
        if let Some((key, _)) = self.waiter.take() {
            self.token.deregister_waker(key);
        }
    }
}

impl<F: Future> Future for WithToken<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `fut` only: it is never moved out of
        // a pinned `WithToken` (no method hands it out by value), `Drop`
        // touches only `token` and `waiter`, and `Unpin` is the auto trait
        // (only when `F: Unpin`). `token` and `waiter` are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if !this.token.is_cancelled() {
            this.register(cx.waker());
        }
        // SAFETY: see above: `fut` stays pinned where it is.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        let out = context::enter_scope(&this.token, || fut.poll(cx));
        if out.is_ready() {
            this.deregister();
        }
        out
    }
}

impl<F> Drop for WithToken<F> {
    fn drop(&mut self) {
        self.deregister();
    }
}
