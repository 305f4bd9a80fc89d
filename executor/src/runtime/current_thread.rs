//! The current-thread flavor: no worker threads; the thread inside
//! `block_on` is the one worker.
//!
//! `block_on` takes the runtime's *core* (one holder at a time, see
//! `scheduler/current_thread.rs`) and loops:
//!
//! ```text
//! loop:
//!   the block_on future, if it was woken        → done when Ready
//!   up to BATCH queued tasks                    (spawned, woken, cancelled)
//!   a full batch: a non-blocking I/O turn, loop (I/O and timers progress)
//!   else: register the wake hook unless work is queued (one lock), then
//!         park in the I/O driver until an event, the next timer, a task
//!         pushed from another thread, or the future's waker
//! ```
//!
//! Other threads calling `block_on` meanwhile poll only their own future
//! (on a plain thread park, never in the driver, so that the core holder
//! always can) and take the core over when its holder returns. Tasks
//! spawned while no thread is in `block_on` wait for the next one. The
//! future is wrapped in a [`LocalSet`], so `spawn_local` works inside it;
//! local tasks belong to that call and are dropped when it returns.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use quell_cancel::rt_internal as cancel_cx;
use quell_io_driver::rt_internal::coop;

use super::block_on::{BlockOnError, Root};
use super::flavor::Scheduler;
use super::{blocking, context, handle, Builder, Handle, Runtime};
use crate::loom::Arc;
use crate::scheduler::current_thread::{Shared, Sleep, BATCH};
use crate::scheduler::park::{Parker, SharedDriver, Unparker};
use crate::task::LocalSet;

pub(super) fn start(b: &Builder) -> io::Result<Runtime> {
    let io_driver = quell_io_driver::rt_internal::Driver::new()?;
    let io = io_driver.handle().clone();
    let driver = Arc::new(SharedDriver::new(Some((io_driver, io.clone()))));
    let root = quell_cancel::CancelToken::new();
    let shared = Shared::new(Some(root.clone()));
    shared.set_timer(&driver);
    let handle = Handle {
        inner: Arc::new(handle::Inner {
            sched: Scheduler::CurrentThread { shared, driver },
            blocking: blocking::BlockingSpawner::new(
                b.max_blocking_threads,
                b.blocking_keep_alive,
                b.blocking_name.clone(),
                std::sync::Arc::new(b.hooks.clone()),
            ),
            root,
            io,
            cancel_binding: b.cancel_binding,
            shutdown_policy: b.shutdown_policy,
        }),
    };
    Ok(Runtime {
        handle,
        workers: Vec::new(),
        #[cfg(not(loom))]
        observers: super::observe::Observers::default(),
    })
}

/// The `block_on` future's waker: a flag (polled again only when set) and
/// both ways this thread may be asleep — in the parker while it holds the
/// core, on a plain thread park while it waits for it. Whichever it is
/// not in costs no syscall (an unpark of a parker that is not parked only
/// flips its state; `Thread::unpark` of a thread not in `park` only sets
/// its token).
struct MainWaker {
    woken: AtomicBool,
    unparker: Unparker,
    thread: Thread,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        // Release pairs with the Acquire swaps in `block_on`: what the
        // waker did before waking is visible to the poll it causes.
        if !self.woken.swap(true, Release) {
            self.unparker.unpark();
            self.thread.unpark();
        }
    }
}

/// The core holder's wake hook: unparks it (from the driver or its thread).
struct Hook(Unparker);

impl Wake for Hook {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Gives the core back when `block_on` returns or unwinds.
struct CoreGuard<'a>(&'a Shared);

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        self.0.release_core();
    }
}

pub(super) fn block_on<F: Future>(
    handle: &Handle,
    shared: &Arc<Shared>,
    driver: &Arc<SharedDriver>,
    fut: F,
) -> Result<F::Output, BlockOnError> {
    if context::is_driving() {
        return Err(BlockOnError(()));
    }
    let _enter = context::enter(handle.clone(), true);
    let local = LocalSet::new();
    let mut fut = pin!(local.run_until(fut));

    let mut parker = Parker::new(driver.clone());
    let main = Arc::new(MainWaker {
        woken: AtomicBool::new(true),
        unparker: parker.unparker(),
        thread: thread::current(),
    });
    let waker = Waker::from(main.clone());
    let hook = Waker::from(Arc::new(Hook(parker.unparker())));
    let mut cx = Context::from_waker(&waker);
    let token = &handle.inner.root;
    let root = Root { token };
    // Deregistered however `block_on` ends (a panic of the future too).
    let mut key = Registered(token, None);
    let mut bound = !handle.inner.cancel_binding;
    // The future, under the root token; registers the waker with the
    // token on its first `Pending`, so that a root cancel wakes it.
    let mut poll_main = |cx: &mut Context<'_>| -> Poll<F::Output> {
        loop {
            if let Poll::Ready(v) =
                cancel_cx::enter(&root, || coop::budget(|| fut.as_mut().poll(cx)))
            {
                return Poll::Ready(v);
            }
            if !bound {
                bound = true;
                key.1 = token.register_waker(cx.waker());
                if key.1.is_none() {
                    continue; // already cancelled: poll again to see it
                }
            }
            return Poll::Pending;
        }
    };

    let out = 'out: loop {
        // Not holding the core: our own future only.
        // Acquire pairs with the Release swap in `MainWaker::wake_by_ref`.
        if main.woken.swap(false, Acquire) {
            if let Poll::Ready(v) = poll_main(&mut cx) {
                break 'out v;
            }
        }
        if !shared.try_acquire_core(&waker) {
            // Woken by our future's waker or by the core's release.
            // Acquire as above.
            while !main.woken.load(Acquire) {
                thread::park();
            }
            continue;
        }
        let _core = CoreGuard(shared);
        let _driving = shared.enter_driving();
        loop {
            // Acquire as above.
            if main.woken.swap(false, Acquire) {
                if let Poll::Ready(v) = poll_main(&mut cx) {
                    break 'out v;
                }
            }
            if shared.run_batch() == BATCH {
                // Busy: let I/O and timers progress before the next batch
                // (unconditionally: timers need the turn even when no
                // source is registered).
                driver.try_turn();
                continue;
            }
            // Relaxed: only a hint to skip the park; the parker remembers
            // the unpark that follows every set of the flag.
            if main.woken.load(Relaxed) {
                continue;
            }
            if shared.sleep_unless_work(&hook) == Sleep::Registered {
                parker.park(None);
            }
        }
    };
    drop(key);
    Ok(out)
}

/// The `block_on` future's waker registration with the root token.
struct Registered<'a>(
    &'a quell_cancel::CancelToken,
    Option<quell_cancel::WaiterKey>,
);

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.1.take() {
            self.0.deregister_waker(k);
        }
    }
}

impl Runtime {
    /// One wait of shutdown's grace loop (shutdown.rs). Multi-thread: a
    /// sleep while the workers run the tasks. Current-thread: no worker
    /// runs them, so wait by driving them in `block_on`, shielded (shutdown
    /// has cancelled the root token that future runs under).
    pub(super) fn wait_in_grace(&self, d: Duration) {
        if let Scheduler::CurrentThread { .. } = self.handle.inner.sched {
            let sleep = quell_cancel::shield(quell_io_driver::time::sleep(d));
            if self.try_block_on(sleep).is_ok() {
                return;
            }
            // Called on a thread that drives a runtime: it cannot drive
            // this one too; the tasks wait for the abort.
        }
        thread::sleep(d);
    }
}
