//! The errors of the sync primitives.
//!
//! Every error of an *await* (`recv`, `send`) can be `Cancelled`, carrying the
//! [`Cancelled`] the current task observed (with its cause). Errors of a send
//! always give the value back.

use std::error::Error;
use std::fmt;

use quell_cancel::Cancelled;

/// Why a receive (`oneshot::Receiver.await`, `mpsc::Receiver::recv`) ended
/// without a value.
///
/// ```
/// use quell_executor::sync::{oneshot, RecvError};
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (tx, rx) = oneshot::channel::<u32>();
///     drop(tx);
///     let err = rx.await.unwrap_err();
///     assert!(matches!(err, RecvError::Closed));
///     assert!(err.cancelled().is_none());
/// });
/// ```
#[derive(Clone, Debug)]
pub enum RecvError {
    /// Every sender is gone and nothing is left to receive.
    Closed,
    /// The current task was cancelled; nothing was taken from the channel.
    Cancelled(Cancelled),
}

impl RecvError {
    /// The cancellation, if this is [`RecvError::Cancelled`].
    pub fn cancelled(&self) -> Option<&Cancelled> {
        match self {
            RecvError::Cancelled(c) => Some(c),
            RecvError::Closed => None,
        }
    }

    /// Whether this is [`RecvError::Closed`].
    pub fn is_closed(&self) -> bool {
        matches!(self, RecvError::Closed)
    }
}

impl From<Cancelled> for RecvError {
    fn from(c: Cancelled) -> RecvError {
        RecvError::Cancelled(c)
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("channel closed"),
            RecvError::Cancelled(c) => write!(f, "receive {c}"),
        }
    }
}

impl Error for RecvError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cancelled().map(|c| c as _)
    }
}

/// Why a `try_recv` returned no value. `try_recv` never blocks and does not
/// observe cancellation.
///
/// ```
/// use quell_executor::sync::{mpsc, TryRecvError};
///
/// let (tx, mut rx) = mpsc::channel::<u32>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing to receive now, but a sender may still send.
    Empty,
    /// Every sender is gone (or the channel was closed) and it is empty.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "channel empty",
            TryRecvError::Closed => "channel closed",
        })
    }
}

impl Error for TryRecvError {}

/// Why `mpsc::Sender::send` did not send; gives the value back.
///
/// ```
/// use quell_executor::sync::{mpsc, SendError};
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (tx, rx) = mpsc::channel::<String>(1);
///     drop(rx);
///     match tx.send("hi".to_string()).await {
///         Err(SendError::Closed(v)) => assert_eq!(v, "hi"),
///         _ => unreachable!(),
///     }
/// });
/// ```
pub enum SendError<T> {
    /// The receiver is gone or closed the channel.
    Closed(T),
    /// The current task was cancelled while (or before) waiting for room;
    /// the value was not sent.
    Cancelled(T, Cancelled),
}

impl<T> SendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            SendError::Closed(v) | SendError::Cancelled(v, _) => v,
        }
    }

    /// The cancellation, if this is [`SendError::Cancelled`].
    pub fn cancelled(&self) -> Option<&Cancelled> {
        match self {
            SendError::Cancelled(_, c) => Some(c),
            SendError::Closed(_) => None,
        }
    }

    /// Whether this is [`SendError::Closed`].
    pub fn is_closed(&self) -> bool {
        matches!(self, SendError::Closed(_))
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Closed(_) => f.write_str("Closed(..)"),
            SendError::Cancelled(_, c) => f.debug_tuple("Cancelled").field(&"..").field(c).finish(),
        }
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Closed(_) => f.write_str("channel closed"),
            SendError::Cancelled(_, c) => write!(f, "send {c}"),
        }
    }
}

impl<T> Error for SendError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cancelled().map(|c| c as _)
    }
}

/// Why `mpsc::Sender::try_send` did not send; gives the value back.
/// `try_send` never blocks and does not observe cancellation.
///
/// ```
/// use quell_executor::sync::{mpsc, TrySendError};
///
/// let (tx, _rx) = mpsc::channel::<u32>(1);
/// tx.try_send(1).unwrap();
/// match tx.try_send(2) {
///     Err(TrySendError::Full(v)) => assert_eq!(v, 2),
///     _ => unreachable!(),
/// }
/// ```
pub enum TrySendError<T> {
    /// The channel is full now.
    Full(T),
    /// The receiver is gone or closed the channel.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "Full(..)",
            TrySendError::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "channel full",
            TrySendError::Closed(_) => "channel closed",
        })
    }
}

impl<T> Error for TrySendError<T> {}

/// Why an acquire (`Semaphore::acquire`, `RwLock`…) returned no permit.
///
/// ```
/// use quell_executor::sync::{AcquireError, Semaphore};
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let sem = Semaphore::new(1);
///     sem.close();
///     let err = sem.acquire().await.unwrap_err();
///     assert!(matches!(err, AcquireError::Closed));
///     assert!(err.cancelled().is_none());
/// });
/// ```
#[derive(Clone, Debug)]
pub enum AcquireError {
    /// The semaphore was closed.
    Closed,
    /// The current task was cancelled; no permit is held.
    Cancelled(Cancelled),
}

impl AcquireError {
    /// The cancellation, if this is [`AcquireError::Cancelled`].
    pub fn cancelled(&self) -> Option<&Cancelled> {
        match self {
            AcquireError::Cancelled(c) => Some(c),
            AcquireError::Closed => None,
        }
    }

    /// Whether this is [`AcquireError::Closed`].
    pub fn is_closed(&self) -> bool {
        matches!(self, AcquireError::Closed)
    }
}

impl From<Cancelled> for AcquireError {
    fn from(c: Cancelled) -> AcquireError {
        AcquireError::Cancelled(c)
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcquireError::Closed => f.write_str("semaphore closed"),
            AcquireError::Cancelled(c) => write!(f, "acquire {c}"),
        }
    }
}

impl Error for AcquireError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cancelled().map(|c| c as _)
    }
}

/// Why a `try_acquire` (or `try_lock`, `try_read`, `try_write`) did not
/// succeed now. These never block and do not observe cancellation.
///
/// ```
/// use quell_executor::sync::{Semaphore, TryAcquireError};
///
/// let sem = Semaphore::new(0);
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits free now (or earlier acquires are waiting).
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryAcquireError::Closed => "semaphore closed",
            TryAcquireError::NoPermits => "no permits available",
        })
    }
}

impl Error for TryAcquireError {}
