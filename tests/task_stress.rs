//! Bounded release-mode stress of wake / abort / join-drop races (in
//! addition to the loom models, which explore the same races exhaustively
//! at small scale).

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll, Waker};

use support::*;

const ITERS: usize = 20_000;

/// Pending until woken once, then Ready.
struct Once {
    slot: Arc<Mutex<(bool, Option<Waker>)>>,
    _tag: Tag,
}

impl Future for Once {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.slot.lock().unwrap();
        if s.0 {
            return Poll::Ready(());
        }
        s.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn wake_abort_join_races() {
    let _dog = watchdog("wake/abort stress");
    let rt = rt(2);
    let drops = DropCount::new();
    let mut completed = 0;
    let mut aborted = 0;
    for i in 0..ITERS {
        let slot = Arc::new(Mutex::new((false, None::<Waker>)));
        let h = rt.spawn(Once {
            slot: slot.clone(),
            _tag: drops.tag(),
        });
        let barrier = Arc::new(Barrier::new(2));
        let b = barrier.clone();
        let s = slot.clone();
        let waker_thread = std::thread::spawn(move || {
            b.wait();
            let w = {
                let mut g = s.lock().unwrap();
                g.0 = true;
                g.1.take()
            };
            if let Some(w) = w {
                w.wake();
            }
        });
        barrier.wait();
        // i % 3: 0 = abort then join, 1 = abort then drop the handle,
        // 2 = join only (the wake must not be lost).
        if i % 3 != 2 {
            h.abort();
        }
        if i % 3 == 1 {
            drop(h);
        } else {
            match rt.block_on(h) {
                Ok(_) => completed += 1,
                Err(e) => {
                    assert!(e.is_aborted(), "{e}");
                    aborted += 1;
                }
            }
        }
        waker_thread.join().unwrap();
    }
    drop(rt);
    assert_eq!(drops.get(), ITERS, "every future dropped exactly once");
    let joined = (0..ITERS).filter(|i| i % 3 != 1).count();
    assert_eq!(completed + aborted, joined);
    assert!(
        completed >= joined / 2,
        "every join-only iteration completed"
    );
}

/// The ref hand-over (issue: soundness): a task woken by value from a
/// plain thread, with its `JoinHandle` already dropped, can be polled to
/// completion and freed by a worker while the waking thread is still
/// inside the push (which then wakes a sleeper). The waker keeps its ref
/// until the push returned, so the push never borrows a freed task; the
/// same for a task that wakes itself and is re-queued (the worker keeps
/// its ref across the re-queue). Each future is dropped exactly once.
#[test]
fn a_task_freed_during_its_own_schedule() {
    let _dog = watchdog("free during schedule");
    let rt = rt(2);
    let drops = DropCount::new();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    for i in 0..ITERS {
        if i % 2 == 0 {
            // Woken by value off the runtime, handle dropped.
            let slot = Arc::new(Mutex::new((false, None::<Waker>)));
            let tag = drops.tag();
            let tx = done_tx.clone();
            let parked = slot.clone();
            drop(rt.spawn(async move {
                Once {
                    slot: parked,
                    _tag: tag,
                }
                .await;
                tx.send(()).unwrap();
            }));
            let w = loop {
                let mut g = slot.lock().unwrap();
                if let Some(w) = g.1.take() {
                    g.0 = true;
                    break w;
                }
                drop(g);
                std::thread::yield_now();
            };
            w.wake();
        } else {
            // Wakes itself and yields: re-queued while another worker may
            // steal it, finish it and free it.
            let tag = drops.tag();
            let tx = done_tx.clone();
            drop(rt.spawn(async move {
                let _tag = tag;
                let mut yielded = false;
                std::future::poll_fn(|cx| {
                    if yielded {
                        return Poll::Ready(());
                    }
                    yielded = true;
                    cx.waker().wake_by_ref();
                    Poll::Pending
                })
                .await;
                tx.send(()).unwrap();
            }));
        }
        recv(&done_rx);
    }
    drop(rt);
    assert_eq!(drops.get(), ITERS, "every future dropped exactly once");
}
