//! The I/O driver of the current thread: set by the executor on its
//! workers, in `block_on`, and on blocking-pool threads, so that
//! `TcpStream::connect`, `sleep`, … find their driver.

use std::cell::RefCell;
use std::io;

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
