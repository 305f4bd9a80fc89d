//! Interrupting an interruptible blocking task on cancel: a signal to its
//! thread makes its current blocking syscall return `EINTR`.
//!
//! # Protocol
//!
//! 1. Once per process, the first interruptible task installs a handler
//!    for [`SIGNAL`] (`SIGURG`, whose default action is to be ignored, and
//!    which Go's runtime uses for the same purpose) with `sigaction` and
//!    **without `SA_RESTART`**; the handler does nothing. If another handler
//!    is already installed, it is left alone (the signal is still sent; it
//!    interrupts only if that handler was installed without `SA_RESTART`).
//!    Installing it changes what a stray `SIGURG` (another process's
//!    `kill`, out-of-band socket data with `F_SETOWN`) does: instead of
//!    being ignored, it makes the receiving thread's current syscall return
//!    `EINTR` (the I/O driver retries its `epoll_wait`; std's loops retry).
//!    Nothing is installed until an interruptible task runs.
//! 2. Before the closure runs, the pool thread unblocks [`SIGNAL`] in its
//!    own mask, records its `pthread_t` in the registry (task.rs, invariant
//!    2), and registers an [`Interrupt`] waker with the task's scope token.
//! 3. Cancel of that scope (an ancestor, the task's handle, shutdown) wakes
//!    the waker: under the registry lock, `pthread_kill(thread, SIGNAL)`.
//!    The cancel flag is set before the waker runs, so the closure's
//!    `cancel::is_cancelled()` after `EINTR` answers `true`.
//! 4. **Resend.** A signal that lands while the closure is *between*
//!    syscalls (after its last `is_cancelled()` check, before it enters the
//!    next blocking call) interrupts nothing, and the next call would block
//!    for good. So the waker re-arms itself on the runtime's timer and
//!    sends again after 1, 2, 4, … ms, at most every 50 ms, for as long as
//!    the closure runs; the first send after the closure entered its
//!    syscall interrupts it. Once the task completes its registry entry is
//!    gone and the chain stops at its next firing.
//!
//! # The contract for the closure
//!
//! Check `cancel::is_cancelled()` when a syscall fails with `EINTR` and
//! return if it is set; otherwise retry. Calls that retry `EINTR`
//! internally (std's `read_exact`, `write_all`, `io::copy`,
//! `thread::sleep`) are not interrupted: use the single-call forms
//! (`Read::read`, `libc::read`, `libc::nanosleep`) and loop yourself. A
//! syscall the kernel does not interrupt (disk I/O in uninterruptible
//! sleep) finishes first.

use std::sync::{Arc, OnceLock};
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

use super::task::Registry;
use crate::task::Id;

/// The signal sent to an interruptible blocking task's thread on cancel.
pub(super) const SIGNAL: libc::c_int = libc::SIGURG;

extern "C" fn on_signal(_: libc::c_int) {
    // Nothing: the point is the EINTR of the interrupted syscall.
}

/// Step 1, once per process.
fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // SAFETY: `sigaction` structs are plain C data that may be zeroed;
        // the handler is an `extern "C" fn(c_int)` that touches nothing
        // (async-signal-safe); we only replace the default or ignore
        // disposition, never someone else's handler.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(SIGNAL, std::ptr::null(), &mut old) != 0 {
                return;
            }
            if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN {
                return;
            }
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            // No SA_RESTART: an interrupted syscall returns EINTR.
            sa.sa_flags = 0;
            libc::sigemptyset(&mut sa.sa_mask);
            let _ = libc::sigaction(SIGNAL, &sa, std::ptr::null_mut());
        }
    });
}

/// Step 2 (mask half), on the pool thread before an interruptible closure.
pub(super) fn prepare_thread() {
    install();
    // SAFETY: the set is a local initialised by sigemptyset/sigaddset;
    // pthread_sigmask changes only the calling thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, SIGNAL);
        let _ = libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
}

/// Step 3: signals `thread`. The caller holds the registry lock, which
/// keeps `thread` alive (task.rs, invariant 2).
pub(super) fn send(thread: libc::pthread_t) {
    // SAFETY: `thread` is a live thread of this process (caller's
    // contract); the signal's handler is installed (or its disposition is
    // someone else's choice, step 1).
    let _ = unsafe { libc::pthread_kill(thread, SIGNAL) };
}

/// Step 4: the delay before the `n`-th resend (n ≥ 1): 1, 2, 4, … ms, at
/// most 50 ms.
pub(super) fn resend_after(n: u32) -> Duration {
    let ms = 1u64 << (n.saturating_sub(1)).min(6);
    Duration::from_millis(ms.min(50))
}

/// The waker registered with an interruptible task's scope token.
pub(super) struct Interrupt {
    pub(super) registry: Arc<Registry>,
    pub(super) id: Id,
    pub(super) io: quell_io_driver::Handle,
}

impl Wake for Interrupt {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Steps 3–4. A timer that has shut down (the runtime is gone) ends
        // the chain: the waker it hands back is dropped.
        if let Some(delay) = self.registry.interrupt(self.id) {
            let _ = self
                .io
                .wake_at(Instant::now() + delay, Waker::from(self.clone()));
        }
    }
}
