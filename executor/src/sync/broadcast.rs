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
//! The last `capacity` values sit in `capacity` slots, position `p` in slot
//! `p % capacity`, each slot behind its own `Mutex` with the position it
//! holds. The `tail` `Mutex` holds the next position to be sent, the sender
//! and receiver counts and the waiter list; the values kept are the
//! positions `[tail - capacity, tail)` (the *front* is the first of them).
//! A receiver holds the position of the next value it wants.
//!
//! * send, under the tail lock: no receiver → `Closed`; take every parked
//!   waker; then, under the slot's lock, store the value with its position
//!   (taking out the one it replaces, `capacity` positions older); then
//!   advance the tail. Wakers are woken and the replaced value dropped
//!   after unlocking.
//! * `recv` poll, in order: budget; cancellation → `Cancelled`, leaving the
//!   list, **taking nothing** (its position is unchanged: the value it would
//!   have received is the next one it receives); **fast path**, under the
//!   lock of its position's slot only: the slot holds its position → clone
//!   it, advance, `Ok`; else under the tail lock (then the slot's, the
//!   sender's order): position before the front → `Lagged(n)`, position
//!   moved to the front; a value at its position → clone it, advance, `Ok`;
//!   every sender gone → `Closed`; else park.
//!
//! Receivers that keep up therefore touch only the slots they read, not the
//! lock every send takes: a sender and its receivers on other threads do
//! not contend. The fast path is exact: a slot holds position `p` from the
//! store of the send of `p` (a receiver may take it then, before that send
//! has advanced the tail: the send is linearized at its store) until the
//! send of `p + capacity` replaces it, which moves the front past `p`; a
//! receiver that finds another position in its slot asks the tail lock,
//! where the front decides between `Lagged` and waiting.
//! A fast-path `Ok` after a park needs no tail lock to leave the list: the
//! receiver parked when its position was the tail, so the send that stored
//! it came later, and that send takes every parked waker (its own included)
//! in the same tail critical section — before storing, so the entry is gone
//! by the time the value can be seen. Every waiter is woken by every send,
//! so there is nothing to pass on. Values are cloned under their slot's
//! lock (`T: Clone` is user code: the locks ignore poisoning, and the state
//! is final before the clone).
//!
//! # Stream
//!
//! [`Receiver`] is a `futures_core::Stream` of `Result<T, Lagged>` that
//! ends when every sender is gone and everything was received, or when
//! the current task's cancellation is observed (nothing taken).

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use quell_cancel::{rt_internal as context, Cancelled};
use quell_io_driver::rt_internal::coop;

use super::error::SendError;
use super::waiters::{lock, wake_all, WaiterId, WaiterList, Wakers};
use crate::loom::{Arc, Mutex};

/// Creates a broadcast channel keeping the last `capacity` values. The
/// `capacity` slots are allocated here, at once.
///
/// ```
/// let (tx, mut rx) = quell_executor::sync::broadcast::channel::<u8>(2);
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
///
/// # Panics
///
/// If `capacity` is 0, or if its slots cannot be allocated.
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "broadcast::channel: capacity must be at least 1"
    );
    let mut slots = Vec::new();
    if slots.try_reserve_exact(capacity).is_err() {
        panic!("broadcast::channel: cannot allocate {capacity} slots");
    }
    slots.extend((0..capacity).map(|_| {
        Mutex::new(Slot {
            pos: 0,
            value: None,
        })
    }));
    let shared = Arc::new(Shared {
        slots: slots.into_boxed_slice(),
        tail: Mutex::new(Tail {
            pos: 0,
            senders: 1,
            receivers: 1,
            waiters: WaiterList::new(),
        }),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver {
            shared,
            next: Cursor { pos: 0, index: 0 },
            waiter: None,
        },
    )
}

struct Shared<T> {
    /// Position `p` lives in `slots[p % slots.len()]`.
    slots: Box<[Mutex<Slot<T>>]>,
    tail: Mutex<Tail>,
}

struct Slot<T> {
    /// The position of `value` (meaningless while `value` is `None`).
    pos: u64,
    /// `None` until the first send of a position in this slot.
    value: Option<T>,
}

struct Tail {
    /// The position of the next value to be sent.
    pos: u64,
    senders: usize,
    receivers: usize,
    waiters: WaiterList,
}

/// A receiver's position: the sequence number of the next value it wants
/// and that value's slot index (kept in step, so the fast path divides by
/// nothing).
#[derive(Debug, Clone, Copy)]
struct Cursor {
    pos: u64,
    index: usize,
}

impl Cursor {
    fn at(pos: u64, slots: usize) -> Cursor {
        Cursor {
            pos,
            index: (pos % slots as u64) as usize,
        }
    }

    fn advance(&mut self, slots: usize) {
        self.pos += 1;
        self.index += 1;
        if self.index == slots {
            self.index = 0;
        }
    }
}

impl<T> Shared<T> {
    fn slot(&self, pos: u64) -> &Mutex<Slot<T>> {
        &self.slots[(pos % self.slots.len() as u64) as usize]
    }

    /// The position of the oldest value kept, given the tail.
    fn front(&self, tail: &Tail) -> u64 {
        tail.pos.saturating_sub(self.slots.len() as u64)
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
    shared: Arc<Shared<T>>,
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
        let mut tail = lock(&self.shared.tail);
        if tail.receivers == 0 {
            return Err(SendError::Closed(value));
        }
        // Waiters first: a receiver that finds this value in its slot
        // (fast path) forgets its entry's key, which is gone by then
        // (module docs).
        let ws = tail.waiters.take_unnotified();
        let pos = tail.pos;
        let mut slot = lock(self.shared.slot(pos));
        slot.pos = pos;
        let replaced = slot.value.replace(value);
        drop(slot);
        tail.pos = pos + 1;
        let n = tail.receivers;
        drop(tail);
        wake_all(ws);
        drop(replaced); // user destructor, unlocked
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
        lock(&self.shared.tail).receivers
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        lock(&self.shared.tail).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut tail = lock(&self.shared.tail);
        tail.senders -= 1;
        let ws = if tail.senders == 0 {
            tail.waiters.take_unnotified()
        } else {
            Wakers::default()
        };
        drop(tail);
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
    shared: Arc<Shared<T>>,
    /// The next value this receiver wants.
    next: Cursor,
    waiter: Option<WaiterId>,
}

/// What the receiver finds under the lock.
enum Found<T> {
    Value(T),
    Lagged(u64),
    Closed,
    Empty,
}

/// The fast path: the value at `*next` (advancing it) if its slot holds
/// it, under that slot's lock only.
fn take_fast<T: Clone>(next: &mut Cursor, shared: &Shared<T>) -> Option<T> {
    let slot = lock(&shared.slots[next.index]);
    match &slot.value {
        Some(v) if slot.pos == next.pos => {
            let v = v.clone();
            drop(slot);
            next.advance(shared.slots.len());
            Some(v)
        }
        _ => None,
    }
}

/// Under the tail lock: the value at `*next` (advancing it), or why there
/// is none.
fn take<T: Clone>(next: &mut Cursor, shared: &Shared<T>, tail: &Tail) -> Found<T> {
    let front = shared.front(tail);
    if next.pos < front {
        let missed = front - next.pos;
        *next = Cursor::at(front, shared.slots.len());
        return Found::Lagged(missed);
    }
    if next.pos < tail.pos {
        // Kept and not replaced (the tail lock holds sends off): the slot
        // holds this position.
        let slot = lock(&shared.slots[next.index]);
        let v = match &slot.value {
            Some(v) if slot.pos == next.pos => v.clone(),
            _ => unreachable!("broadcast: a kept position is missing from its slot"),
        };
        drop(slot);
        next.advance(shared.slots.len());
        return Found::Value(v);
    }
    if tail.senders == 0 {
        Found::Closed
    } else {
        Found::Empty
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
    #[track_caller]
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            receiver: self,
            at: std::panic::Location::caller(),
        }
    }

    /// [`recv`](Self::recv) as a poll function.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        // Step 1: budget. Step 2: cancellation first, taking nothing.
        ready!(coop::poll_proceed(cx));
        if let Some(c) = context::observed() {
            self.leave();
            return Poll::Ready(Err(RecvError::Cancelled(c)));
        }
        // Step 3: the slot alone (fast path). A parked entry is gone if
        // the value is there (module docs), so the key is just forgotten.
        if let Some(v) = take_fast(&mut self.next, &self.shared) {
            self.waiter = None;
            return Poll::Ready(Ok(v));
        }
        // Step 4: under the tail lock.
        let mut tail = lock(&self.shared.tail);
        let r = match take(&mut self.next, &self.shared, &tail) {
            Found::Value(v) => Ok(v),
            Found::Lagged(n) => Err(RecvError::Lagged(n)),
            Found::Closed => Err(RecvError::Closed),
            Found::Empty => {
                tail.waiters.park(&mut self.waiter, cx.waker());
                return Poll::Pending;
            }
        };
        if let Some(id) = self.waiter.take() {
            tail.waiters.remove(id);
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
        if let Some(v) = take_fast(&mut self.next, &self.shared) {
            return Ok(v);
        }
        let tail = lock(&self.shared.tail);
        match take(&mut self.next, &self.shared, &tail) {
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
        let tail = lock(&self.shared.tail);
        (tail.pos - self.next.pos.max(self.shared.front(&tail))) as usize
    }

    /// Whether [`len`](Self::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A new receiver of `shared`, counted, at the tail: the values sent
    /// from now on.
    fn at_tail(shared: &Arc<Shared<T>>) -> Receiver<T> {
        let mut tail = lock(&shared.tail);
        tail.receivers += 1;
        let next = Cursor::at(tail.pos, shared.slots.len());
        drop(tail);
        Receiver {
            shared: shared.clone(),
            next,
            waiter: None,
        }
    }

    /// Leaves the waiter list if parked. Inlined, the lock out of line:
    /// every finished `recv` future calls this on drop, and mostly has
    /// nothing to do.
    #[inline]
    fn leave(&mut self) {
        if self.waiter.is_some() {
            self.leave_parked();
        }
    }

    #[cold]
    fn leave_parked(&mut self) {
        if let Some(id) = self.waiter.take() {
            lock(&self.shared.tail).waiters.remove(id);
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut tail = lock(&self.shared.tail);
        tail.receivers -= 1;
        if let Some(id) = self.waiter.take() {
            tail.waiters.remove(id);
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next.pos)
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
    /// The caller (task dumps show where a task waits).
    at: &'static std::panic::Location<'static>,
    receiver: &'a mut Receiver<T>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let p = self.as_mut().poll_waiting(cx);
        if p.is_pending() {
            quell_cancel::rt_internal::wait::record(&BROADCAST_RECV, Some(self.at), 0);
        }
        p
    }
}

/// `broadcast::Receiver::recv` (a task dump's await point): waits for a value.
static BROADCAST_RECV: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "broadcast::Receiver::recv",
        describe: None,
    };

impl<T: Clone> Recv<'_, T> {
    /// The poll, without the dump's record.
    #[inline]
    fn poll_waiting(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
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
