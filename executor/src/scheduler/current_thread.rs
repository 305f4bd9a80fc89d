//! A single-threaded run queue: the scheduler of the current-thread
//! runtime and of a `LocalSet` (`spawn_local`).
//!
//! One thread at a time *drives* it: pops and polls its tasks, then
//! sleeps until a task is queued. Tasks are queued from any thread (a
//! wake on another thread, an I/O event, a timer, a cancel). The
//! work-stealing scheduler is not involved: this is a separate, small
//! [`Schedule`] implementation over the same task machinery (state word,
//! wakers, join handles, cancel scopes).
//!
//! # The wake protocol (no lost wakeup, C1/C5 for one thread)
//!
//! The queue, the driver's *wake hook* (a `Waker`) and the closed flag sit
//! under one mutex:
//!
//! 1. **Push** (any thread): lock; if closed, drop the task; else append
//!    it and take the wake hook (unless the pusher *is* the driving thread,
//!    see below); unlock; wake the hook.
//! 2. **Drive**: pop and poll up to [`BATCH`] tasks, one lock each.
//! 3. **Sleep**: lock; if the queue is non-empty, unlock and go to 2; else
//!    store the wake hook; unlock; sleep until the hook is woken (the
//!    runtime's thread parks in the I/O driver; a `LocalSet` returns
//!    `Pending` to whatever polls it).
//!
//! Step 3's check and registration are one critical section, and so is
//! step 1's push and take: a push is either before the check (the driver
//! sees the task and does not sleep) or after the registration (the
//! pusher takes the hook and wakes it). The sleeper's wake mechanism
//! remembers a wake that arrives before it sleeps (the parker's NOTIFIED
//! state, a `Waker`'s contract). `loom_current_thread.rs` checks this, and
//! deadlocks when the check and the registration are split, or the push
//! and the take.
//!
//! A push from the driving thread itself (a task waking another, an I/O
//! event dispatched while the driver is parked in it on this thread) takes
//! no hook: the driver re-checks the queue in step 3 after whatever it is
//! doing returns, so a wake would only cost a syscall. The driving thread
//! marks itself in a thread-local ([`DriveGuard`]).
//!
//! # Thread-bound tasks
//!
//! [`Schedule::ANY_THREAD`] is `false`: an `abort` from another thread
//! queues the task instead of dropping its future there, so a `LocalSet`'s
//! `!Send` futures are polled and dropped only by their owner thread. (The
//! current-thread runtime's tasks are `Send`; for them it only means an
//! abort is carried out by the thread in `block_on`.)
//!
//! # The core of the current-thread runtime
//!
//! Several threads may call `block_on` on one current-thread runtime; one
//! of them at a time holds the *core* and drives the queue ("one worker").
//! The others poll only their own future, and wait for it or for the core
//! ([`Shared::try_acquire_core`], [`Shared::release_core`]): the core is
//! handed on when its holder's `block_on` returns.

use std::cell::Cell;
use std::collections::VecDeque;
use std::ptr;
use std::task::Waker;

use quell_cancel::CancelToken;

use super::park::SharedDriver;
use crate::loom::{Arc, Mutex, OnceLock};
use crate::task::list::OwnedTasks;
use crate::task::{Notified, Schedule, Task};

/// Tasks polled between two looks at the driver's other duties (the
/// `block_on` future, a non-blocking I/O turn, the outer executor).
pub(crate) const BATCH: usize = 61;

pub(crate) type LocalNotified = Notified<Arc<Shared>>;

/// The scheduler state, shared with every task (each holds an `Arc`).
pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) owned: OwnedTasks<Arc<Shared>>,
    /// The current-thread runtime's root token (resolves `Binding::Root`);
    /// `None` for a `LocalSet`, whose tasks hold their binding's token.
    root: Option<CancelToken>,
    /// The timer for `Schedule::wake_at` (abort after a grace): the
    /// runtime's driver; for a `LocalSet`, that of the runtime its first
    /// task was spawned in.
    timer: OnceLock<Arc<SharedDriver>>,
}

struct State {
    queue: VecDeque<LocalNotified>,
    /// The sleeping driver's wake hook (protocol step 3).
    hook: Option<Waker>,
    closed: bool,
    /// Current-thread runtime: whether a `block_on` holds the core, and
    /// the other `block_on` callers waiting for it.
    core_held: bool,
    core_waiters: Vec<Waker>,
}

#[cfg(not(loom))]
std::thread_local! {
    static DRIVING: Cell<*const Shared> = const { Cell::new(ptr::null()) };
}

#[cfg(loom)]
loom::thread_local! {
    static DRIVING: Cell<*const Shared> = Cell::new(ptr::null());
}

/// Marks this thread as the one driving a [`Shared`] (pushes from it take
/// no wake hook); restores the previous mark on drop (a `LocalSet` driven
/// inside a current-thread `block_on` nests).
pub(crate) struct DriveGuard(*const Shared);

impl Drop for DriveGuard {
    fn drop(&mut self) {
        let _ = DRIVING.try_with(|d| d.set(self.0));
    }
}

/// What [`Shared::sleep_unless_work`] decided.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub(crate) enum Sleep {
    /// The hook is registered: sleep until it is woken.
    Registered,
    /// Tasks are queued: drive again.
    Work,
}

impl Shared {
    pub(crate) fn new(root: Option<CancelToken>) -> Arc<Shared> {
        Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                hook: None,
                closed: false,
                core_held: false,
                core_waiters: Vec::new(),
            }),
            owned: OwnedTasks::new(),
            root,
            timer: OnceLock::new(),
        })
    }

    fn lock(&self) -> crate::loom::MutexGuard<'_, State> {
        // Poison-tolerant: no user code runs under this lock (wakes and
        // drops happen after it is released), so the state is whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the timer for `wake_at`, if none yet.
    pub(crate) fn set_timer(&self, driver: &Arc<SharedDriver>) {
        if self.timer.get().is_none() {
            let _ = self.timer.set(driver.clone());
        }
    }

    /// Marks this thread as driving `self` until the guard drops.
    pub(crate) fn enter_driving(&self) -> DriveGuard {
        let me: *const Shared = self;
        DriveGuard(DRIVING.with(|d| d.replace(me)))
    }

    fn is_driving_here(&self) -> bool {
        DRIVING
            .try_with(|d| ptr::eq(d.get(), self))
            .unwrap_or(false)
    }

    /// Starts a freshly allocated task: binds it to the owned list and
    /// queues its first poll; if the scheduler is shutting down, drops its
    /// future now (here) and leaves the handle to report the shutdown.
    pub(crate) fn start(this: &Arc<Shared>, task: Task<Arc<Shared>>, notified: LocalNotified) {
        if let Err(task) = this.owned.bind(task) {
            task.shutdown();
            drop(notified);
            return;
        }
        Schedule::schedule(this, notified);
    }

    /// Protocol step 1.
    fn push(&self, task: LocalNotified) {
        let here = self.is_driving_here();
        let mut st = self.lock();
        if st.closed {
            drop(st);
            // Shut down: the owned list already dropped the future; this
            // is only the queue's ref.
            drop(task);
            return;
        }
        st.queue.push_back(task);
        let hook = if here { None } else { st.hook.take() };
        drop(st);
        if let Some(w) = hook {
            quell_cancel::rt_internal::waiters::wake(w);
        }
    }

    /// Pops the next queued task (protocol step 2).
    pub(crate) fn pop(&self) -> Option<LocalNotified> {
        self.lock().queue.pop_front()
    }

    /// Polls up to [`BATCH`] queued tasks; returns how many ran. Must be
    /// called by the driving thread (for a `LocalSet`, its owner).
    pub(crate) fn run_batch(&self) -> usize {
        let mut ran = 0;
        while ran < BATCH {
            let Some(task) = self.pop() else { break };
            task.run();
            ran += 1;
        }
        ran
    }

    /// Protocol step 3: registers `hook` unless tasks are queued.
    pub(crate) fn sleep_unless_work(&self, hook: &Waker) -> Sleep {
        let mut st = self.lock();
        if !st.queue.is_empty() || st.closed {
            return Sleep::Work;
        }
        match &st.hook {
            Some(w) if w.will_wake(hook) => {}
            _ => st.hook = Some(hook.clone()),
        }
        Sleep::Registered
    }

    /// Current-thread runtime: takes the core if free; else registers
    /// `waiter` to be woken when it is released.
    pub(crate) fn try_acquire_core(&self, waiter: &Waker) -> bool {
        let mut st = self.lock();
        if !st.core_held {
            st.core_held = true;
            return true;
        }
        if !st.core_waiters.iter().any(|w| w.will_wake(waiter)) {
            st.core_waiters.push(waiter.clone());
        }
        false
    }

    /// Gives the core back and wakes the `block_on` callers waiting for it
    /// (one of them takes it; the others wait again).
    pub(crate) fn release_core(&self) {
        let waiters = {
            let mut st = self.lock();
            st.core_held = false;
            st.hook = None;
            std::mem::take(&mut st.core_waiters)
        };
        quell_cancel::rt_internal::waiters::wake_all(waiters);
    }

    /// Closes the queue and drops every task's future, on this thread
    /// (the runtime's shutdown; a `LocalSet`'s drop, on its owner).
    pub(crate) fn shutdown(&self) {
        self.lock().closed = true;
        self.owned.close_and_shutdown_all();
        // Every push after `closed` drops its task; drain what was queued
        // before. Outside the lock: dropping a ref may free a task.
        let queued = std::mem::take(&mut self.lock().queue);
        drop(queued);
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: LocalNotified) {
        self.push(task);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    fn root_token(&self) -> Option<&CancelToken> {
        self.root.as_ref()
    }

    fn wake_at(
        &self,
        deadline: std::time::Instant,
        waker: std::task::Waker,
    ) -> Result<(), std::task::Waker> {
        match self.timer.get() {
            Some(t) => t.wake_at(deadline, waker),
            None => Err(waker),
        }
    }

    const ANY_THREAD: bool = false;
}
