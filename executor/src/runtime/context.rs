//! The runtime context of the current thread: which runtime `spawn` and
//! `Handle::current()` use, and whether this thread is already driving a
//! runtime (so `block_on` inside one is refused instead of deadlocking).

use std::cell::{Cell, RefCell};

use super::Handle;

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    /// True on worker threads and inside `block_on`.
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

/// Restores the previous context on drop.
pub(crate) struct EnterGuard {
    prev: Option<Handle>,
    prev_driving: bool,
    _io: quell_io_driver::rt_internal::context::EnterGuard,
}

/// Makes `handle` current; `driving` marks the thread as running a runtime.
pub(crate) fn enter(handle: Handle, driving: bool) -> EnterGuard {
    super::resolve::register();
    let io = quell_io_driver::rt_internal::context::enter(handle.inner.io.clone());
    let prev = CURRENT.with(|c| c.borrow_mut().replace(handle));
    let prev_driving = DRIVING.with(|d| d.replace(driving || d.get()));
    EnterGuard {
        prev,
        prev_driving,
        _io: io,
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
        let _ = DRIVING.try_with(|d| d.set(self.prev_driving));
    }
}

/// Whether this thread is a worker or inside `block_on`.
pub(crate) fn is_driving() -> bool {
    DRIVING.try_with(|d| d.get()).unwrap_or(false)
}

/// Calls `f` with the current handle, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    let mut f = Some(f);
    CURRENT
        .try_with(|c| (f.take().unwrap())(c.borrow().as_ref()))
        .unwrap_or_else(|_| (f.take().unwrap())(None))
}
