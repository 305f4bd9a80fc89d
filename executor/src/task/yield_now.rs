//! `yield_now`: let other tasks run.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once: the task goes to the back of its worker's queue (not the
/// LIFO slot), so every other ready task on that worker runs first.
///
/// ```
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async { quell_executor::task::yield_now().await });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // The task is RUNNING: this only sets NOTIFIED; the worker re-queues
        // it at the back after the poll (`Schedule::yield_now`).
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
