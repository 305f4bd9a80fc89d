//! The example HTTP service's debug endpoints, against the example itself
//! running as a child process (built by `cargo test`, as for
//! tests/http_shutdown.rs): `/debug/tasks` answers the task dump (text, and
//! the cancel tree as DOT with `?dot`), `/debug/metrics` the metrics
//! snapshot; SIGQUIT writes the dump to its stderr and it keeps serving;
//! SIGTERM still drains it to exit 0. A plain `std` TCP client speaks
//! HTTP/1.1 with `Connection: close`.
//!
//! The only timers are hang bounds.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;

use support::child::Child;
use support::HANG;

/// The example's binary, next to this test's (`target/<profile>/examples`).
fn example() -> PathBuf {
    support::child::example("http_server")
}

/// `GET path` on a fresh connection: the status code and the body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(HANG)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {resp:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status: {head:?}"));
    (status, body.to_owned())
}

#[test]
fn debug_endpoints_answer_and_sigquit_dumps_without_stopping() {
    let mut cmd = Command::new(example());
    cmd.args(["--addr", "127.0.0.1:0", "--workers", "2", "--histograms"])
        .args(["--grace-ms", "2000"]);
    let c = Child::start(cmd);
    let addr =
        c.expect_stdout(|l| l.starts_with("listening on "))["listening on ".len()..].to_owned();

    let (status, dump) = get(&addr, "/debug/tasks");
    assert_eq!(status, 200, "{dump}");
    assert!(dump.starts_with("quell task dump: "), "{dump}");
    // The server's own task; the connection serving this request (whether
    // it is parked on the dump's join yet is a race, not checked); and the
    // blocking task that takes the dump, running.
    assert!(dump.contains("\"http server\""), "{dump}");
    assert!(dump.contains("\"quell-hyper connection "), "{dump}");
    assert!(dump.contains(" (blocking) [running"), "{dump}");
    assert!(dump.contains("at examples/http_server.rs:"), "{dump}");
    assert!(dump.contains("cancel tree ("), "{dump}");
    assert!(dump.contains("(runtime root): not cancelled"), "{dump}");

    let (status, dot) = get(&addr, "/debug/tasks?dot");
    assert_eq!(status, 200, "{dot}");
    assert!(dot.starts_with("digraph"), "{dot}");

    let (status, metrics) = get(&addr, "/debug/metrics");
    assert_eq!(status, 200, "{metrics}");
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name}:\n{metrics}"))
    };
    assert_eq!(value("quell_workers"), 2.0);
    // At least the server task and this request's connection.
    assert!(value("quell_alive_tasks") >= 2.0, "{metrics}");
    let polls = value("quell_worker_polls_total{worker=\"0\"}")
        + value("quell_worker_polls_total{worker=\"1\"}");
    assert!(polls >= 1.0, "{metrics}");
    assert!(
        value("quell_schedule_latency_seconds_count") >= 1.0,
        "{metrics}"
    );

    // SIGQUIT: the dump on stderr; the server carries on.
    c.signal(libc::SIGQUIT);
    c.expect_stderr(|l| l == format!("quell: task dump on signal {}", libc::SIGQUIT));
    c.expect_stderr(|l| l.contains("\"http server\""));
    assert_eq!(get(&addr, "/"), (200, "hello\n".to_owned()));

    c.signal(libc::SIGTERM);
    let (status, _, stderr) = c.finish();
    assert!(status.success(), "{status}; stderr:\n{stderr}");
}
