//! The cooperative budget: how many times one poll of a task may get
//! `Ready` from runtime resources (sockets, timers, channels, locks) before
//! they answer `Pending` (after waking the task), so that a task whose
//! every await happens to be ready cannot monopolise its worker.
//!
//! The executor gives each poll of a task a fresh [`BUDGET`] ([`budget`]);
//! every runtime resource calls [`poll_proceed`] before doing work. Outside
//! a budgeted poll (a thread that is not a worker, a loom model, a
//! `with_token` future polled by hand) the budget is unlimited.
//!
//! # Why here
//!
//! The budget is scheduling, not cancellation: it belongs with the runtime
//! resources that spend it. This crate is the lowest one that owns such
//! resources (the reactor's registrations, the timer wheel) and the one
//! both spenders see (the executor's sync primitives depend on it, the
//! executor's task harness sets the budget). It used to sit in the cancel
//! crate's task context only because that crate is below both; there it
//! was reachable through `quell::cancel`, so user code could refill it.
//! Now it is runtime-internal ([`rt_internal`](crate::rt_internal)), and the
//! cancel crate stays what it says: tokens, causes and the task's scope.
//!
//! It is a thread-local `Cell<u32>` of its own (no lazy initialisation, so
//! an access is a TLS load and store), set and restored in closure scope.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations per poll before a runtime resource forces a yield.
pub const BUDGET: u32 = 128;

/// No budget in force: proceed always.
const UNLIMITED: u32 = u32::MAX;

// Under loom, threads are coroutines on one OS thread: a loom thread-local,
// or one model thread would spend another's budget.
#[cfg(not(loom))]
std::thread_local! {
    static REMAINING: Cell<u32> = const { Cell::new(UNLIMITED) };
}

#[cfg(loom)]
loom::thread_local! {
    static REMAINING: Cell<u32> = Cell::new(UNLIMITED);
}

/// Runs `f` (one poll of a task) with a fresh [`BUDGET`], restoring the
/// previous budget afterwards, also on unwind.
#[inline]
pub fn budget<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(u32);
    impl Drop for Restore {
        // Inlined into the task harness (a store per poll, not a call).
        #[inline]
        fn drop(&mut self) {
            let prev = self.0;
            let _ = REMAINING.try_with(|c| c.set(prev));
        }
    }
    let _restore = Restore(REMAINING.with(|c| c.replace(BUDGET)));
    f()
}

/// Called by runtime resources before doing work: `Ready` while budget is
/// left (spending one unit), `Pending` after waking the task once the poll
/// has used up its [`BUDGET`].
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let exhausted = REMAINING
        .try_with(|c| match c.get() {
            0 => true,
            UNLIMITED => false,
            n => {
                c.set(n - 1);
                false
            }
        })
        .unwrap_or(false);
    if exhausted {
        note_forced_yield();
        cx.waker().wake_by_ref();
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}

/// The budget-exhausted path of [`poll_proceed`], out of line: tells the
/// current task (`TaskCancel::forced_yield`), so a runtime can count
/// forced yields at no cost to the common path.
#[cold]
#[inline(never)]
fn note_forced_yield() {
    quell_cancel::rt_internal::with_current(|task| {
        if let Some(t) = task {
            t.forced_yield();
        }
    });
}
