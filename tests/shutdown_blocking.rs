//! Contract C12, blocking work: shutdown never waits past its grace for a
//! `spawn_blocking` closure, blocking tasks are visible (tasks(),
//! num_tasks(), the report), and an interruptible one gets EINTR on cancel.

mod support;

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use quell::cancel::Cause;
use quell::task::SpawnBuilder;
use support::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A pipe nobody writes to: (read end as a File, write end kept open).
fn pipe() -> (std::fs::File, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are fresh and owned by nobody else.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            OwnedFd::from_raw_fd(fds[1]),
        )
    }
}

#[test]
fn blocking_tasks_are_listed_with_their_running_time() {
    let _dog = watchdog("blocking listed");
    let rt = rt(1);
    let (started_tx, started_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let h = SpawnBuilder::new().name("crunch").spawn_blocking_on(
        move || {
            started_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            7
        },
        rt.handle(),
    );
    recv(&started_rx);
    assert_eq!(rt.handle().num_tasks(), 1);
    let tasks = rt.handle().tasks();
    assert_eq!(tasks.len(), 1);
    let t = &tasks[0];
    assert_eq!(t.name.as_deref(), Some("crunch"));
    assert!(
        t.location.file().ends_with("shutdown_blocking.rs"),
        "{}",
        t.location
    );
    let b = t.blocking.as_ref().expect("listed as blocking");
    assert!(b.running_for.is_some(), "its closure is running");
    assert!(!b.interruptible);
    go_tx.send(()).unwrap();
    assert_eq!(rt.block_on(h).unwrap(), 7);
    wait_until(|| rt.handle().num_tasks() == 0);
    assert!(rt.handle().tasks().is_empty());
}

/// The case: `shutdown_graceful(200 ms)` with a 15 s closure used to
/// wait 15 s and report "0 task(s) live".
#[test]
fn graceful_shutdown_does_not_wait_for_a_long_blocking_closure() {
    let _dog = watchdog("shutdown with a 15 s closure");
    let rt = rt(2);
    let (started_tx, started_rx) = mpsc::channel();
    SpawnBuilder::new().name("slow").spawn_blocking_on(
        move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_secs(15));
        },
        rt.handle(),
    );
    recv(&started_rx);
    let t0 = Instant::now();
    let report = rt.shutdown_graceful(ms(200));
    let took = t0.elapsed();
    // A hang bound only (the budget, grace + 50 ms, is measured elsewhere).
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    assert_eq!(report.tasks_at_start, 1);
    assert!(report.forced.is_empty(), "{report}");
    assert_eq!(report.left_running.len(), 1, "{report}");
    let t = &report.left_running[0];
    assert_eq!(t.name.as_deref(), Some("slow"));
    assert!(t.cancel.is_cancelled(), "the root cancel reached it");
    assert!(t.state_for.is_some(), "for how long its closure runs");
    assert!(!report.is_clean());
    let text = report.to_string();
    assert!(text.contains("left running: task"), "{text}");
    assert!(text.contains("\"slow\""), "{text}");
    assert!(text.contains("detached"), "{text}");
}

/// A queued closure (the pool's one thread is busy) never starts: it is
/// forced, not left running.
#[test]
fn a_queued_blocking_closure_is_forced_and_never_runs() {
    let _dog = watchdog("queued blocking");
    let rt = quell::runtime::Builder::new()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let (started_tx, started_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        let _ = go_rx.recv();
    });
    recv(&started_rx);
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ran2 = ran.clone();
    let queued = SpawnBuilder::new().name("queued").spawn_blocking_on(
        move || ran2.store(true, std::sync::atomic::Ordering::SeqCst),
        rt.handle(),
    );
    assert_eq!(rt.handle().num_tasks(), 2);
    let listed = rt.handle().tasks();
    let q = listed
        .iter()
        .find(|t| t.name.as_deref() == Some("queued"))
        .unwrap();
    assert!(q.blocking.as_ref().unwrap().running_for.is_none(), "queued");
    let report = rt.shutdown_graceful(ms(50));
    assert_eq!(report.forced.len(), 1, "{report}");
    assert_eq!(report.forced[0].name.as_deref(), Some("queued"));
    assert_eq!(report.left_running.len(), 1, "{report}");
    drop(go_tx); // lets the detached thread finish
    let err = futures_lite_block_on(queued).unwrap_err();
    assert!(err.is_shutdown(), "{err}");
    assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
}

/// Polls a future to completion on this thread (no runtime needed: a join
/// handle of a completed task is ready at once).
fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let end = Instant::now() + HANG;
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        assert!(Instant::now() < end, "future did not complete");
        std::thread::yield_now();
    }
}

/// Reads until interrupted-and-cancelled; counts the EINTRs seen.
fn read_until_cancelled(mut rd: std::fs::File) -> Result<usize, String> {
    let mut eintr = 0;
    loop {
        match rd.read(&mut [0u8; 16]) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                eintr += 1;
                if quell::cancel::is_cancelled() {
                    return Ok(eintr);
                }
            }
            other => return Err(format!("read returned {other:?}")),
        }
    }
}

#[test]
fn an_interruptible_blocking_read_returns_eintr_on_cancel() {
    let _dog = watchdog("interruptible read");
    let rt = rt(2);
    let (rd, _wr) = pipe();
    let (started_tx, started_rx) = mpsc::channel();
    let h = SpawnBuilder::new()
        .name("reader")
        .interruptible()
        .spawn_blocking_on(
            move || {
                started_tx.send(()).unwrap();
                read_until_cancelled(rd)
            },
            rt.handle(),
        );
    recv(&started_rx);
    let info = rt.handle().tasks();
    assert!(info[0].blocking.as_ref().unwrap().interruptible);
    assert!(h.cancel(Cause::explicit("stop reading")));
    let eintr = rt.block_on(h).unwrap().unwrap();
    assert!(eintr >= 1);
    wait_until(|| rt.handle().num_tasks() == 0);
}

/// The cancel reaches the closure through an ancestor (the runtime root at
/// shutdown): graceful shutdown then finds nothing left running.
#[test]
fn shutdown_interrupts_an_interruptible_blocking_read() {
    let _dog = watchdog("shutdown interrupts");
    let rt = rt(2);
    let (rd, _wr) = pipe();
    let (started_tx, started_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    SpawnBuilder::new().interruptible().spawn_blocking_on(
        move || {
            started_tx.send(()).unwrap();
            done_tx.send(read_until_cancelled(rd)).unwrap();
        },
        rt.handle(),
    );
    recv(&started_rx);
    let report = rt.shutdown_graceful(HANG);
    assert!(report.is_clean(), "{report}");
    assert!(recv(&done_rx).is_ok());
}

/// Cancelled before the closure starts: the closure still gets EINTR once
/// it blocks (the resend covers a signal that lands outside a syscall).
#[test]
fn an_interruptible_closure_cancelled_before_it_blocks_is_still_interrupted() {
    let _dog = watchdog("cancelled before blocking");
    let rt = rt(2);
    let (rd, _wr) = pipe();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel();
    let h = SpawnBuilder::new().interruptible().spawn_blocking_on(
        move || {
            started_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            // The cancel, and maybe its first signals, came before this read.
            read_until_cancelled(rd)
        },
        rt.handle(),
    );
    recv(&started_rx);
    assert!(h.cancel(Cause::explicit("early")));
    go_tx.send(()).unwrap();
    assert!(rt.block_on(h).unwrap().is_ok());
}
