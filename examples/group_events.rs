//! Events per sample of the `group first error → siblings` compare row
//! (benches/common/group.rs), counted rather than timed (docs/benchmarks.md,
//! "Group first error: events per sample"):
//!
//! ```sh
//! cargo build --release --example group_events
//! target/release/examples/group_events 2 400          # counts per sample
//! strace -f -c target/release/examples/group_events 2 400
//! valgrind --tool=callgrind target/release/examples/group_events 1 40
//! GROUP_EVENTS_MARK=1 strace -f -e trace=futex,write,epoll_wait,statx \
//!     target/release/examples/group_events 2 400
//! GROUP_EVENTS_CALLGRIND=1 valgrind --tool=callgrind \
//!     target/release/examples/group_events 1 40
//! ```
//!
//! Arguments: the worker count and the number of samples. A sample is the
//! row's: 8 siblings parked on a channel receive and one member parked on
//! a oneshot in a `TryTaskGroup`, the parent in `wait()`; the main thread
//! fires the oneshot after the workers went idle, the member returns
//! `Err`, and the sample ends when the last sibling has observed the
//! cancellation. Printed, summed over the samples and divided by them:
//! the runtime's counters (polls, steals, unparks, LIFO hits) from the
//! fire to the end of the sample (the parent's `wait` returned), the
//! polls of the group's waiter in all and before the last sibling
//! observed, and how many siblings observed on the worker that ran the
//! failing member. With `GROUP_EVENTS_MARK` set, the fire and the last
//! sibling's observation are each marked by a `statx` syscall (of
//! `/mark-fire` and `/mark-seen`), so that a syscall trace can be cut to
//! the window between them. With `GROUP_EVENTS_CALLGRIND` set (under
//! callgrind), the same two points dump callgrind's counters (a client
//! request), so every second dump after the first is one sample's window.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use quell::task::TryTaskGroup;

const SIBLINGS: usize = 8;

/// What one sample's tasks report (shared by its tasks).
#[derive(Default)]
struct Sample {
    /// Siblings that observed the cancellation so far.
    observed: AtomicUsize,
    /// Waiter polls, and those before the last sibling observed.
    waiter_polls: AtomicUsize,
    waiter_polls_early: AtomicUsize,
    /// The thread that ran the failing member, and the siblings' threads.
    failer: Mutex<Option<std::thread::ThreadId>>,
    on_failer: AtomicUsize,
}

#[derive(Default, Debug)]
struct Totals {
    polls: u64,
    steals: u64,
    unparks: u64,
    lifo_hits: u64,
    local_schedules: u64,
    waiter_polls: u64,
    waiter_polls_early: u64,
    on_failer: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(workers), Some(n)) = (
        args.get(1).and_then(|s| s.parse::<usize>().ok()),
        args.get(2).and_then(|s| s.parse::<usize>().ok()),
    ) else {
        panic!("usage: group_events <workers> <samples>");
    };
    let rt = quell::runtime::Builder::new()
        .worker_threads(workers)
        .build()
        .expect("build quell runtime");
    let mut t = Totals::default();
    for i in 0..n {
        let s = Arc::new(Sample::default());
        let (atx, arx) = mpsc::channel::<()>();
        let (dtx, drx) = mpsc::channel::<()>();
        let (ttx, trx) = quell::sync::oneshot::channel::<()>();
        let s2 = s.clone();
        let h = rt.spawn(async move {
            let mut g = TryTaskGroup::<(), io::Error>::new();
            let mut keep = Vec::new();
            for _ in 0..SIBLINGS {
                let (tx, mut rx) = quell::sync::mpsc::channel::<()>(1);
                keep.push(tx);
                let (atx, dtx, s) = (atx.clone(), dtx.clone(), s2.clone());
                g.spawn(async move {
                    let r = armed(rx.recv(), atx).await;
                    assert!(matches!(&r, Err(e) if e.cancelled().is_some()));
                    if *s.failer.lock().unwrap() == Some(std::thread::current().id()) {
                        s.on_failer.fetch_add(1, SeqCst);
                    }
                    if s.observed.fetch_add(1, SeqCst) + 1 == SIBLINGS {
                        mark("/mark-seen");
                        let _ = dtx.send(());
                    }
                    Ok(())
                });
            }
            let s = s2.clone();
            g.spawn(async move {
                let _ = armed(trx, atx).await;
                *s.failer.lock().unwrap() = Some(std::thread::current().id());
                Err(io::Error::other("first error"))
            });
            let mut wait = pin!(g.wait());
            let _ = poll_fn(|cx| {
                s2.waiter_polls.fetch_add(1, SeqCst);
                if s2.observed.load(SeqCst) < SIBLINGS {
                    s2.waiter_polls_early.fetch_add(1, SeqCst);
                }
                wait.as_mut().poll(cx)
            })
            .await;
            drop(keep);
        });
        for _ in 0..=SIBLINGS {
            arx.recv_timeout(Duration::from_secs(10)).expect("parked");
        }
        std::thread::sleep(Duration::from_micros(200 + (i as u64 * 37) % 301));
        // Only the polls of this sample's parent are counted below; reset
        // so that the polls before the fire (arming) are not.
        s.waiter_polls.store(0, SeqCst);
        s.waiter_polls_early.store(0, SeqCst);
        let m0 = rt.handle().metrics();
        mark("/mark-fire");
        let _ = ttx.send(());
        drx.recv_timeout(Duration::from_secs(10)).expect("observed");
        rt.block_on(h).expect("parent");
        let m1 = rt.handle().metrics();
        let d = |f: fn(&quell::metrics::WorkerMetrics) -> u64| -> u64 {
            m1.worker.iter().map(f).sum::<u64>() - m0.worker.iter().map(f).sum::<u64>()
        };
        t.polls += d(|w| w.polls);
        t.steals += d(|w| w.steals);
        t.unparks += d(|w| w.unparks);
        t.lifo_hits += d(|w| w.lifo_hits);
        t.local_schedules += d(|w| w.local_schedules);
        t.waiter_polls += s.waiter_polls.load(SeqCst) as u64;
        t.waiter_polls_early += s.waiter_polls_early.load(SeqCst) as u64;
        t.on_failer += s.on_failer.load(SeqCst) as u64;
    }
    let per = |x: u64| x as f64 / n as f64;
    println!("workers {workers}, samples {n}, per sample (fire → parent done):");
    println!("  polls            {:6.2}", per(t.polls));
    println!("  steals           {:6.2}", per(t.steals));
    println!("  unparks          {:6.2}", per(t.unparks));
    println!("  lifo hits        {:6.2}", per(t.lifo_hits));
    println!("  local schedules  {:6.2}", per(t.local_schedules));
    println!("  waiter polls     {:6.2}", per(t.waiter_polls));
    println!(
        "    before last sibling observed {:6.2}",
        per(t.waiter_polls_early)
    );
    println!(
        "  siblings observed on the failing member's worker {:6.2}",
        per(t.on_failer)
    );
}

/// A marker syscall in a trace (`GROUP_EVENTS_MARK` set), else nothing.
fn mark(path: &str) {
    static ON: std::sync::OnceLock<(bool, bool)> = std::sync::OnceLock::new();
    let (syscall, dump) = *ON.get_or_init(|| {
        (
            std::env::var_os("GROUP_EVENTS_MARK").is_some(),
            std::env::var_os("GROUP_EVENTS_CALLGRIND").is_some(),
        )
    });
    if syscall {
        let _ = std::path::Path::new(path).exists();
    }
    if dump {
        callgrind_dump_stats();
    }
}

/// `CALLGRIND_DUMP_STATS` (valgrind.h's client request, amd64): a no-op
/// outside valgrind.
#[cfg(target_arch = "x86_64")]
fn callgrind_dump_stats() {
    // VG_USERREQ_TOOL_BASE('C', 'T') + 0: CALLGRIND_DUMP_STATS.
    let args: [u64; 6] = [0x4354_0000, 0, 0, 0, 0, 0];
    // SAFETY: valgrind's "special instruction" preamble: four rotates of
    // rdi by 128 bits in all (rdi ends as it started) and `xchg rbx, rbx`
    // (a no-op); natively nothing changes but rdx, which is set to the
    // default 0; under valgrind the request reads `args` through rax.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3", "rol rdi, 13", "rol rdi, 61", "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") 0u64 => _,
            in("rax") args.as_ptr(),
            inout("rdi") 0u64 => _,
        );
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn callgrind_dump_stats() {}

/// After the first `Pending` of `f`, sends `()` on `armed` (once).
async fn armed<F: Future>(f: F, armed: mpsc::Sender<()>) -> F::Output {
    let mut f = pin!(f);
    let mut armed = Some(armed);
    poll_fn(move |cx| {
        let r = f.as_mut().poll(cx);
        if r.is_pending() {
            if let Some(a) = armed.take() {
                let _ = a.send(());
            }
        }
        r
    })
    .await
}
