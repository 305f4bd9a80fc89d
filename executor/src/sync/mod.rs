//! Cancel-aware synchronization: [`oneshot`], [`mpsc`] (bounded,
//! rendezvous, unbounded), [`watch`], [`broadcast`], [`Notify`],
//! [`Semaphore`], [`Mutex`], [`RwLock`], [`Barrier`].
//!
//! ```text
//! oneshot.rs    one value, one receiver; the Receiver is the future
//! mpsc/         multi-producer single-consumer channels: bounded, rendezvous
//!               (capacity 0), unbounded; reserve/permits; Stream receivers
//! notify.rs     Notify: notify_one (permit) / notify_waiters (broadcast)
//! semaphore.rs  Semaphore: fair FIFO, acquire_many, owned permits, close
//! mutex.rs      Mutex: a 1-permit semaphore plus the data; owned guards
//! rwlock.rs     RwLock: fair (FIFO) reader-writer lock on the semaphore
//! watch.rs      one value, many receivers: send / borrow / changed
//! broadcast.rs  every value to every receiver; laggards get Lagged(n)
//! barrier.rs    Barrier: n tasks meet; a cancelled wait withdraws
//! waiters.rs    waiter entries with a notified mark (on the shared list)
//! error.rs      RecvError, TryRecvError, SendError, TrySendError,
//!               AcquireError, TryAcquireError
//! ```
//!
//! Every *wait* of these primitives — awaiting a [`oneshot::Receiver`],
//! [`mpsc::Receiver::recv`], [`mpsc::Sender::send`] / `reserve`,
//! [`Notify::notified`], [`Semaphore::acquire`], [`Mutex::lock`],
//! [`RwLock::read`] / `write`, [`watch::Receiver::changed`],
//! [`broadcast::Receiver::recv`], [`Barrier::wait`] — is a runtime await
//! point (contract C2): once the current task is
//! cancelled (its own `JoinHandle::cancel`, or its token or any ancestor
//! token), the wait returns `Cancelled` carrying the cause that
//! the task context reports (`quell_cancel::current()`), at once (the executor wakes
//! the cancelled task, and every poll checks) and at every later wait,
//! unless inside [`quell_cancel::shield`]. A cancelled wait removes its waker
//! from the primitive before it returns. The non-waiting operations
//! (`try_recv`, `try_send`, `try_reserve`, `try_acquire`, `try_lock`,
//! `oneshot::Sender::send`, `UnboundedSender::send`, `watch` and
//! `broadcast` sends, `notify_*`, dropping a guard or permit) never block
//! and do not observe cancellation, so shielded or cancelled cleanup code can
//! always use them.
//!
//! # Cancel vs. a value: cancel first, nothing taken
//!
//! The rule, exactly:
//!
//! 1. Every poll of a wait first spends the cooperative budget
//!    (`coop::poll_proceed` of quell-io-driver); if that says `Pending`,
//!    the poll has taken nothing.
//! 2. It then checks the current task's cancellation. If it is observed, the
//!    wait returns `Cancelled` **and takes nothing**: a value, a stored
//!    `notify_one` permit or a free slot that is in the primitive stays
//!    there, whether it arrived before the cancel, raced it, or arrives
//!    later; a cancelled `send` gives its value back
//!    ([`SendError::Cancelled`]) — except on a rendezvous channel once a
//!    receive has taken the value: that send has completed and answers
//!    `Ok` (see [`mpsc`], "Rendezvous").
//! 3. Only otherwise does it look at the primitive, and a value (permit,
//!    slot) is removed from it **only inside the poll that returns it** to
//!    the caller. Values are never handed to a particular receiver.
//!    Permits and locks are: the semaphore is fair, so a release hands its
//!    permits to the first waiter in line; a waiter that then turns out
//!    cancelled (or whose future is dropped) gives them on to the next
//!    waiter, or back to the free count, under the same lock.
//!
//! Hence nothing is lost and no receiver is charged a value it did not
//! return: a value that races a cancelled receive is returned by the next
//! receive that is not cancelled — `try_recv`, a receive inside a `shield`
//! (for example the same `oneshot::Receiver` awaited again in cleanup), or
//! whoever receives from the channel next. A wakeup that was handed to a
//! particular waiter (a `notify_one` permit given to a parked
//! `notified()`, a freed slot signalled to a parked `send`) and meets that
//! waiter cancelled or dropped is passed on to the next waiter, or stored.
//!
//! Why the cancel is checked before the value, not after: with "value
//! wins", a cancelled consumer of a channel that is never empty would keep
//! receiving and never stop, the cancelled-work leak quell exists to
//! prevent; checking first makes every wait after a cancel answer
//! `Cancelled` (C2), and costs nothing in safety since the value stays
//! queued. These properties are model-checked by the loom models in
//! `sync/tests/` (send ∥ cancel ∥ receive, for each primitive).
//!
//! # Streams
//!
//! The receivers of [`mpsc`] (bounded and unbounded), [`watch`] and
//! [`broadcast`] implement `futures_core::Stream`. A stream item cannot
//! carry `Cancelled` usefully (the cancel is sticky: a `while let Some(..)`
//! loop would spin on it), so each stream **ends** (`None`) when the
//! current task's cancellation is observed, taking nothing — as well as
//! when its channel closes. Call `recv`/`changed` to tell the two apart.
//!
//! ```
//! use quell_cancel::{shield, Cause};
//! use quell_executor::sync::{mpsc, RecvError};
//!
//! let rt = quell_executor::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let (tx, mut rx) = mpsc::channel::<u32>(4);
//!     tx.send(1).await.unwrap();
//!     let (gate_tx, gate_rx) = quell_executor::sync::oneshot::channel::<()>();
//!     let task = quell_executor::spawn(async move {
//!         let _ = gate_rx.await; // returns once the task is cancelled
//!         // Cancelled, with a value buffered: the value stays.
//!         let r = rx.recv().await;
//!         assert!(matches!(r, Err(RecvError::Cancelled(_))));
//!         assert!(rx.recv().await.is_err()); // sticky
//!         // Shielded cleanup still receives it.
//!         shield(async { rx.recv().await }).await
//!     });
//!     task.cancel(Cause::explicit("stop"));
//!     drop(gate_tx);
//!     assert_eq!(task.await.unwrap().unwrap(), 1);
//! });
//! ```

mod barrier;
pub mod broadcast;
mod error;
pub mod mpsc;
mod mutex;
mod notify;
pub mod oneshot;
mod rwlock;
mod semaphore;
mod waiters;
pub mod watch;

pub use barrier::{Barrier, BarrierWait, BarrierWaitResult};
pub use error::{AcquireError, RecvError, SendError, TryAcquireError, TryRecvError, TrySendError};
pub use mutex::{Lock, Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use rwlock::{Read, RwLock, RwLockReadGuard, RwLockWriteGuard, Write, MAX_READS};
pub use semaphore::{Acquire, OwnedSemaphorePermit, Semaphore, SemaphorePermit};

#[cfg(test)]
mod tests;
