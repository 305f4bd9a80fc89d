//! Signals sent to a *child process* running a quell program: `SIGTERM`
//! through `cancel_on` cancels the child's token with the signal's cause and
//! the child exits cleanly; `SIGINT` completes `ctrl_c`.
//!
//! Each test re-executes this test binary with `--exact <its name>` and
//! `QUELL_SIGNAL_CHILD=1`; in the child the same test function runs its
//! child half. The child prints a ready line once its listener is installed
//! (so the signal cannot arrive too early), the parent then sends the
//! signal and reads the child's stdout to EOF. The only timer is a hang
//! guard that SIGKILLs a child still running after 30 s.

mod support;

use std::future::{poll_fn, Future};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::task::Poll;

use quell::cancel::{CancelToken, CancellableExt, CauseKind};
use quell::signal::{self, SignalKind};
use quell::task::SpawnBuilder;
use support::HANG;

const CHILD_ENV: &str = "QUELL_SIGNAL_CHILD";
const READY: &str = "quell-signal-child: ready";

fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

fn ready() {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{READY}").unwrap();
    out.flush().unwrap();
}

/// Runs `test` in a child process, sends it `signo` once it is ready, and
/// returns its whole stdout after asserting it exited successfully.
fn run_child(test: &str, signo: i32) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;

    // Hang guard: SIGKILL the child if it is still running after HANG,
    // which also ends the reads below with EOF.
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(HANG) {
            // SAFETY: kill(2) has no memory-safety preconditions; `pid` is
            // our unreaped child, so the pid cannot have been reused.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });

    let mut out = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        out.push_str(&line);
        out.push('\n');
        if line.contains(READY) {
            // SAFETY: as above; the child is alive (it just wrote to us)
            // and not yet reaped.
            let rc = unsafe { libc::kill(pid, signo) };
            assert_eq!(rc, 0, "kill failed");
            break;
        }
    }
    assert!(out.contains(READY), "child never got ready; output:\n{out}");
    for line in lines {
        out.push_str(&line.unwrap());
        out.push('\n');
    }
    let status = child.wait().unwrap();
    let _ = done_tx.send(());
    guard.join().unwrap();
    assert!(status.success(), "child failed: {status}; output:\n{out}");
    out
}

#[test]
fn sigterm_cancels_the_child_token_and_it_exits_cleanly() {
    if !is_child() {
        let out = run_child(
            "sigterm_cancels_the_child_token_and_it_exits_cleanly",
            libc::SIGTERM,
        );
        assert!(
            out.contains("quell-signal-child: cancelled: signal 15"),
            "output:\n{out}"
        );
        return;
    }

    let rt = quell::Runtime::new().unwrap();
    let token = CancelToken::new();
    let _guard = signal::cancel_on([SignalKind::terminate()], &token).unwrap();
    let server = SpawnBuilder::new().token(token.child()).spawn_on(
        async {
            // Stands for a server's accept loop: parked until cancelled.
            let err = std::future::pending::<()>()
                .cancellable()
                .await
                .unwrap_err();
            // Graceful cleanup would go here (in a shield).
            err
        },
        rt.handle(),
    );
    ready();
    let err = rt.block_on(server).unwrap();
    assert_eq!(err.cause().kind(), &CauseKind::Signal(libc::SIGTERM));
    println!("quell-signal-child: cancelled: {}", err.cause());
}

#[test]
fn sigint_completes_ctrl_c_in_the_child() {
    if !is_child() {
        let out = run_child("sigint_completes_ctrl_c_in_the_child", libc::SIGINT);
        assert!(
            out.contains("quell-signal-child: got ctrl_c"),
            "output:\n{out}"
        );
        return;
    }

    let rt = quell::Runtime::new().unwrap();
    rt.block_on(async {
        let mut ctrl_c = std::pin::pin!(signal::ctrl_c());
        // The first poll installs the listener (and parks).
        let first = poll_fn(|cx| Poll::Ready(ctrl_c.as_mut().poll(cx))).await;
        assert!(first.is_pending());
        ready();
        ctrl_c.await.unwrap();
    });
    println!("quell-signal-child: got ctrl_c");
}
