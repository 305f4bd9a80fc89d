//! [`CancelOnDrop`]: a join handle whose drop cancels the task, so a
//! future that owns sub-tasks stops them when it is dropped.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use quell_cancel::Cause;

use super::{AbortHandle, Id, JoinError, JoinHandle};

/// The message of the cause a dropped [`CancelOnDrop`] cancels its task with.
const DROPPED: &str = "cancel-on-drop handle dropped";

/// A [`JoinHandle`] that cancels its task when dropped before the task
/// finished (cause `Cause::explicit("cancel-on-drop handle dropped")`).
/// Awaiting it yields the task's result, as the handle would.
///
/// Made by [`JoinHandle::cancel_on_drop`]. Typical use: a request handler
/// spawns sub-tasks and holds them as `CancelOnDrop`; when the server drops
/// the handler's future (the client went away), the sub-tasks are
/// cancelled with it instead of running on.
///
/// ```
/// use std::sync::mpsc;
/// use std::time::Duration;
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// let (tx, rx) = mpsc::channel();
/// let h = rt.spawn(async move {
///     let err = quell_io_driver::time::sleep(Duration::from_secs(3600))
///         .await
///         .unwrap_err();
///     tx.send(err.cause().message().map(str::to_owned)).unwrap();
/// });
/// drop(h.cancel_on_drop()); // cancels the task
/// let seen = rx.recv_timeout(Duration::from_secs(30)).unwrap();
/// assert_eq!(seen.as_deref(), Some("cancel-on-drop handle dropped"));
/// ```
#[must_use = "dropping it cancels the task"]
pub struct CancelOnDrop<T> {
    handle: Option<JoinHandle<T>>,
}

impl<T> CancelOnDrop<T> {
    pub(crate) fn new(handle: JoinHandle<T>) -> CancelOnDrop<T> {
        CancelOnDrop {
            handle: Some(handle),
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.handle().id()
    }

    /// A handle to abort or cancel the task without joining it.
    pub fn abort_handle(&self) -> AbortHandle {
        self.handle().abort_handle()
    }

    /// Gives back the plain handle: dropping it detaches the task again.
    pub fn into_inner(mut self) -> JoinHandle<T> {
        self.handle
            .take()
            .expect("CancelOnDrop holds its handle until dropped")
    }

    fn handle(&self) -> &JoinHandle<T> {
        self.handle
            .as_ref()
            .expect("CancelOnDrop holds its handle until dropped")
    }
}

impl<T> Future for CancelOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let h = self
            .handle
            .as_mut()
            .expect("CancelOnDrop polled after completion");
        Pin::new(h).poll(cx)
    }
}

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        if let Some(h) = &self.handle {
            if !h.is_finished() {
                h.cancel(Cause::explicit(DROPPED));
            }
        }
    }
}

impl<T> fmt::Debug for CancelOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelOnDrop")
            .field("id", &self.handle.as_ref().map(|h| h.id()))
            .finish()
    }
}
