//! The I/O driver of the current thread: set by the executor on its
//! workers, in `block_on`, and on blocking-pool threads, so that
//! `TcpStream::connect`, `sleep`, … find their driver. And the blocking
//! hook: how net code (name lookups) runs blocking work on the executor's
//! blocking pool, which this crate cannot depend on.

use std::cell::RefCell;
use std::io;
use std::sync::OnceLock;

use crate::driver::Handle;

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// Restores the previous driver on drop.
#[derive(Debug)]
pub struct EnterGuard {
    prev: Option<Handle>,
}

/// Makes `handle` the current thread's driver until the guard drops.
pub fn enter(handle: Handle) -> EnterGuard {
    let prev = CURRENT.with(|c| c.borrow_mut().replace(handle));
    EnterGuard { prev }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
    }
}

/// Calls `f` with the current driver, if any.
pub fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    let mut f = Some(f);
    CURRENT
        .try_with(|c| (f.take().unwrap())(c.borrow().as_ref()))
        .unwrap_or_else(|_| (f.take().unwrap())(None))
}

/// The current driver, or a clear error outside a runtime.
pub fn current() -> io::Result<Handle> {
    with_current(|h| h.cloned()).ok_or_else(|| {
        io::Error::other("no quell runtime on this thread: I/O and timers must be used from a task, `block_on`, or `spawn_blocking`")
    })
}

/// A blocking closure handed to the [`BlockingHook`].
pub type BlockingJob = Box<dyn FnOnce() + Send>;

/// Runs `job` on some thread other than the caller's (the executor's
/// blocking pool), or hands it back if it cannot (no runtime current on
/// this thread).
pub type BlockingHook = fn(BlockingJob) -> Result<(), BlockingJob>;

/// The process's blocking hook, registered by the executor.
static BLOCKING_HOOK: OnceLock<BlockingHook> = OnceLock::new();

/// **Runtime-internal, not API**: registers the executor's blocking-pool
/// hook (the executor calls this whenever a runtime enters its context;
/// the first registration stays). The hook itself looks up the runtime
/// current on the calling thread, so one registration serves every
/// runtime.
#[doc(hidden)]
pub fn set_blocking_hook(hook: BlockingHook) {
    let _ = BLOCKING_HOOK.set(hook);
}

/// Runs `job` through the blocking hook; hands it back if there is no
/// hook or no runtime to run it (the caller then uses a thread of its own).
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn run_blocking(job: BlockingJob) -> Result<(), BlockingJob> {
    match BLOCKING_HOOK.get() {
        Some(hook) => hook(job),
        None => Err(job),
    }
}
