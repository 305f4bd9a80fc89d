//! The receiving half of a bounded or rendezvous channel (the unbounded
//! receiver wraps it): `recv`, `poll_recv`, `try_recv`, `close`, and the
//! `Stream` impl.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use quell_cancel::rt_internal as context;
use quell_cancel::rt_internal::wait::{self, AwaitPoint};
use quell_io_driver::rt_internal::coop;

use super::chan::Chan;
use crate::loom::Arc;
use crate::sync::error::{RecvError, TryRecvError};
use crate::sync::waiters::{lock, wake_all};

/// The receiving half. There is one (single consumer): it is not `Clone`.
///
/// It is also a [`Stream`] of the values: the stream ends when the channel
/// is closed and drained, **or when the current task's cancellation is
/// observed** (nothing is taken then: the values stay for a later
/// `recv`/`try_recv`, e.g. in a shielded cleanup). Use
/// [`recv`](Self::recv) to tell the two ends apart.
///
/// ```compile_fail
/// let (_tx, rx) = quell_executor::sync::mpsc::channel::<u8>(1);
/// let rx2 = rx.clone(); // error: no method named `clone`
/// ```
pub struct Receiver<T> {
    pub(super) chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// Receives the next value, waiting while the channel is empty. A
    /// cancel-aware await point.
    ///
    /// * `Ok(value)`: the value was removed from the channel by this call.
    /// * `Err(RecvError::Closed)`: every sender is gone (or the channel was
    ///   closed) and the buffer is empty.
    /// * `Err(RecvError::Cancelled(c))`: the current task's cancellation was
    ///   observed at this await (checked at every poll, before the buffer,
    ///   so it is sticky); nothing was taken, buffered values stay for the
    ///   next receive that is not cancelled ([`try_recv`](Self::try_recv),
    ///   a receive inside a [`shield`](quell_cancel::shield), or whoever gets
    ///   this receiver next).
    ///
    /// ```
    /// use quell_cancel::Cause;
    /// use quell_executor::sync::{mpsc, RecvError};
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (tx, mut rx) = mpsc::channel::<u32>(8);
    ///     let task = quell_executor::spawn(async move {
    ///         let r = rx.recv().await;
    ///         (r, rx)
    ///     });
    ///     task.cancel(Cause::explicit("stop"));
    ///     let (r, mut rx) = task.await.unwrap();
    ///     assert!(matches!(r, Err(RecvError::Cancelled(_))));
    ///     // The channel still works for the next receiver.
    ///     tx.send(5).await.unwrap();
    ///     assert_eq!(rx.recv().await.unwrap(), 5);
    /// });
    /// ```
    #[track_caller]
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            receiver: self,
            registered: false,
            at: Location::caller(),
        }
    }

    /// [`recv`](Self::recv) as a poll function (for hand-written futures
    /// and streams), with the same rules. On `Pending` the waker stays
    /// registered until the next poll or receive.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use quell_executor::sync::mpsc;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     tx.send(3).await.unwrap();
    ///     assert_eq!(poll_fn(|cx| rx.poll_recv(cx)).await.unwrap(), 3);
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        // Step 1: budget. Pending here has taken nothing.
        ready!(coop::poll_proceed(cx));
        // Step 2: cancellation first. Take nothing; leave no waker behind
        // (the slot is ours: there is one receiver).
        if let Some(c) = context::observed() {
            let stale = lock(&self.chan.state).rx_waker.take();
            drop(stale);
            return Poll::Ready(Err(RecvError::Cancelled(c)));
        }
        // Step 3: a value leaves the channel only here, in the poll
        // returning it.
        let mut st = lock(&self.chan.state);
        let out = match st.pop() {
            Some((v, w)) => Ok((v, w)),
            None if st.is_done() => Err(RecvError::Closed),
            None => {
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
                return Poll::Pending;
            }
        };
        let stale = st.rx_waker.take();
        drop(st);
        drop(stale);
        Poll::Ready(out.map(|(v, w)| {
            wake_all(w);
            v
        }))
    }

    /// Takes the next value if there is one (on a rendezvous channel: the
    /// value of a parked `send`, which then completes). Never blocks and
    /// does not observe cancellation.
    ///
    /// ```
    /// use quell_executor::sync::{mpsc, TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut st = lock(&self.chan.state);
        if let Some((v, w)) = st.pop() {
            drop(st);
            wake_all(w);
            return Ok(v);
        }
        if st.is_done() {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Closes the channel: sends fail from now on (parked senders are woken
    /// and get their value back; unused permits may still send), values
    /// already buffered can still be received, then `recv` answers
    /// `Closed`.
    ///
    /// ```
    /// use quell_executor::sync::{mpsc, TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// rx.close();
    /// assert!(tx.try_send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn close(&mut self) {
        let ws = lock(&self.chan.state).close();
        wake_all(ws);
    }

    /// Number of values in the channel now (on a rendezvous channel: the
    /// values parked sends offer).
    ///
    /// ```
    /// let (tx, rx) = quell_executor::sync::mpsc::channel(2);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// assert!(!rx.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.chan.state).len()
    }

    /// Whether the channel holds no value now.
    ///
    /// ```
    /// let (_tx, rx) = quell_executor::sync::mpsc::channel::<u8>(2);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the receiver's waker is stored (test introspection).
    #[cfg(test)]
    pub(crate) fn has_waker(&self) -> bool {
        lock(&self.chan.state).rx_waker.is_some()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut st = lock(&self.chan.state);
        st.rx_dropped = true;
        let ws = st.close();
        let buf = std::mem::take(&mut st.buf);
        let stale = st.rx_waker.take();
        drop(st);
        wake_all(ws);
        // User destructors run unlocked (a `T` may own a sender of this channel).
        drop(buf);
        drop(stale);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver").finish_non_exhaustive()
    }
}

/// The values, ending on close or on the current task's cancellation (see
/// [`Receiver`]).
///
/// ```
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use futures_core::Stream;
/// use quell_executor::sync::mpsc;
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (tx, mut rx) = mpsc::channel(4);
///     tx.send(1).await.unwrap();
///     drop(tx);
///     assert_eq!(poll_fn(|cx| Pin::new(&mut rx).poll_next(cx)).await, Some(1));
///     assert_eq!(poll_fn(|cx| Pin::new(&mut rx).poll_next(cx)).await, None);
/// });
/// ```
impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx).map(Result::ok)
    }
}

/// Future returned by [`Receiver::recv`]. Dropping it removes its waker.
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    /// A waker of ours may be in the slot.
    registered: bool,
    /// The caller of `recv` (task dumps show where a task waits).
    at: &'static Location<'static>,
}

/// The await point of a parked receive (task dumps). Its queue is empty:
/// that is why it parked (a value sent since has woken the task, which
/// the dump then shows queued).
static RECV: AwaitPoint = AwaitPoint {
    what: "mpsc::Receiver::recv",
    describe: Some(describe_recv),
};

fn describe_recv(_: u64) -> Option<String> {
    Some("queue length 0".to_owned())
}

impl<T> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let r = this.receiver.poll_recv(cx);
        this.registered = r.is_pending();
        if this.registered {
            wait::record(&RECV, Some(this.at), 0);
        }
        r
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if self.registered {
            let stale = lock(&self.receiver.chan.state).rx_waker.take();
            drop(stale);
        }
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Recv").finish_non_exhaustive()
    }
}
