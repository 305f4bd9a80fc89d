//! Contract C9: dropping the runtime drops every task's future (destructors
//! run) — queued, idle, or woken during shutdown — and joins every thread.

mod support;

use std::future::{pending, Future};
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};

use support::*;

thread_local! {
    /// Set by code running on a runtime thread; its destructor runs when
    /// that thread exits, which `join` waits for.
    static EXIT_MARK: std::cell::RefCell<Option<Tag>> = const { std::cell::RefCell::new(None) };
}

static MARKED: std::sync::Mutex<Vec<std::thread::ThreadId>> = std::sync::Mutex::new(Vec::new());

fn mark_thread(exits: &DropCount) {
    EXIT_MARK.with(|m| *m.borrow_mut() = Some(exits.tag()));
    let mut v = MARKED.lock().unwrap();
    let me = std::thread::current().id();
    if !v.contains(&me) {
        v.push(me);
    }
}

fn marked_threads() -> usize {
    MARKED.lock().unwrap().len()
}

/// A future that, when dropped, spawns onto the (shutting down) runtime and
/// wakes another task: shutdown must neither hang nor panic.
struct Noisy {
    _tag: Tag,
    handle: quell::Handle,
    poke: Option<std::task::Waker>,
}

impl Future for Noisy {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.poke = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Noisy {
    fn drop(&mut self) {
        let h = self.handle.spawn(async {});
        drop(h);
        if let Some(w) = self.poke.take() {
            w.wake();
        }
    }
}

#[test]
fn dropping_the_runtime_drops_every_future_and_joins_every_thread() {
    let _dog = watchdog("c9");
    let name = "c9-drop-test";
    let rt = quell::runtime::Builder::new()
        .worker_threads(2)
        .thread_name(name)
        .build()
        .unwrap();
    let drops = DropCount::new();
    const IDLE: usize = 200;
    const QUEUED: usize = 100;

    // Idle tasks (polled once, parked forever).
    let (polled_tx, polled_rx) = mpsc::channel();
    for _ in 0..IDLE {
        let tag = drops.tag();
        let tx = polled_tx.clone();
        rt.spawn(async move {
            let _t = tag;
            tx.send(()).unwrap();
            pending::<()>().await;
        });
    }
    for _ in 0..IDLE {
        recv(&polled_rx);
    }
    // Tasks whose drop spawns and wakes.
    for _ in 0..10 {
        rt.spawn(Noisy {
            _tag: drops.tag(),
            handle: rt.handle().clone(),
            poke: None,
        });
    }
    // Block both workers, then queue tasks that are never polled.
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let gate_rx = std::sync::Arc::new(std::sync::Mutex::new(gate_rx));
    let (busy_tx, busy_rx) = mpsc::channel();
    let exits = DropCount::new();
    for _ in 0..2 {
        let g = gate_rx.clone();
        let b = busy_tx.clone();
        let e = exits.clone();
        rt.spawn(async move {
            mark_thread(&e);
            b.send(()).unwrap();
            let _ = g.lock().unwrap().recv_timeout(HANG);
        });
    }
    recv(&busy_rx);
    recv(&busy_rx);
    for _ in 0..QUEUED {
        let tag = drops.tag();
        rt.spawn(async move {
            let _t = tag;
        });
    }
    // A blocking-pool thread exists too.
    let e = exits.clone();
    assert_eq!(
        rt.block_on(rt.spawn_blocking(move || {
            mark_thread(&e);
            3
        }))
        .unwrap(),
        3
    );
    // Three distinct runtime threads were marked: both workers (each gate
    // task blocks its worker, so the two ran on different workers) and
    // the blocking-pool thread.
    assert_eq!(marked_threads(), 3, "workers + blocking thread marked");

    drop(gate_tx);
    drop(rt);
    assert_eq!(
        drops.get(),
        IDLE + QUEUED + 10,
        "every future's destructor ran"
    );
    // Both workers and the pool thread have exited (join waits for the
    // thread-local destructors), and no thread of the runtime remains
    // (the kernel reaps exited threads a moment after join returns).
    assert_eq!(exits.get(), 3, "every worker and pool thread joined");
    wait_until(|| threads_named(name) == 0);
}

#[test]
fn a_runtime_can_be_dropped_while_tasks_are_running() {
    for _ in 0..20 {
        let _dog = watchdog("drop while running");
        let rt = rt(2);
        let drops = DropCount::new();
        for _ in 0..50 {
            let tag = drops.tag();
            rt.spawn(async move {
                let _t = tag;
                loop {
                    quell::task::yield_now().await;
                }
            });
        }
        drop(rt);
        assert_eq!(drops.get(), 50);
    }
}
