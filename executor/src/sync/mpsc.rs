//! A bounded multi-producer, single-consumer channel whose `recv` and `send`
//! are cancel-aware await points.
//!
//! ```
//! use quell_executor::sync::mpsc;
//!
//! let rt = quell_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let (tx, mut rx) = mpsc::channel(2);
//!     for i in 0..3 {
//!         let tx = tx.clone();
//!         quell_executor::spawn(async move { tx.send(i).await.unwrap() });
//!     }
//!     drop(tx);
//!     let mut got = Vec::new();
//!     while let Ok(v) = rx.recv().await {
//!         got.push(v);
//!     }
//!     got.sort();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```
//!
//! # Protocol
//!
//! One `Mutex<State>`: the buffer (`VecDeque`, at most `cap` values), the
//! sender count, the closed flag, the receiver's waker slot and the list of
//! senders waiting for room (each with its own id, see `waiters.rs`).
//!
//! `recv` poll, in order:
//!
//! 1. cooperative budget (`Pending` takes nothing);
//! 2. cancellation: clear the receiver's waker slot, return `Cancelled`;
//!    nothing is taken, buffered values stay for the next receive;
//! 3. under the lock: pop the front value → notify one waiting sender (a slot
//!    is free), clear the waker slot, `Ok`; else all senders gone or closed →
//!    `Closed`; else store the waker → `Pending`.
//!
//! `send` poll, in order: budget; cancellation (leave the waiter list,
//! return the value in `SendError::Cancelled`); under the lock: closed →
//! `SendError::Closed(value)`; room → push, leave the list, take the
//! receiver's waker → `Ok`; full → park in the waiter list → `Pending`.
//!
//! # Invariants
//!
//! * A value leaves the buffer only inside the `recv` poll (or `try_recv`)
//!   that returns it, and enters it only in the `send` poll (or `try_send`)
//!   that returns `Ok`. Nothing is ever dropped on a cancel.
//! * Every free slot that appeared while senders were waiting was handed to
//!   one of them (`notify_one`); a notified sender that leaves (cancelled or
//!   dropped) while room remains hands it to the next waiter, so no sender
//!   sleeps while the channel has room for it.
//! * Wakers are woken after the lock is released (`waiters::wake_all`).
//!
//! Fairness: a sender that finds room does not queue behind parked senders.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use quell_cancel::context;

pub use super::error::{RecvError, SendError, TryRecvError, TrySendError};
use super::waiters::{lock, wake_all, WaiterId, WaiterList};
use crate::loom::{Arc, Mutex};

/// Creates a bounded channel holding at most `capacity` values.
///
/// ```
/// let (tx, mut rx) = quell_executor::sync::mpsc::channel::<u8>(4);
/// tx.try_send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
///
/// # Panics
///
/// If `capacity` is 0 (a rendezvous channel would need a value handed to a
/// specific receiver, which the cancel-vs-value rule of [`crate::sync`]
/// excludes).
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc::channel: capacity must be at least 1");
    let chan = Arc::new(Chan {
        state: Mutex::new(State {
            buf: VecDeque::with_capacity(capacity.min(1024)),
            cap: capacity,
            senders: 1,
            closed: false,
            rx_waker: None,
            send_waiters: WaiterList::new(),
        }),
    });
    (Sender { chan: chan.clone() }, Receiver { chan })
}

struct Chan<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    buf: VecDeque<T>,
    cap: usize,
    /// Live `Sender`s.
    senders: usize,
    /// The receiver closed the channel or was dropped.
    closed: bool,
    /// The parked receiver, if any.
    rx_waker: Option<Waker>,
    /// Senders parked on a full channel.
    send_waiters: WaiterList,
}

impl<T> State<T> {
    fn has_room(&self) -> bool {
        self.buf.len() < self.cap
    }

    /// Pushes `value` (the caller checked room and `closed`) and takes the
    /// receiver's waker.
    fn push(&mut self, value: T) -> Option<Waker> {
        debug_assert!(self.has_room() && !self.closed);
        self.buf.push_back(value);
        self.rx_waker.take()
    }

    /// Pops a value and, since a slot just freed, notifies one waiting sender.
    fn pop(&mut self) -> Option<(T, Option<Waker>)> {
        let v = self.buf.pop_front()?;
        Some((v, self.send_waiters.notify_one()))
    }

    /// A sender waiter leaves without sending: if it had been handed a slot
    /// that is still free, hand it to the next waiter.
    fn leave(&mut self, id: WaiterId) -> Option<Waker> {
        let was_notified = self.send_waiters.remove(id);
        if was_notified && self.has_room() && !self.closed {
            self.send_waiters.notify_one()
        } else {
            None
        }
    }
}

/// The sending half; clone it for more producers. When the last clone is
/// dropped, the receiver sees `Closed` once the buffer is drained.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room while the channel is full. A
    /// cancel-aware await point.
    ///
    /// * `Ok(())`: the value is in the channel.
    /// * `Err(SendError::Closed(value))`: the receiver is gone or closed.
    /// * `Err(SendError::Cancelled(value, c))`: the current task's
    ///   cancellation was observed at this await (checked at every poll,
    ///   before anything else, even if there is room); the value was not
    ///   sent. Use [`try_send`](Self::try_send), or send inside a
    ///   [`shield`](quell_cancel::shield), to send from a cancelled task.
    ///
    /// ```
    /// use quell_cancel::Cause;
    /// use quell_executor::sync::{mpsc, SendError};
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     tx.send(1).await.unwrap(); // now full
    ///     let task = quell_executor::spawn(async move { tx.send(2).await });
    ///     task.cancel(Cause::explicit("stop"));
    ///     match task.await.unwrap() {
    ///         Err(SendError::Cancelled(v, c)) => {
    ///             assert_eq!(v, 2); // given back
    ///             assert_eq!(c.cause().message(), Some("stop"));
    ///         }
    ///         _ => unreachable!(),
    ///     }
    ///     assert_eq!(rx.try_recv(), Ok(1));
    /// });
    /// ```
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send {
            sender: self,
            value: Some(value),
            waiter: None,
        }
    }

    /// Sends `value` if there is room now. Never blocks and does not observe
    /// cancellation.
    ///
    /// ```
    /// use quell_executor::sync::{mpsc, TrySendError};
    ///
    /// let (tx, rx) = mpsc::channel(1);
    /// tx.try_send('a').unwrap();
    /// assert!(matches!(tx.try_send('b'), Err(TrySendError::Full('b'))));
    /// drop(rx);
    /// assert!(matches!(tx.try_send('c'), Err(TrySendError::Closed('c'))));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut st = lock(&self.chan.state);
        if st.closed {
            return Err(TrySendError::Closed(value));
        }
        if !st.has_room() {
            return Err(TrySendError::Full(value));
        }
        let w = st.push(value);
        drop(st);
        wake_all(w);
        Ok(())
    }

    /// Whether the receiver is gone or closed the channel.
    ///
    /// ```
    /// let (tx, mut rx) = quell_executor::sync::mpsc::channel::<u8>(1);
    /// assert!(!tx.is_closed());
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        lock(&self.chan.state).closed
    }

    /// The channel's capacity (as given to [`channel`]).
    ///
    /// ```
    /// let (tx, _rx) = quell_executor::sync::mpsc::channel::<u8>(3);
    /// assert_eq!(tx.max_capacity(), 3);
    /// ```
    pub fn max_capacity(&self) -> usize {
        lock(&self.chan.state).cap
    }

    /// Number of senders parked on the full channel (test introspection).
    #[cfg(test)]
    pub(crate) fn parked_senders(&self) -> usize {
        lock(&self.chan.state).send_waiters.len()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        lock(&self.chan.state).senders += 1;
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut st = lock(&self.chan.state);
        st.senders -= 1;
        let w = if st.senders == 0 {
            st.rx_waker.take()
        } else {
            None
        };
        drop(st);
        wake_all(w);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender").finish_non_exhaustive()
    }
}

/// Future returned by [`Sender::send`].
///
/// Dropping it before completion withdraws the send (the value is dropped
/// with it, it was never in the channel) and passes on a slot it had been
/// handed.
#[must_use = "futures do nothing unless polled"]
pub struct Send<'a, T> {
    sender: &'a Sender<T>,
    /// `None` once completed.
    value: Option<T>,
    waiter: Option<WaiterId>,
}

// `T` is never pinned: it is moved out on completion.
impl<T> Unpin for Send<'_, T> {}

impl<T> Send<'_, T> {
    /// Leaves the waiter list (if in it), passing on a slot it was handed.
    fn leave(&mut self) {
        if let Some(id) = self.waiter.take() {
            let mut st = lock(&self.sender.chan.state);
            let w = st.leave(id);
            drop(st);
            wake_all(w);
        }
    }
}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(this.value.is_some(), "`Send` polled after completion");
        // Step 1: budget. Pending here has sent nothing.
        ready!(context::poll_proceed(cx));
        // Step 2: cancellation first; the value goes back to the caller.
        if let Some(c) = context::observed() {
            this.leave();
            let v = this.value.take().expect("checked above");
            return Poll::Ready(Err(SendError::Cancelled(v, c)));
        }
        // Step 3: under the lock.
        let mut st = lock(&this.sender.chan.state);
        if st.closed {
            if let Some(id) = this.waiter.take() {
                // Closing woke every waiter; nothing to pass on.
                st.send_waiters.remove(id);
            }
            drop(st);
            let v = this.value.take().expect("checked above");
            return Poll::Ready(Err(SendError::Closed(v)));
        }
        if st.has_room() {
            if let Some(id) = this.waiter.take() {
                st.send_waiters.remove(id);
            }
            let w = st.push(this.value.take().expect("checked above"));
            drop(st);
            wake_all(w);
            return Poll::Ready(Ok(()));
        }
        st.send_waiters.park(&mut this.waiter, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        self.leave();
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Send")
            .field("waiter", &self.waiter)
            .finish_non_exhaustive()
    }
}

/// The receiving half. There is one (single consumer): it is not `Clone`.
///
/// ```compile_fail
/// let (_tx, rx) = quell_executor::sync::mpsc::channel::<u8>(1);
/// let rx2 = rx.clone(); // error: no method named `clone`
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
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
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            receiver: self,
            registered: false,
        }
    }

    /// Takes the next value if there is one. Never blocks and does not
    /// observe cancellation.
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
        if st.senders == 0 || st.closed {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Closes the channel: sends fail from now on (parked senders are woken
    /// and get their value back), values already buffered can still be
    /// received, then `recv` answers `Closed`.
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
        let mut st = lock(&self.chan.state);
        st.closed = true;
        let ws = st.send_waiters.take_unnotified();
        drop(st);
        wake_all(ws);
    }

    /// Number of values in the channel now.
    ///
    /// ```
    /// let (tx, rx) = quell_executor::sync::mpsc::channel(2);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// assert!(!rx.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.chan.state).buf.len()
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
        st.closed = true;
        let ws = st.send_waiters.take_unnotified();
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

/// Future returned by [`Receiver::recv`]. Dropping it removes its waker.
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    /// A waker of ours may be in the slot.
    registered: bool,
}

impl<T> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Recv {
            receiver,
            registered,
        } = self.get_mut();
        // Step 1: budget. Pending here has taken nothing.
        ready!(context::poll_proceed(cx));
        // Step 2: cancellation first. Take nothing; leave no waker behind
        // (the slot is ours: there is one receiver).
        if let Some(c) = context::observed() {
            *registered = false;
            let stale = lock(&receiver.chan.state).rx_waker.take();
            drop(stale);
            return Poll::Ready(Err(RecvError::Cancelled(c)));
        }
        // Step 3: a value leaves the buffer only here, in the poll returning it.
        let mut st = lock(&receiver.chan.state);
        let out = match st.pop() {
            Some((v, w)) => Ok((v, w)),
            None if st.senders == 0 || st.closed => Err(RecvError::Closed),
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
                *registered = true;
                return Poll::Pending;
            }
        };
        *registered = false;
        let stale = st.rx_waker.take();
        drop(st);
        drop(stale);
        Poll::Ready(out.map(|(v, w)| {
            wake_all(w);
            v
        }))
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
