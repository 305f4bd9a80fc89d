//! A task woken by a task that keeps its worker busy is not stranded in
//! that worker's LIFO slot (DESIGN.md C13; executor/src/scheduler/lifo.rs).
//!
//! Two long-lived tasks on a 2-worker runtime. Each round, the test thread
//! waits until both are parked, pauses so that the workers run out of
//! work and park too, then wakes task A. A wakes task B (B's waker is
//! stored: the wake is a LIFO fill of A's worker), then spins until B has
//! run. Only the other worker can run B while A spins, and it is parked:
//! if B stayed in A's slot until A's poll ended, A would spin forever. The
//! spin has a generous bound that only catches that hang (the test then
//! fails instead of hanging). The pause only makes the parked case likely;
//! every hand-over is coordinated through the atomics below.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// Far above any wake latency; only a stranded B reaches it.
const HANG: Duration = Duration::from_secs(10);
const ROUNDS: u64 = 50;

/// A generation gate: a task waits for generation `g`; another side fires.
#[derive(Default)]
struct Gate {
    waker: Mutex<Option<Waker>>,
    /// The generation the task waits for (its waker is stored).
    armed: AtomicU64,
    /// The last generation fired.
    fired: AtomicU64,
}

impl Gate {
    async fn wait(&self, g: u64) {
        poll_fn(|cx| {
            // Acquire: pairs with the Release store in `fire`.
            if self.fired.load(Ordering::Acquire) >= g {
                return Poll::Ready(());
            }
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            // Release: pairs with the Acquire load in `is_armed`.
            self.armed.store(g, Ordering::Release);
            Poll::Pending
        })
        .await
    }

    fn is_armed(&self, g: u64) -> bool {
        // Acquire: the waker stored before `armed` is visible.
        self.armed.load(Ordering::Acquire) >= g
    }

    fn fire(&self, g: u64) {
        // Release: pairs with the Acquire load in `wait`.
        self.fired.store(g, Ordering::Release);
        let w = self.waker.lock().unwrap().take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

#[test]
fn busy_waker_does_not_strand_the_woken_task() {
    let rt = quell::runtime::Builder::new()
        .worker_threads(2)
        .build()
        .unwrap();
    let kick = Arc::new(Gate::default());
    let b = Arc::new(Gate::default());
    let b_ran = Arc::new(AtomicU64::new(0));
    let stranded = Arc::new(AtomicBool::new(false));

    let b_task = {
        let (b, b_ran) = (b.clone(), b_ran.clone());
        rt.spawn(async move {
            for g in 1..=ROUNDS {
                b.wait(g).await;
                // Release: A's Acquire load sees that B ran round `g`.
                b_ran.store(g, Ordering::Release);
            }
        })
    };
    let a_task = {
        let (kick, b, b_ran, stranded) = (kick.clone(), b.clone(), b_ran.clone(), stranded.clone());
        rt.spawn(async move {
            for g in 1..=ROUNDS {
                kick.wait(g).await;
                b.fire(g);
                // Busy: no await until B has run (or the hang bound).
                let start = Instant::now();
                // Acquire: pairs with B's Release store.
                while b_ran.load(Ordering::Acquire) < g {
                    if start.elapsed() > HANG {
                        stranded.store(true, Ordering::Relaxed);
                        return g;
                    }
                    std::hint::spin_loop();
                }
            }
            0
        })
    };
    for g in 1..=ROUNDS {
        let deadline = Instant::now() + HANG;
        while !(kick.is_armed(g) && b.is_armed(g)) {
            assert!(
                Instant::now() < deadline,
                "round {g}: tasks did not park (kick armed {}, b armed {}, b ran {})",
                kick.armed.load(Ordering::Relaxed),
                b.armed.load(Ordering::Relaxed),
                b_ran.load(Ordering::Relaxed)
            );
            std::thread::sleep(Duration::from_micros(50));
        }
        // Let the workers park (see the module docs).
        std::thread::sleep(Duration::from_millis(1));
        kick.fire(g);
        if stranded.load(Ordering::Relaxed) {
            break;
        }
    }
    let round = rt.block_on(a_task).unwrap();
    assert_eq!(
        round, 0,
        "round {round}: B did not run while A spun (stranded in A's LIFO slot)"
    );
    rt.block_on(b_task).unwrap();
}
