//! Drain, seen from the current task: [`is_draining`] and [`draining`].
//!
//! A drain ([`CancelToken::drain`](crate::CancelToken::drain)) is the
//! advisory first phase of a shutdown: stop taking new work, finish what is
//! in flight. It never makes an await point answer `Cancelled`, and a
//! [`shield`](fn@crate::shield) does not hide it: code in a shield (a
//! connection polled to completion, cleanup) is exactly the code that needs
//! to know that shutdown began. So both functions read the task's *real*
//! scope ([`TaskCancel::drain_token`](crate::context::TaskCancel::drain_token)),
//! whatever shields or deadline scopes it is inside.

use crate::context;
use crate::token::WaitForDrain;

/// Whether the current task's scope is draining (or cancelled, which
/// implies draining). Visible inside shields. `false` outside a task.
///
/// ```
/// use quell_cancel::{with_token, CancelToken, Cause};
/// use std::future::Future;
/// use std::task::{Context, Poll, Waker};
/// let token = CancelToken::new();
/// token.drain(Cause::shutdown());
/// let mut fut = std::pin::pin!(with_token(token.clone(), quell_cancel::shield(async {
///     quell_cancel::is_draining()
/// })));
/// let mut cx = Context::from_waker(Waker::noop());
/// assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(true));
/// ```
pub fn is_draining() -> bool {
    context::with_current(|t| t.is_some_and(|t| t.drain_token().is_draining()))
}

/// A future resolving to the drain cause once the current task's scope
/// drains (or is cancelled). Not a cancel point: it never answers
/// `Cancelled`, and it resolves inside shields. The scope is the one
/// current when this is called; outside a task the future never resolves.
pub fn draining() -> WaitForDrain {
    context::with_current(|t| match t {
        Some(t) => t.drain_token().draining(),
        None => WaitForDrain::never(),
    })
}
