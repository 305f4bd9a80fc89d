//! The sending half of a bounded or rendezvous channel: `send`, `reserve`
//! and their non-waiting forms.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use quell_cancel::rt_internal as context;
use quell_io_driver::rt_internal::coop;

use super::chan::{Chan, Offer};
use crate::loom::Arc;
use crate::sync::error::{SendError, TrySendError};
use crate::sync::waiters::{lock, wake_all, WaiterId};

/// The sending half; clone it for more producers. When the last clone is
/// dropped, the receiver sees `Closed` once the buffer is drained.
pub struct Sender<T> {
    pub(super) chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room while the channel is full (on a
    /// rendezvous channel: until a receive takes it). A cancel-aware await
    /// point.
    ///
    /// * `Ok(())`: the value is in the channel (rendezvous: a receive has
    ///   taken it).
    /// * `Err(SendError::Closed(value))`: the receiver is gone or closed.
    /// * `Err(SendError::Cancelled(value, c))`: the current task's
    ///   cancellation was observed at this await (checked at every poll,
    ///   before anything else, even if there is room); the value was not
    ///   sent. Use [`try_send`](Self::try_send), or send inside a
    ///   [`shield`](quell_cancel::shield), to send from a cancelled task.
    ///   On a rendezvous channel a send whose value a receive already took
    ///   has completed: it answers `Ok(())` even if the cancel is observed
    ///   after that (the value cannot be given back, and it is not lost).
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
    #[track_caller]
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send {
            at: std::panic::Location::caller(),
            sender: self,
            value: Some(value),
            waiter: None,
        }
    }

    /// Sends `value` if there is room now. Never blocks and does not observe
    /// cancellation. On a rendezvous channel there is never room (a value
    /// is only handed over by a waiting [`send`](Self::send)): `Full`.
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

    /// Waits for a free slot and reserves it: the returned [`Permit`] sends
    /// one value without waiting (or gives the slot back when dropped). A
    /// cancel-aware await point with the rules of [`send`](Self::send): a
    /// cancelled reserve holds no slot, and a slot handed to it while it
    /// waited goes on to the next waiting sender.
    ///
    /// A rendezvous channel has no slots: there `reserve` only ends with
    /// `Closed` or `Cancelled`; use `send`.
    ///
    /// ```
    /// use quell_executor::sync::mpsc;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let permit = tx.reserve().await.unwrap();
    ///     assert!(tx.try_send(0).is_err()); // the slot is taken
    ///     permit.send(7);
    ///     assert_eq!(rx.recv().await.unwrap(), 7);
    /// });
    /// ```
    #[track_caller]
    pub fn reserve(&self) -> Reserve<'_, T> {
        Reserve {
            at: std::panic::Location::caller(),
            sender: self,
            waiter: None,
        }
    }

    /// Reserves a slot if one is free now. Never blocks and does not
    /// observe cancellation.
    ///
    /// ```
    /// use quell_executor::sync::{mpsc, TrySendError};
    ///
    /// let (tx, mut rx) = mpsc::channel::<u8>(1);
    /// let p = tx.try_reserve().unwrap();
    /// assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    /// drop(p); // the slot is free again
    /// tx.try_reserve().unwrap().send(1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        let mut st = lock(&self.chan.state);
        if st.closed {
            return Err(TrySendError::Closed(()));
        }
        if !st.has_room() {
            return Err(TrySendError::Full(()));
        }
        st.reserved += 1;
        Ok(Permit { sender: self })
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

    /// The channel's capacity (as given to [`channel`](super::channel)).
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
        let st = lock(&self.chan.state);
        st.send_waiters.len() + st.offers.len()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
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
/// with it, it was never received) and passes on a slot it had been
/// handed.
#[must_use = "futures do nothing unless polled"]
pub struct Send<'a, T> {
    /// The caller (task dumps show where a task waits).
    at: &'static std::panic::Location<'static>,
    sender: &'a Sender<T>,
    /// `None` once completed, or while offered on a rendezvous channel.
    value: Option<T>,
    /// Bounded: the entry in `send_waiters`; rendezvous: the offer.
    waiter: Option<WaiterId>,
}

// `T` is never pinned: it is moved out on completion.
impl<T> Unpin for Send<'_, T> {}

impl<T> Send<'_, T> {
    /// Leaves the waiter list (bounded, passing on a slot it was handed) or
    /// withdraws its offer (rendezvous). Returns the value if it was not
    /// sent; `None` means a receive took it (rendezvous) or no value.
    fn leave(&mut self) -> Option<T> {
        let Some(id) = self.waiter.take() else {
            return self.value.take();
        };
        let mut st = lock(&self.sender.chan.state);
        if st.is_rendezvous() {
            return st.withdraw(id);
        }
        let w = st.leave(id);
        drop(st);
        wake_all(w);
        self.value.take()
    }
}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let p = self.as_mut().poll_waiting(cx);
        if p.is_pending() {
            quell_cancel::rt_internal::wait::record(&SEND, Some(self.at), 0);
        }
        p
    }
}

/// `mpsc::Sender::send` (a task dump's await point): the channel is full.
static SEND: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "mpsc::Sender::send",
        describe: None,
    };

impl<T> Send<'_, T> {
    /// The poll, without the dump's record.
    #[inline]
    fn poll_waiting(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        let this = self.get_mut();
        assert!(
            this.value.is_some() || this.waiter.is_some(),
            "`Send` polled after completion"
        );
        // Step 1: budget. Pending here has sent nothing.
        ready!(coop::poll_proceed(cx));
        // Step 2: cancellation first; the value goes back to the caller
        // (unless a rendezvous receive already took it: then it is sent).
        if let Some(c) = context::observed() {
            return Poll::Ready(match this.leave() {
                Some(v) => Err(SendError::Cancelled(v, c)),
                None => Ok(()),
            });
        }
        // Step 3: under the lock.
        let mut st = lock(&this.sender.chan.state);
        if st.is_rendezvous() {
            let Some(key) = this.waiter else {
                if st.closed {
                    drop(st);
                    let v = this.value.take().expect("checked above");
                    return Poll::Ready(Err(SendError::Closed(v)));
                }
                // Offer the value and wake the receiver.
                let waker = cx.waker().clone();
                let value = this.value.take();
                this.waiter = Some(st.offers.push_back(Offer {
                    value,
                    waker: Some(waker),
                }));
                let w = st.rx_waker.take();
                drop(st);
                wake_all(w);
                return Poll::Pending;
            };
            let offer = st.offers.get(key).expect("only the send removes its offer");
            if offer.value.is_none() {
                st.offers.remove(key);
                this.waiter = None;
                return Poll::Ready(Ok(()));
            }
            if st.closed {
                let v = st.withdraw(key).expect("checked above");
                this.waiter = None;
                return Poll::Ready(Err(SendError::Closed(v)));
            }
            let o = st.offers.get_mut(key).expect("checked above");
            if !o.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                let new = cx.waker().clone();
                let old = o.waker.replace(new);
                drop(st);
                drop(old);
            }
            return Poll::Pending;
        }
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
        // An unsent value is dropped here, unlocked.
        drop(self.leave());
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Send")
            .field("waiter", &self.waiter)
            .finish_non_exhaustive()
    }
}

/// Future returned by [`Sender::reserve`]. Dropping it before completion
/// passes on a slot it had been handed.
#[must_use = "futures do nothing unless polled"]
pub struct Reserve<'a, T> {
    /// The caller (task dumps show where a task waits).
    at: &'static std::panic::Location<'static>,
    sender: &'a Sender<T>,
    waiter: Option<WaiterId>,
}

impl<T> Reserve<'_, T> {
    fn leave(&mut self) {
        if let Some(id) = self.waiter.take() {
            let mut st = lock(&self.sender.chan.state);
            let w = st.leave(id);
            drop(st);
            wake_all(w);
        }
    }
}

impl<'a, T> Future for Reserve<'a, T> {
    type Output = Result<Permit<'a, T>, SendError<()>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let p = self.as_mut().poll_waiting(cx);
        if p.is_pending() {
            quell_cancel::rt_internal::wait::record(&RESERVE, Some(self.at), 0);
        }
        p
    }
}

/// `mpsc::Sender::reserve` (a task dump's await point): the channel is full.
static RESERVE: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "mpsc::Sender::reserve",
        describe: None,
    };

impl<'a, T> Reserve<'a, T> {
    /// The poll, without the dump's record.
    #[inline]
    fn poll_waiting(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Permit<'a, T>, SendError<()>>> {
        let this = self.get_mut();
        // Step 1: budget. Step 2: cancellation first, holding no slot.
        ready!(coop::poll_proceed(cx));
        if let Some(c) = context::observed() {
            this.leave();
            return Poll::Ready(Err(SendError::Cancelled((), c)));
        }
        // Step 3: under the lock, as `Send` (a slot instead of a push).
        let mut st = lock(&this.sender.chan.state);
        if st.closed || st.has_room() {
            if let Some(id) = this.waiter.take() {
                st.send_waiters.remove(id);
            }
            if st.closed {
                return Poll::Ready(Err(SendError::Closed(())));
            }
            st.reserved += 1;
            return Poll::Ready(Ok(Permit {
                sender: this.sender,
            }));
        }
        st.send_waiters.park(&mut this.waiter, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        self.leave();
    }
}

impl<T> fmt::Debug for Reserve<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Reserve")
            .field("waiter", &self.waiter)
            .finish_non_exhaustive()
    }
}

/// A reserved slot ([`Sender::reserve`]): [`send`](Permit::send) uses it
/// without waiting; dropping it gives the slot back (to a waiting sender).
#[must_use = "dropping a permit gives its slot back"]
pub struct Permit<'a, T> {
    sender: &'a Sender<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved slot. Never blocks and never fails:
    /// a channel closed by [`Receiver::close`](super::Receiver::close)
    /// after the reservation still takes it (the receiver can drain it);
    /// if the receiver was dropped, the value is dropped.
    ///
    /// ```
    /// let (tx, mut rx) = quell_executor::sync::mpsc::channel(2);
    /// tx.try_reserve().unwrap().send("x");
    /// assert_eq!(rx.try_recv(), Ok("x"));
    /// ```
    pub fn send(self, value: T) {
        let mut st = lock(&self.sender.chan.state);
        st.reserved -= 1;
        let (w, unsent) = if st.rx_dropped {
            (None, Some(value))
        } else {
            (st.push(value), None)
        };
        drop(st);
        std::mem::forget(self);
        wake_all(w);
        drop(unsent);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        let w = lock(&self.sender.chan.state).unreserve();
        wake_all(w);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Permit").finish_non_exhaustive()
    }
}
