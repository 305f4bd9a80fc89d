//! Descriptor exhaustion on accept: `accept` hands `EMFILE` to the caller
//! (no spin inside the runtime, listener intact), the caller backs off,
//! and once descriptors are free the same listener serves again.
//!
//! Lowering `RLIMIT_NOFILE` would starve every other test in the binary,
//! so the test re-executes itself in a child process (`QUELL_FD_CHILD=1`)
//! and runs the body there.

mod support;

use std::fs::File;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::process::Command;
use std::sync::mpsc;

use quell::net::{is_resource_exhaustion, TcpListener, TcpStream};
use support::*;

const CHILD_ENV: &str = "QUELL_FD_CHILD";
const TEST_NAME: &str = "accept_returns_emfile_to_the_caller_and_serves_again";
const CHILD_OK: &str = "quell-fd-child: ok";

#[test]
fn accept_returns_emfile_to_the_caller_and_serves_again() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child();
        println!("{CHILD_OK}");
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(CHILD_OK),
        "child failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}

/// What the accept loop reports to the test thread.
#[derive(Debug)]
enum Event {
    /// `accept` returned a connection after this many polls.
    Accepted { polls: usize },
    /// `accept` returned resource exhaustion after this many polls.
    Exhausted { polls: usize, errno: Option<i32> },
}

/// The highest descriptor open in this process.
fn max_open_fd() -> i32 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .max()
        .unwrap()
}

fn set_nofile_limit(soft: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim.rlim_cur = soft as libc::rlim_t;
    // SAFETY: `lim` is a valid rlimit; lowering the soft limit is allowed.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    assert_eq!(rc, 0, "setrlimit: {}", io::Error::last_os_error());
}

/// Opens descriptors until the process runs out.
fn fill_descriptors() -> Vec<File> {
    let mut held = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(f) => held.push(f),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                return held;
            }
        }
        assert!(held.len() < 10_000, "the descriptor limit did not apply");
    }
}

fn child() {
    let _dog = watchdog("fd exhaustion child");
    let rt = rt(2);
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();

    let (ev_tx, ev_rx) = mpsc::channel();
    // The accept loop's back-off: it waits for the test thread's go-ahead
    // after an exhaustion error (a real server would sleep or wait for a
    // connection of its own to close).
    let (retry_tx, mut retry_rx) = quell::sync::mpsc::channel::<()>(1);
    let server = rt.spawn(async move {
        let mut errors = 0;
        let mut served = 0;
        while served < 2 {
            let mut polls = 0;
            let r = poll_fn(|cx| {
                polls += 1;
                listener.poll_accept(cx)
            })
            .await;
            match r {
                Ok((s, _)) => {
                    served += 1;
                    ev_tx.send(Event::Accepted { polls }).unwrap();
                    quell::spawn(echo_once(s));
                }
                Err(e) if is_resource_exhaustion(&e) => {
                    errors += 1;
                    let errno = e.raw_os_error();
                    ev_tx.send(Event::Exhausted { polls, errno }).unwrap();
                    retry_rx.recv().await.unwrap(); // back off
                }
                Err(e) => panic!("unexpected accept error: {e}"),
            }
        }
        errors
    });

    // A first client is served normally.
    let mut first = std::net::TcpStream::connect(addr).unwrap();
    assert!(matches!(recv(&ev_rx), Event::Accepted { .. }));
    ping(&mut first);

    // Exhaust the descriptor table, then free exactly one: the client
    // socket takes it, so the server's accept has none left.
    set_nofile_limit(max_open_fd() as u64 + 32);
    let mut held = fill_descriptors();
    drop(held.pop());
    let mut second = std::net::TcpStream::connect(addr).unwrap();
    second.set_read_timeout(Some(HANG)).unwrap();

    match recv(&ev_rx) {
        Event::Exhausted { polls, errno } => {
            assert_eq!(errno, Some(libc::EMFILE));
            // Returned promptly: parked once at most, then the error (plus
            // slack for one cooperative-budget yield). No internal retry
            // loop: a spinning accept would never have returned.
            assert!(polls <= 3, "accept was polled {polls} times");
        }
        e => panic!("expected exhaustion, got {e:?}"),
    }
    // While backing off, the loop makes no further accept attempts: the
    // only event it can send next is the one after our go-ahead.
    assert!(ev_rx.try_recv().is_err());

    // Free descriptors and let the loop retry: the same listener accepts
    // the connection that waited in the backlog, and serves it.
    held.truncate(held.len().saturating_sub(4));
    retry_tx.try_send(()).unwrap();
    match recv(&ev_rx) {
        Event::Accepted { polls } => assert!(polls <= 3, "{polls}"),
        e => panic!("expected a connection, got {e:?}"),
    }
    ping(&mut second);
    assert_eq!(
        rt.block_on(server).unwrap(),
        1,
        "exactly one exhaustion error"
    );
    drop(held);
}

/// Echo one message of up to 64 bytes.
async fn echo_once(mut s: TcpStream) {
    let mut buf = [0; 64];
    let n = s.read(&mut buf).await.unwrap();
    s.write_all(&buf[..n]).await.unwrap();
}

fn ping(s: &mut std::net::TcpStream) {
    s.set_read_timeout(Some(HANG)).unwrap();
    s.write_all(b"ping").unwrap();
    let mut buf = [0; 4];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
}
