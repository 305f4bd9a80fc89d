//! `block_on`: drive one future on the calling thread.
//!
//! The future runs under the runtime's root token (so `cancel::current()`
//! works and a root cancel wakes it), with the runtime entered so that
//! `spawn` and `Handle::current()` work inside it.

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use quell_cancel::{rt_internal as cancel_cx, CancelToken};
use quell_io_driver::rt_internal::coop;

use super::{context, Handle};

/// Why `block_on` refused to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOnError(pub(super) ());

impl fmt::Display for BlockOnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "cannot call `block_on` from a thread that is already running a quell runtime \
             (a worker, or inside another `block_on`): it would block the worker; \
             `.await` the future, or use `spawn_blocking`",
        )
    }
}

impl std::error::Error for BlockOnError {}

struct ThreadWaker {
    thread: Thread,
    notified: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        // Release pairs with the Acquire swap in the park loop.
        if !self.notified.swap(true, Release) {
            self.thread.unpark();
        }
    }
}

/// The cancel context of a `block_on` future: the runtime's root token
/// (shared with the current-thread flavor's `block_on`).
pub(super) struct Root<'a> {
    pub(super) token: &'a CancelToken,
}

impl cancel_cx::TaskCancel for Root<'_> {
    fn token(&self) -> &CancelToken {
        self.token
    }
    fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

pub(crate) fn block_on<F: Future>(handle: &Handle, fut: F) -> Result<F::Output, BlockOnError> {
    if context::is_driving() {
        return Err(BlockOnError(()));
    }
    let _enter = context::enter(handle.clone(), true);
    let tw = Arc::new(ThreadWaker {
        thread: thread::current(),
        notified: AtomicBool::new(false),
    });
    let waker = Waker::from(tw.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    let token = &handle.inner.root;
    let root = Root { token };
    let mut key = None;
    let mut bound = !handle.inner.cancel_binding;
    let out = loop {
        if let Poll::Ready(v) =
            cancel_cx::enter(&root, || coop::budget(|| fut.as_mut().poll(&mut cx)))
        {
            break v;
        }
        if !bound {
            bound = true;
            key = token.register_waker(&waker);
            if key.is_none() {
                // Already cancelled: poll again so the future can see it.
                continue;
            }
        }
        // Acquire pairs with the Release in `wake_by_ref`.
        while !tw.notified.swap(false, Acquire) {
            thread::park();
        }
    };
    if let Some(k) = key {
        token.deregister_waker(k);
    }
    Ok(out)
}
