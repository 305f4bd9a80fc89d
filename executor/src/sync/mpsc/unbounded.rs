//! The unbounded flavour: sends never wait (and so are not await points);
//! the receiver is the bounded one's, with every rule of `recv`.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::chan::Chan;
use super::receiver::{Receiver, Recv};
use crate::loom::Arc;
use crate::sync::error::{RecvError, SendError, TryRecvError};
use crate::sync::waiters::{lock, wake_all};

/// The sending half of an [`unbounded_channel`](super::unbounded_channel);
/// clone it for more producers.
pub struct UnboundedSender<T> {
    pub(super) chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once (the channel never fills). Never blocks and
    /// does not observe cancellation; the only error is
    /// [`SendError::Closed`], with the value.
    ///
    /// ```
    /// let (tx, mut rx) = quell_executor::sync::mpsc::unbounded_channel();
    /// for i in 0..1000 {
    ///     tx.send(i).unwrap();
    /// }
    /// assert_eq!(rx.len(), 1000);
    /// drop(rx);
    /// assert_eq!(tx.send(1).unwrap_err().into_inner(), 1);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let mut st = lock(&self.chan.state);
        if st.closed {
            return Err(SendError::Closed(value));
        }
        let w = st.push(value);
        drop(st);
        wake_all(w);
        Ok(())
    }

    /// Whether the receiver is gone or closed the channel.
    ///
    /// ```
    /// let (tx, rx) = quell_executor::sync::mpsc::unbounded_channel::<u8>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        lock(&self.chan.state).closed
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> UnboundedSender<T> {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender")
            .finish_non_exhaustive()
    }
}

/// The receiving half of an [`unbounded_channel`](super::unbounded_channel):
/// the same rules as [`Receiver`] (cancel first, nothing taken; a `Stream`
/// that ends on close or cancellation).
pub struct UnboundedReceiver<T> {
    pub(super) inner: Receiver<T>,
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next value; see [`Receiver::recv`].
    ///
    /// ```
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let (tx, mut rx) = quell_executor::sync::mpsc::unbounded_channel();
    ///     quell_executor::spawn(async move { tx.send("hi").unwrap() });
    ///     assert_eq!(rx.recv().await.unwrap(), "hi");
    /// });
    /// ```
    #[track_caller]
    pub fn recv(&mut self) -> Recv<'_, T> {
        self.inner.recv()
    }

    /// [`recv`](Self::recv) as a poll function; see [`Receiver::poll_recv`].
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        self.inner.poll_recv(cx)
    }

    /// Takes the next value if there is one; see [`Receiver::try_recv`].
    ///
    /// ```
    /// let (tx, mut rx) = quell_executor::sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.inner.try_recv()
    }

    /// Closes the channel; see [`Receiver::close`].
    pub fn close(&mut self) {
        self.inner.close()
    }

    /// Number of values in the channel now.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the channel holds no value now.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl<T> Stream for UnboundedReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().inner.poll_recv(cx).map(Result::ok)
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedReceiver")
            .finish_non_exhaustive()
    }
}
