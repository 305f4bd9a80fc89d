//! Multi-producer, single-consumer channels whose `recv` and `send` are
//! cancel-aware await points: bounded ([`channel`]`(n)`), rendezvous
//! ([`channel`]`(0)`: a send completes only when a receive takes its
//! value) and unbounded ([`unbounded_channel`]: sends never wait).
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
//! ```text
//! chan.rs       the shared state and its operations under the lock
//! sender.rs     Sender: send, try_send, reserve / try_reserve → Permit
//! receiver.rs   Receiver: recv, poll_recv, try_recv, close, Stream
//! unbounded.rs  UnboundedSender / UnboundedReceiver
//! ```
//!
//! # Protocol
//!
//! One `Mutex<State>`: the buffer (`VecDeque`, at most `cap` values minus
//! the slots reserved by unused [`Permit`]s), the sender count, the closed
//! flag, the receiver's waker slot, the list of senders (and reserves)
//! waiting for room (each with its own id, see `waiters.rs`), and, for a
//! rendezvous channel, the FIFO of values offered by parked sends.
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
//!
//! # Rendezvous (capacity 0)
//!
//! There is no buffer: a `send` offers its value (an entry in `offers`,
//! with its waker) and waits; a receive takes the oldest offered value,
//! which completes that send (its waker is woken), all under the lock. So
//! the exact rule is:
//!
//! * a send **completes at the instant a receive takes its value**; a poll
//!   of it after that answers `Ok(())`, even if the task's cancellation is
//!   observed at that poll (the value was delivered: it can neither be
//!   given back nor lost);
//! * a send whose cancellation is observed while its value is still
//!   offered withdraws it and returns `SendError::Cancelled(value, _)`;
//!   dropping the future withdraws (and drops) it; closing the channel
//!   makes it return `SendError::Closed(value)`;
//! * a cancelled receive takes nothing (offered values stay offered);
//! * `try_recv` takes an offered value (completing that send); `try_send`
//!   and `try_reserve` answer `Full` (there is never a slot), and
//!   `reserve` only ends with `Closed` or `Cancelled`.
//!
//! # Streams
//!
//! [`Receiver`] and [`UnboundedReceiver`] are `futures_core::Stream`s of
//! `T`. A stream's item cannot carry `Cancelled` without making every
//! `while let Some(..)` loop spin on a sticky error, so the stream **ends**
//! (`None`) when the channel is closed and drained *or* when the current
//! task's cancellation is observed; in the second case nothing was taken.

mod chan;
mod receiver;
mod sender;
mod unbounded;

pub use super::error::{RecvError, SendError, TryRecvError, TrySendError};
pub use receiver::{Receiver, Recv};
pub use sender::{Permit, Reserve, Send, Sender};
pub use unbounded::{UnboundedReceiver, UnboundedSender};

/// Creates a channel holding at most `capacity` values; `0` makes a
/// rendezvous channel (see the [module docs](self#rendezvous-capacity-0)).
///
/// ```
/// let (tx, mut rx) = quell_executor::sync::mpsc::channel::<u8>(4);
/// tx.try_send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
///
/// A rendezvous channel: the send completes once the receive has the value.
///
/// ```
/// use quell_executor::sync::mpsc;
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (tx, mut rx) = mpsc::channel::<u8>(0);
///     let sender = quell_executor::spawn(async move { tx.send(9).await });
///     assert_eq!(rx.recv().await.unwrap(), 9);
///     sender.await.unwrap().unwrap();
/// });
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    // `usize::MAX` is the unbounded marker; nobody can buffer that much.
    let chan = chan::new(capacity.min(chan::UNBOUNDED - 1));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// Creates an unbounded channel: sends never wait.
///
/// ```
/// let (tx, mut rx) = quell_executor::sync::mpsc::unbounded_channel::<u8>();
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = chan::new(chan::UNBOUNDED);
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver {
            inner: Receiver { chan },
        },
    )
}
