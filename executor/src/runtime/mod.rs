//! The runtime: builder, handle, `block_on`, the blocking pool, shutdown.
//!
//! ```text
//! builder.rs   validated settings → Runtime::start
//! flavor.rs    the scheduler: multi-thread (workers) or current-thread
//! handle.rs    Handle: spawn from anywhere, current(), introspection
//! context.rs   the thread's current runtime; "already driving" detection
//! block_on.rs  drive a future on the calling thread
//! current_thread.rs  the current-thread flavor: block_on is the worker
//! blocking/    the bounded blocking pool (spawn_blocking), interruptible tasks
//! shutdown.rs  graceful shutdown: drain → cancel → abort, with a report
//! observe/     opt-in watchers: the leak watchdog, the dump on a signal
//! ```

mod block_on;
mod blocking;
mod builder;
pub(crate) mod context;
mod current_thread;
mod dump;
mod flavor;
mod handle;
#[cfg(not(loom))]
mod observe;
mod resolve;
mod shutdown;

use std::fmt;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::thread;

pub use crate::hooks::TaskMeta;
pub use block_on::BlockOnError;
pub use builder::Builder;
pub use dump::{
    CancelState, CancelTree, Dump, ScopeDump, ScopeId, TaskDump, TaskKind, TaskState, Wait,
};
pub(crate) use handle::TokenChoice;
pub use handle::{Handle, TryCurrentError};
#[cfg(not(loom))]
pub use observe::Leak;
pub use shutdown::{ShutdownPolicy, ShutdownReport};

use crate::loom::Arc;
use crate::scheduler::{self, park::SharedDriver, worker};
use crate::task::JoinHandle;
use flavor::Scheduler;

/// A quell runtime: worker threads, their queues, and the blocking pool.
///
/// Dropping it shuts it down: workers stop, every task's future is dropped
/// (destructors run), and every thread is joined (contract C9). A blocking
/// closure that is running is waited for; [`Runtime::shutdown_graceful`]
/// bounds that wait by its grace instead.
///
/// ```
/// let rt = quell_executor::Runtime::new().unwrap();
/// let out = rt.block_on(async {
///     let h = quell_executor::spawn(async { 40 + 2 });
///     h.await.unwrap()
/// });
/// assert_eq!(out, 42);
/// ```
///
/// # Flavors
///
/// [`Runtime::new`] and [`Builder::new`] build the **multi-thread**
/// runtime: worker threads with work stealing. [`Builder::new_current_thread`]
/// builds the **current-thread** runtime: no worker threads; the thread
/// inside [`block_on`](Self::block_on) is the one worker, so tasks run
/// only while some thread is inside `block_on` (spawned from elsewhere,
/// they wait for it). I/O, timers, cancellation, the blocking pool and
/// [`shutdown_graceful`](Self::shutdown_graceful) work the same; its
/// `block_on` is also a local context, so [`crate::task::spawn_local`]
/// runs `!Send` futures there. One thread runs everything, so a call that
/// blocks it (a std channel receive, a `thread::sleep`) stalls every task
/// until it returns: such work belongs on `spawn_blocking`.
///
/// ```
/// let rt = quell_executor::runtime::Builder::new_current_thread().build().unwrap();
/// let main_thread = std::thread::current().id();
/// let ran_on = rt.block_on(async {
///     quell_executor::spawn(async { std::thread::current().id() }).await.unwrap()
/// });
/// assert_eq!(ran_on, main_thread);
/// assert_eq!(rt.handle().num_workers(), 0);
/// ```
pub struct Runtime {
    handle: Handle,
    workers: Vec<thread::JoinHandle<()>>,
    /// The leak watchdog and the dump on a signal, if the builder asked.
    #[cfg(not(loom))]
    observers: observe::Observers,
}

impl Runtime {
    /// A runtime with the default settings (one worker per CPU).
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    pub(crate) fn start(b: &Builder, num_workers: usize) -> io::Result<Runtime> {
        let io_driver = quell_io_driver::rt_internal::Driver::new()?;
        let io = io_driver.handle().clone();
        let shared = SharedDriver::new(Some((io_driver, io.clone())));
        let observe = scheduler::Observe {
            histograms: b.metrics_histograms,
            hooks: b.hooks.clone(),
        };
        let sched = scheduler::Handle::with_observe(num_workers, b.config(), shared, observe);
        let thread_hooks = Arc::new(b.hooks.clone());
        let handle = Handle {
            inner: Arc::new(handle::Inner {
                sched: Scheduler::MultiThread(sched.clone()),
                blocking: blocking::BlockingSpawner::new(
                    b.max_blocking_threads,
                    b.blocking_keep_alive,
                    b.blocking_name.clone(),
                    thread_hooks.clone(),
                ),
                root: sched.root.clone(),
                io,
                cancel_binding: b.cancel_binding,
                shutdown_policy: b.shutdown_policy,
            }),
        };
        let mut rt = Runtime {
            handle: handle.clone(),
            workers: Vec::with_capacity(num_workers),
            #[cfg(not(loom))]
            observers: observe::Observers::default(),
        };
        let cores = std::mem::take(&mut *sched.cores.lock().unwrap());
        let ncpus = crate::loom::num_cpus();
        for core in cores {
            let index = core.index;
            let h = handle.clone();
            let s = sched.clone();
            let pin = b.pin_workers;
            let hooks = thread_hooks.clone();
            let spawned = thread::Builder::new()
                .name((b.thread_name)(index))
                .spawn(move || {
                    if pin {
                        pin_to_cpu(index % ncpus);
                    }
                    let _enter = context::enter(h, true);
                    hooks.thread_start();
                    worker::run(s, core);
                    hooks.thread_stop();
                });
            match spawned {
                Ok(jh) => rt.workers.push(jh),
                // `rt` drops here: the started workers are stopped and joined.
                Err(e) => return Err(e),
            }
        }
        Ok(rt)
    }

    /// This runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Spawns a task; see [`Handle::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle
            .spawn_with(future, None, TokenChoice::Inherit, Location::caller())
    }

    /// Runs a blocking closure on the pool; see [`Handle::spawn_blocking`].
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// Runs `future` to completion on this thread, with the runtime entered.
    ///
    /// # Panics
    ///
    /// If called on a worker thread or inside another `block_on` (it would
    /// block a thread the runtime needs); [`try_block_on`](Self::try_block_on)
    /// returns that as an error instead. Panics of `future` propagate.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self.try_block_on(future) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`block_on`](Self::block_on), but refuses with an error instead
    /// of panicking when called from inside a runtime.
    pub fn try_block_on<F: Future>(&self, future: F) -> Result<F::Output, BlockOnError> {
        match &self.handle.inner.sched {
            Scheduler::MultiThread(_) => block_on::block_on(&self.handle, future),
            Scheduler::CurrentThread { shared, driver } => {
                current_thread::block_on(&self.handle, shared, driver, future)
            }
        }
    }

    fn shutdown_inner(&mut self) {
        // The watchers first: they look at tasks the rest takes apart.
        #[cfg(not(loom))]
        self.observers.stop();
        let sched = match &self.handle.inner.sched {
            Scheduler::MultiThread(sched) => sched,
            Scheduler::CurrentThread { shared, .. } => {
                // No workers: drop every future here, then the pool and
                // the driver, as below.
                shared.shutdown();
                self.handle.inner.blocking.shutdown();
                self.handle.inner.io.shutdown();
                return;
            }
        };
        sched.begin_shutdown();
        let me = thread::current().id();
        for jh in self.workers.drain(..) {
            // Dropping the runtime from one of its own workers cannot join
            // that worker; it exits by itself once the flag is seen.
            if jh.thread().id() != me {
                let _ = jh.join();
            }
        }
        sched.finish_shutdown();
        self.handle.inner.blocking.shutdown();
        self.handle.inner.io.shutdown();
    }
}

// Unwind safety. A `&Runtime` (or `Handle`) observed after a caught panic
// sees consistent state: user code (futures, wakers, destructors) never runs
// in the middle of a runtime state update. Task polls and drops run inside
// the harness's `catch_unwind`; wakers are woken, cloned and dropped with no
// runtime lock held (or under poison-tolerant locks whose state is final
// before the call); `block_on`'s context guard restores the thread's state
// on unwind. The auto traits are missing only because the state is shared
// through atomics, `UnsafeCell`s of the task header, crossbeam queues, the
// driver's trait object and `std::thread::JoinHandle`, none of which a
// caught panic can leave half-updated here. (tokio makes the same claim for
// its `Runtime` and `Handle`.)
impl std::panic::UnwindSafe for Runtime {}
impl std::panic::RefUnwindSafe for Runtime {}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown_inner();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}

fn pin_to_cpu(cpu: usize) {
    // SAFETY: `set` is a plain bitmask on our stack; sched_setaffinity(0, ..)
    // affects only the calling thread and reads `set` for its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        let _ = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}
