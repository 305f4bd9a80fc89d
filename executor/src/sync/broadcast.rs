//! A multi-producer, multi-consumer broadcast channel: every receiver sees
//! every value sent after it subscribed, as long as it keeps up — the
//! channel keeps the last `capacity` values, and a receiver that fell
//! further behind gets [`RecvError::Lagged`]`(n)` (the number it missed)
//! and continues with the oldest value still kept.
//!
//! ```
//! use quell_executor::sync::broadcast;
//!
//! let rt = quell_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let (tx, mut rx1) = broadcast::channel(16);
//!     let mut rx2 = tx.subscribe();
//!     tx.send(10).unwrap();
//!     assert_eq!(rx1.recv().await.unwrap(), 10);
//!     assert_eq!(rx2.recv().await.unwrap(), 10);
//! });
//! ```
//!
//! # Protocol
//!
//! One `Mutex<State>`: the last `capacity` values in a ring (`VecDeque`)
//! with the sequence number of its front, the sender count and the waiter
//! list. A receiver holds the sequence number of the next value it wants.
//! `recv` poll, in order: budget; cancellation → `Cancelled`, leaving the
//! list, **taking nothing** (its position is unchanged: the value it would
//! have received is the next one it receives); under the lock: position
//! before the front → `Lagged(n)`, position moved to the front; a value at
//! its position → clone it, advance, `Ok`; every sender gone → `Closed`;
//! else park. A send pushes (dropping the front when full) and takes every
//! parked waker. Every waiter is woken by every send, so there is nothing
//! to pass on. Values are cloned under the lock (`T: Clone` is user code:
//! the lock ignores poisoning, and the state is final before the clone).
//!
//! # Stream
//!
//! [`Receiver`] is a `futures_core::Stream` of `Result<T, Lagged>` that
//! ends when every sender is gone and everything was received, or when
//! the current task's cancellation is observed (nothing taken).

use std::collections::VecDeque;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use quell_cancel::{rt_internal as context, Cancelled};
use quell_io_driver::rt_internal::coop;

use super::error::SendError;
use super::waiters::{lock, wake_all, WaiterId, WaiterList};
use crate::loom::{Arc, Mutex};

/// Creates a broadcast channel keeping the last `capacity` values.
///
/// ```
/// let (tx, mut rx) = quell_executor::sync::broadcast::channel::<u8>(2);
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
///
/// # Panics
///
/// If `capacity` is 0.
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "broadcast::channel: capacity must be at least 1"
    );
    let shared = Arc::new(Mutex::new(State {
        ring: VecDeque::with_capacity(capacity.min(1024)),
        cap: capacity,
        front: 0,
        senders: 1,
        receivers: 1,
        waiters: WaiterList::new(),
    }));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver {
            shared,
            next: 0,
            waiter: None,
        },
    )
}

struct State<T> {
    ring: VecDeque<T>,
    cap: usize,
    /// Sequence number of `ring[0]`.
    front: u64,
    senders: usize,
    receivers: usize,
    waiters: WaiterList,
}

impl<T> State<T> {
    /// Sequence number of the next value to be sent.
    fn tail(&self) -> u64 {
        self.front + self.ring.len() as u64
    }
}

/// Why a broadcast receive returned no value.
#[derive(Clone, Debug)]
pub enum RecvError {
    /// Every sender is gone and this receiver has received everything.
    Closed,
    /// This receiver fell behind by more than the capacity: it missed this
    /// many values and now continues with the oldest one kept.
    Lagged(u64),
    /// The current task was cancelled; nothing was taken.
    Cancelled(Cancelled),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("channel closed"),
            RecvError::Lagged(n) => write!(f, "receiver lagged by {n} values"),
            RecvError::Cancelled(c) => write!(f, "receive {c}"),
        }
    }
}

impl Error for RecvError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            RecvError::Cancelled(c) => Some(c),
            _ => None,
        }
    }
}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing new now.
    Empty,
    /// Every sender is gone and everything was received.
    Closed,
    /// Missed this many values; see [`RecvError::Lagged`].
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Closed => f.write_str("channel closed"),
            TryRecvError::Lagged(n) => write!(f, "receiver lagged by {n} values"),
        }
    }
}

impl Error for TryRecvError {}

/// The item of a lagging receiver's stream: it missed this many values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lagged(pub u64);

/// The sending half; clone it for more producers.
pub struct Sender<T> {
    shared: Arc<Mutex<State<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value` to every receiver; returns how many there are. Never
    /// blocks (when full, the oldest value is dropped; receivers that had
    /// not received it will see `Lagged`). `Err(SendError::Closed(value))`
    /// if there is no receiver.
    ///
    /// ```
    /// let (tx, rx) = quell_executor::sync::broadcast::channel(4);
    /// assert_eq!(tx.send("a").unwrap(), 1);
    /// drop(rx);
    /// assert!(tx.send("b").is_err());
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut st = lock(&self.shared);
        if st.receivers == 0 {
            return Err(SendError::Closed(value));
        }
        let dropped = if st.ring.len() == st.cap {
            st.front += 1;
            st.ring.pop_front()
        } else {
            None
        };
        st.ring.push_back(value);
        let n = st.receivers;
        let ws = st.waiters.take_unnotified();
        drop(st);
        wake_all(ws);
        drop(dropped); // user destructor, unlocked
        Ok(n)
    }

    /// A new receiver that receives the values sent from now on.
    ///
    /// ```
    /// let (tx, _rx) = quell_executor::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2));
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver::at_tail(&self.shared)
    }

    /// Number of live receivers.
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared).receivers
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        lock(&self.shared).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut st = lock(&self.shared);
        st.senders -= 1;
        let ws = if st.senders == 0 {
            st.waiters.take_unnotified()
        } else {
            Vec::new()
        };
        drop(st);
        wake_all(ws);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

/// A receiving half; [`Sender::subscribe`] or
/// [`resubscribe`](Receiver::resubscribe) for more.
pub struct Receiver<T> {
    shared: Arc<Mutex<State<T>>>,
    /// Sequence number of the next value this receiver wants.
    next: u64,
    waiter: Option<WaiterId>,
}

/// What the receiver finds under the lock.
enum Found<T> {
    Value(T),
    Lagged(u64),
    Closed,
    Empty,
}

/// Under the lock: the value at position `*next` (advancing it), or why
/// there is none.
fn take<T: Clone>(next: &mut u64, st: &State<T>) -> Found<T> {
    if *next < st.front {
        let missed = st.front - *next;
        *next = st.front;
        return Found::Lagged(missed);
    }
    match st.ring.get((*next - st.front) as usize) {
        Some(v) => {
            *next += 1;
            Found::Value(v.clone())
        }
        None if st.senders == 0 => Found::Closed,
        None => Found::Empty,
    }
}

impl<T: Clone> Receiver<T> {
    /// Receives the next value, waiting while there is none. A cancel-aware
    /// await point: `Err(RecvError::Cancelled)` once the current task's
    /// cancellation is observed, taking nothing (the same value comes
    /// next). `Err(RecvError::Lagged(n))` if it missed `n` values.
    ///
    /// ```
    /// use quell_executor::sync::broadcast::{self, RecvError};
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (tx, mut rx) = broadcast::channel(2);
    ///     for i in 0..5 {
    ///         tx.send(i).unwrap();
    ///     }
    ///     assert!(matches!(rx.recv().await, Err(RecvError::Lagged(3))));
    ///     assert_eq!(rx.recv().await.unwrap(), 3);
    ///     assert_eq!(rx.recv().await.unwrap(), 4);
    /// });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { receiver: self }
    }

    /// [`recv`](Self::recv) as a poll function.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        // Step 1: budget. Step 2: cancellation first, taking nothing.
        ready!(coop::poll_proceed(cx));
        if let Some(c) = context::observed() {
            self.leave();
            return Poll::Ready(Err(RecvError::Cancelled(c)));
        }
        // Step 3: under the lock.
        let mut st = lock(&self.shared);
        let r = match take(&mut self.next, &st) {
            Found::Value(v) => Ok(v),
            Found::Lagged(n) => Err(RecvError::Lagged(n)),
            Found::Closed => Err(RecvError::Closed),
            Found::Empty => {
                st.waiters.park(&mut self.waiter, cx.waker());
                return Poll::Pending;
            }
        };
        if let Some(id) = self.waiter.take() {
            st.waiters.remove(id);
        }
        Poll::Ready(r)
    }

    /// Takes the next value if there is one. Never blocks and does not
    /// observe cancellation.
    ///
    /// ```
    /// use quell_executor::sync::broadcast::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel::<u8>(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let st = lock(&self.shared);
        match take(&mut self.next, &st) {
            Found::Value(v) => Ok(v),
            Found::Lagged(n) => Err(TryRecvError::Lagged(n)),
            Found::Closed => Err(TryRecvError::Closed),
            Found::Empty => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Receiver<T> {
    /// A new receiver at the tail (it receives the values sent from now
    /// on, not this one's backlog).
    ///
    /// ```
    /// let (tx, rx) = quell_executor::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut rx2 = rx.resubscribe();
    /// assert!(rx2.try_recv().is_err());
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        Receiver::at_tail(&self.shared)
    }

    /// Values sent that this receiver has not received yet (kept ones).
    pub fn len(&self) -> usize {
        let st = lock(&self.shared);
        (st.tail() - self.next.max(st.front)) as usize
    }

    /// Whether [`len`](Self::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A new receiver of `shared`, counted, at the tail: the values sent
    /// from now on.
    fn at_tail(shared: &Arc<Mutex<State<T>>>) -> Receiver<T> {
        let mut st = lock(shared);
        st.receivers += 1;
        let next = st.tail();
        drop(st);
        Receiver {
            shared: shared.clone(),
            next,
            waiter: None,
        }
    }

    fn leave(&mut self) {
        if let Some(id) = self.waiter.take() {
            lock(&self.shared).waiters.remove(id);
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut st = lock(&self.shared);
        st.receivers -= 1;
        if let Some(id) = self.waiter.take() {
            st.waiters.remove(id);
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// `Ok(value)` per value, `Err(Lagged(n))` where values were missed; ends
/// on close or on the current task's cancellation (see the module docs).
impl<T: Clone> Stream for Receiver<T> {
    type Item = Result<T, Lagged>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(match ready!(self.get_mut().poll_recv(cx)) {
            Ok(v) => Some(Ok(v)),
            Err(RecvError::Lagged(n)) => Some(Err(Lagged(n))),
            Err(RecvError::Closed | RecvError::Cancelled(_)) => None,
        })
    }
}

/// Future returned by [`Receiver::recv`]. Dropping it leaves the waiter
/// list.
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().receiver.poll_recv(cx)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        self.receiver.leave();
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Recv").finish_non_exhaustive()
    }
}
