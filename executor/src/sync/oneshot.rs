//! A one-value channel whose receive is a cancel-aware await point.
//!
//! ```
//! use quell_executor::sync::oneshot;
//!
//! let rt = quell_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     quell_executor::spawn(async move { tx.send(6 * 7).unwrap() });
//!     assert_eq!(rx.await.unwrap(), 42);
//! });
//! ```
//!
//! # Protocol
//!
//! One `Mutex<State>` shared by the two halves. The value is stored by
//! [`Sender::send`] and removed only by the receive that returns it (a poll
//! of [`Receiver`] that answers `Ok`, or [`Receiver::try_recv`]). A poll of
//! the receiver, in order:
//!
//! 1. cooperative budget: `Pending` here takes nothing;
//! 2. cancellation (`context::observed()`): if observed, clear the
//!    receiver's waker slot and return `Err(Cancelled)`, leaving any value
//!    where it is, so a later shielded `.await` or `try_recv` returns it;
//! 3. under the lock: take the value → `Ok`; else sender gone → `Closed`;
//!    else store the waker → `Pending`.
//!
//! The sender stores the value and takes the waker under the lock, and wakes
//! after unlocking; a receiver that parked before that is therefore woken,
//! and one that looks after it finds the value (no lost wakeup).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use quell_cancel::rt_internal as context;
use quell_io_driver::rt_internal::coop;

pub use super::error::{RecvError, TryRecvError};
use super::waiters::{lock, wake_all};
use crate::loom::{Arc, Mutex};

/// Creates a one-value channel.
///
/// ```
/// let (tx, mut rx) = quell_executor::sync::oneshot::channel::<&str>();
/// tx.send("done").unwrap();
/// assert_eq!(rx.try_recv(), Ok("done"));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        value: None,
        sender_done: false,
        rx_closed: false,
        rx_waker: None,
    }));
    (
        Sender {
            shared: Some(shared.clone()),
        },
        Receiver { shared },
    )
}

struct State<T> {
    /// Sent and not yet received.
    value: Option<T>,
    /// The sender sent or was dropped: no value will come after `value`.
    sender_done: bool,
    /// The receiver closed or was dropped: `send` fails.
    rx_closed: bool,
    /// The parked receiver, if any.
    rx_waker: Option<Waker>,
}

/// Sends the one value; see [`channel`].
pub struct Sender<T> {
    /// `None` once `send` consumed it (so `Drop` does nothing).
    shared: Option<Arc<Mutex<State<T>>>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waking the receiver. Never blocks and does not observe
    /// cancellation. Returns the value back if the receiver was dropped or
    /// closed. On `Ok` the value is in the channel: the receiver's next
    /// receive that is not cancelled returns it.
    ///
    /// ```
    /// let (tx, rx) = quell_executor::sync::oneshot::channel::<u8>();
    /// drop(rx);
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    ///
    /// One value only: `send` consumes the sender.
    ///
    /// ```compile_fail
    /// let (tx, _rx) = quell_executor::sync::oneshot::channel::<u8>();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap(); // error: use of moved value `tx`
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let shared = self.shared.take().expect("sender used once");
        let mut st = lock(&shared);
        st.sender_done = true;
        if st.rx_closed {
            return Err(value);
        }
        st.value = Some(value);
        let w = st.rx_waker.take();
        drop(st);
        wake_all(w);
        Ok(())
    }

    /// Whether the receiver was dropped or closed (a `send` would fail).
    ///
    /// ```
    /// let (tx, rx) = quell_executor::sync::oneshot::channel::<u8>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.as_ref().is_none_or(|s| lock(s).rx_closed)
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        let mut st = lock(&shared);
        st.sender_done = true;
        let w = st.rx_waker.take();
        drop(st);
        wake_all(w);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

/// Receives the one value: `.await` it (a cancel-aware await point), or
/// [`try_recv`](Self::try_recv).
///
/// Awaiting yields `Ok(value)`, `Err(RecvError::Closed)` if the sender was
/// dropped without sending, or `Err(RecvError::Cancelled(..))` if the
/// current task's cancellation is observed at this await (every poll checks,
/// so it is sticky). A cancelled receive takes nothing: a value sent before
/// or after it stays in the channel, and awaiting `&mut receiver` again
/// inside a [`shield`](quell_cancel::shield), or `try_recv`, returns it.
///
/// ```
/// use quell_cancel::{shield, Cause};
/// use quell_executor::sync::{oneshot, RecvError};
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (tx, mut rx) = oneshot::channel::<u32>();
///     let (parked_tx, parked_rx) = oneshot::channel::<()>();
///     let task = quell_executor::spawn(async move {
///         parked_tx.send(()).unwrap();
///         let first = (&mut rx).await; // cancelled
///         let cleanup = shield(&mut rx).await; // still gets the value
///         (first, cleanup)
///     });
///     parked_rx.await.unwrap();
///     task.cancel(Cause::explicit("stop"));
///     let (first, cleanup) = {
///         // the value arrives after the cancel
///         tx.send(7).unwrap();
///         task.await.unwrap()
///     };
///     assert!(matches!(first, Err(RecvError::Cancelled(_))));
///     assert_eq!(cleanup.unwrap(), 7);
/// });
/// ```
pub struct Receiver<T> {
    shared: Arc<Mutex<State<T>>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it is there. Never blocks and does not observe
    /// cancellation.
    ///
    /// ```
    /// use quell_executor::sync::{oneshot, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel::<u8>();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(3).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut st = lock(&self.shared);
        match st.value.take() {
            Some(v) => Ok(v),
            None if st.sender_done => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Closes the channel: a later `send` fails and gives its value back. A
    /// value sent before the close can still be received.
    ///
    /// ```
    /// let (tx, mut rx) = quell_executor::sync::oneshot::channel::<u8>();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn close(&mut self) {
        lock(&self.shared).rx_closed = true;
    }

    /// Whether the receiver's waker is stored (test introspection).
    #[cfg(test)]
    pub(crate) fn has_waker(&self) -> bool {
        lock(&self.shared).rx_waker.is_some()
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let p = self.as_mut().poll_waiting(cx);
        if p.is_pending() {
            quell_cancel::rt_internal::wait::record(&ONESHOT_RECV, None, 0);
        }
        p
    }
}

/// `oneshot::Receiver` (a task dump's await point): waits for the value (its `.await` has no caller location).
static ONESHOT_RECV: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "oneshot::Receiver",
        describe: None,
    };

impl<T> Receiver<T> {
    /// The poll, without the dump's record.
    #[inline]
    fn poll_waiting(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        // Step 1: budget. Pending here has taken nothing.
        ready!(coop::poll_proceed(cx));
        // Step 2: cancellation first. Take nothing; leave no waker behind.
        if let Some(c) = context::observed() {
            let stale = lock(&self.shared).rx_waker.take();
            drop(stale);
            return Poll::Ready(Err(RecvError::Cancelled(c)));
        }
        // Step 3: the value is removed only here, in the poll returning it.
        let mut st = lock(&self.shared);
        if let Some(v) = st.value.take() {
            let stale = st.rx_waker.take();
            drop(st);
            drop(stale);
            return Poll::Ready(Ok(v));
        }
        if st.sender_done {
            let stale = st.rx_waker.take();
            drop(st);
            drop(stale);
            return Poll::Ready(Err(RecvError::Closed));
        }
        if !st
            .rx_waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            let w = cx.waker().clone();
            let old = st.rx_waker.replace(w);
            drop(st);
            drop(old);
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut st = lock(&self.shared);
        st.rx_closed = true;
        let value = st.value.take();
        let waker = st.rx_waker.take();
        drop(st);
        // User destructors run unlocked (a `T` may own this channel's sender).
        drop(value);
        drop(waker);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}
