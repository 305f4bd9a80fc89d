//! An asymmetric barrier for the scheduler's store-buffering (Dekker)
//! pairs: the idle protocol's pusher/parker pair (idle.rs) and the
//! shutdown pair (`Handle::push_remote` / `Handle::finish_shutdown`).
//!
//! Each pair is "store, barrier, load" on both sides, and the barrier must
//! ensure that whichever side comes second sees the other's store. With a
//! `fence(SeqCst)` on both sides that costs a full fence (a `lock or` on
//! x86) on the *hot* side, the pusher, at every local push, offered LIFO
//! fill and remote wake. The *cold* side (a worker about to park as the
//! last searcher; the final drain of shutdown) can pay more instead:
//!
//! * [`light`] (pushers): a compiler fence only, when [`heavy`] has the
//!   kernel's help; else `fence(SeqCst)`.
//! * [`heavy`] (parkers): `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`
//!   when available, which runs a full memory barrier on every CPU that is
//!   running a thread of this process; else `fence(SeqCst)`.
//!
//! This is the technique of liburcu's `urcu-memb` flavour
//! (`smp_mb_slave` / `smp_mb_master`) and of Folly's
//! `asymmetricLightBarrier` / `asymmetricHeavyBarrier`.
//!
//! # Why the pair still works
//!
//! Pusher P: store `Wp`; [`light`]; load `Rp`. Parker Q: store `Wq`;
//! [`heavy`]; load `Rq`. Claim: `Rp` sees `Wq` or `Rq` sees `Wp`.
//!
//! 1. The compiler fence keeps `Wp` before `Rp` in P's instruction
//!    stream (the CPU may still let `Rp` pass `Wp`, e.g. out of x86's
//!    store buffer: that is what the IPI below takes care of).
//! 2. `membarrier(PRIVATE_EXPEDITED)` returns only after every thread of
//!    the process has passed, between the call's entry and its return, a
//!    point of its program order at which it executed a full memory
//!    barrier: a running thread is interrupted (IPI) and runs `smp_mb()`
//!    between two of its instructions; a thread that is not running
//!    passed a context switch (a full barrier) after its last instruction
//!    and passes another before its next. Call P's point `b`. The kernel
//!    also runs `smp_mb()` on Q's CPU at the call's entry (after `Wq`)
//!    and before its return (before `Rq`). (With one thread in the
//!    process, or one CPU online, it returns at once: there is then no
//!    other CPU whose stores could be out of order for Q.)
//! 3. If `b` comes after `Wp` in P's program order: `Wp` was made visible
//!    at `b`, before the call returned, so `Rq` (after the return) sees it.
//! 4. If `b` comes before `Wp`, it comes before `Rp` too (step 1): `Rp`
//!    executes after P's barrier at `b`, which is after the call's entry
//!    barrier on Q's side, which is after `Wq`: `Rp` sees `Wq`.
//! 5. `b` is one point of P's program order, so 3 or 4 holds: whichever
//!    comes second sees the other's store, as with two `SeqCst` fences.
//!
//! A pusher on the fence side pairs with either parker side (a full fence
//! is at least the light side), so the only forbidden combination is a
//! light pusher with a fence parker. The mode is therefore decided once
//! per process, by [`init`], before any scheduler exists (every parker is
//! a worker of a scheduler built after `init`, or the thread that drops
//! it), and never changes: registration is tried once, with one trial
//! call; if either fails the process uses fences on both sides for good.
//! After a successful trial the kernel can still fail a call only with
//! `ENOMEM` (a cpumask allocation); [`heavy`] then retries, since falling
//! back to a fence there would pair it with light pushers. Any other
//! error aborts the process rather than risk a lost wakeup.
//!
//! # Cost
//!
//! [`heavy`] is a syscall: about 0.15 µs when no other thread of the
//! process is on a CPU, plus an IPI round trip to each CPU that is
//! running one (about 16 µs on the 2-vCPU VM of docs/benchmarks.md, where
//! an IPI exits to the hypervisor; a few µs on bare metal). It is paid
//! once per park of a last searcher and once per shutdown, never in a
//! loop, so an idle runtime stays idle (docs/benchmarks.md, "Asymmetric
//! barrier").
//!
//! Under `cfg(loom)` both sides are `fence(SeqCst)`: that is exactly the
//! guarantee argued above, so the loom models still check every protocol
//! that uses this pair.

#[cfg(not(loom))]
mod imp {
    use std::sync::atomic::{compiler_fence, fence, AtomicU8, Ordering::*};
    use std::sync::Once;

    /// Not yet decided: both sides fence (only pushers can see this; a
    /// pusher's full fence pairs with either parker side).
    const UNDECIDED: u8 = 0;
    /// Registration failed: `fence(SeqCst)` on both sides.
    const FENCES: u8 = 1;
    /// Registered: a compiler fence for pushers, membarrier for parkers.
    const MEMBARRIER: u8 = 2;

    /// Written once, by `init`, before any scheduler exists.
    static MODE: AtomicU8 = AtomicU8::new(UNDECIDED);

    /// Decides the mode for the life of the process (idempotent; called
    /// when a scheduler is built, before its workers start).
    pub(crate) fn init() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let mode = if membarrier::register() {
                MEMBARRIER
            } else {
                FENCES
            };
            // Relaxed: read after `init` by every parker (a worker spawned
            // after it, or the thread that drops the runtime: both
            // happen after this store); a pusher that reads `UNDECIDED`
            // fences fully, which is safe with either parker side.
            MODE.store(mode, Relaxed);
        });
    }

    /// Whether the parkers' side is the membarrier (for tests).
    pub(crate) fn is_asymmetric() -> bool {
        // Relaxed: see `init`.
        MODE.load(Relaxed) == MEMBARRIER
    }

    /// The pushers' side: between a queue push and the idle-state load.
    #[inline(always)]
    pub(crate) fn light() {
        if is_asymmetric() {
            // Pairs with `heavy` (membarrier): the module docs' argument
            // needs only that the compiler keep our store before our load.
            compiler_fence(SeqCst);
        } else {
            // Pairs with `heavy` (its fence, or the membarrier).
            fence(SeqCst);
        }
    }

    /// The parkers' side: between the state write and the queue loads.
    pub(crate) fn heavy() {
        if is_asymmetric() {
            membarrier::barrier();
        } else {
            debug_assert_ne!(MODE.load(Relaxed), UNDECIDED, "barrier::init not called");
            // Pairs with `light`'s fence (mode `FENCES` is final).
            fence(SeqCst);
        }
    }

    #[cfg(target_os = "linux")]
    mod membarrier {
        // include/uapi/linux/membarrier.h
        const CMD_QUERY: libc::c_int = 0;
        const CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
        const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

        fn call(cmd: libc::c_int) -> libc::c_long {
            // SAFETY: membarrier takes three integers (cmd, flags, cpu_id)
            // and touches no memory of ours.
            unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0, 0) }
        }

        /// Query, register, and one trial barrier: true if all succeed.
        pub(super) fn register() -> bool {
            let cmds = call(CMD_QUERY);
            let need = libc::c_long::from(CMD_PRIVATE_EXPEDITED | CMD_REGISTER_PRIVATE_EXPEDITED);
            cmds >= 0
                && cmds & need == need
                && call(CMD_REGISTER_PRIVATE_EXPEDITED) == 0
                && call(CMD_PRIVATE_EXPEDITED) == 0
        }

        /// One process-wide barrier (see the module docs for why it may
        /// not fall back to a fence).
        pub(super) fn barrier() {
            while call(CMD_PRIVATE_EXPEDITED) != 0 {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::ENOMEM) {
                    eprintln!("quell: membarrier failed after registration: {err}");
                    std::process::abort();
                }
                std::thread::yield_now();
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    mod membarrier {
        pub(super) fn register() -> bool {
            false
        }

        pub(super) fn barrier() {
            unreachable!("no membarrier outside Linux: the mode is FENCES");
        }
    }
}

#[cfg(loom)]
mod imp {
    use crate::loom::atomic::{fence, Ordering::SeqCst};

    pub(crate) fn init() {}

    pub(crate) fn light() {
        // Pairs with `heavy`'s fence.
        fence(SeqCst);
    }

    pub(crate) fn heavy() {
        // Pairs with `light`'s fence.
        fence(SeqCst);
    }
}

pub(crate) use imp::*;

/// Push-versus-park stress on real threads, with the barrier in the mode
/// this process decided (asserted to be the membarrier on Linux). A lost
/// wakeup leaves a task queued with every worker parked: the waiting side
/// then reaches `HANG`, a bound far above any wake latency that
/// only turns that hang into a failure.
#[cfg(all(test, not(loom)))]
mod tests {
    use std::future::poll_fn;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{mpsc, Arc, Mutex};
    use std::task::{Poll, Waker};
    use std::time::{Duration, Instant};

    const HANG: Duration = Duration::from_secs(20);

    fn runtime() -> crate::Runtime {
        let rt = crate::runtime::Builder::new()
            .worker_threads(2)
            // Park as soon as the queues are empty: every round below then
            // races a push against a worker going to sleep.
            .spin_before_park(0)
            .build()
            .expect("build runtime");
        if cfg!(target_os = "linux") {
            assert!(super::is_asymmetric(), "membarrier unavailable: fence mode");
        }
        rt
    }

    /// A task waits for generation `g`; another thread fires it.
    #[derive(Default)]
    struct Gate {
        waker: Mutex<Option<Waker>>,
        fired: AtomicU64,
    }

    impl Gate {
        async fn wait(&self, g: u64) {
            poll_fn(|cx| {
                *self.waker.lock().unwrap() = Some(cx.waker().clone());
                // Acquire: pairs with the Release store in `fire`; checked
                // after storing the waker (under the same lock as `fire`'s
                // take), so a fire is either seen here or wakes us.
                if self.fired.load(Ordering::Acquire) >= g {
                    return Poll::Ready(());
                }
                Poll::Pending
            })
            .await
        }

        fn fire(&self, g: u64) {
            // Release: pairs with the Acquire load in `wait`.
            self.fired.store(g, Ordering::Release);
            if let Some(w) = self.waker.lock().unwrap().take() {
                w.wake();
            }
        }
    }

    /// Remote pushes (the injector, `Handle::push_remote`) against the
    /// workers' parks: the test thread wakes a task, which answers at once;
    /// the next wake comes while the worker that ran it goes back to sleep.
    #[test]
    fn remote_push_vs_park() {
        const ROUNDS: u64 = 200_000;
        let rt = runtime();
        let gate = Arc::new(Gate::default());
        let (tx, rx) = mpsc::channel();
        let g = gate.clone();
        drop(rt.spawn(async move {
            for i in 1..=ROUNDS {
                g.wait(i).await;
                tx.send(i).unwrap();
            }
        }));
        for i in 1..=ROUNDS {
            gate.fire(i);
            assert_eq!(rx.recv_timeout(HANG), Ok(i), "round {i}: wake lost");
        }
    }

    /// Local pushes (a spawn from a worker: its local queue, whose push is
    /// a plain store, then the pusher's light barrier) against the other
    /// worker's park. One task A spawns B and spins until B has run, over
    /// and over, in one poll: only the other worker can run each B, and
    /// it goes back to sleep right after running the previous one, so
    /// each spawn races its park (its state write, heavy barrier and
    /// re-check).
    #[test]
    fn local_push_vs_park() {
        const ROUNDS: u64 = 200_000;
        let rt = runtime();
        let (tx, rx) = mpsc::channel();
        drop(rt.spawn(async move {
            for i in 1..=ROUNDS {
                let ran = Arc::new(AtomicBool::new(false));
                let r = ran.clone();
                // Release: pairs with the Acquire load of the spin below.
                drop(crate::spawn(
                    async move { r.store(true, Ordering::Release) },
                ));
                let start = Instant::now();
                while !ran.load(Ordering::Acquire) {
                    if start.elapsed() > HANG {
                        tx.send(Err(i)).unwrap();
                        return;
                    }
                    std::hint::spin_loop();
                }
            }
            tx.send(Ok(ROUNDS)).unwrap();
        }));
        let r = rx.recv_timeout(HANG + HANG);
        assert_eq!(r, Ok(Ok(ROUNDS)), "spawned task stranded (Err: its round)");
    }
}
