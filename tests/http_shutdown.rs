//! SIGTERM to a child process running `examples/http_server`, with hyper
//! clients (HTTP/1 and h2c) on real loopback connections:
//!
//! * within the grace: an idle keep-alive connection is closed at once
//!   (before the in-flight request has finished), new connections are
//!   refused, the in-flight `/work?ms=2000` gets its 200, nothing is
//!   cancelled or forced, exit status 0;
//! * past the grace: the handler sees `Cancelled` and answers 503, and the
//!   report on stderr names the connection that had to be cancelled.
//!
//! The example is built by `cargo test` (or `cargo build --example
//! http_server`). The child tells us what it is doing on stderr (its
//! `/work` handler prints when it starts); the only timers are hang
//! bounds (a child still running after them is killed).

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::{StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use quell_hyper::client::Connector;
use quell_hyper::rt::QuellIo;
use support::HANG;

#[derive(Clone, Copy, Debug)]
enum Proto {
    H1,
    H2c,
}

/// The example's binary, next to this test's (`target/<profile>/examples`).
fn example() -> PathBuf {
    support::child::example("http_server")
}

/// The example running as a child process.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// Each stderr line as it comes.
    lines: mpsc::Receiver<String>,
    /// All of stderr so far.
    stderr: Arc<Mutex<String>>,
    /// Tells the hang guard the child was reaped.
    reaped: Option<mpsc::Sender<()>>,
}

impl Server {
    fn start(grace_ms: u64) -> Server {
        let mut child = Command::new(example())
            .args(["--addr", "127.0.0.1:0", "--workers", "2"])
            .args(["--grace-ms", &grace_ms.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the example");
        // Hang guard: SIGKILL a child still running after the bound.
        let pid = child.id() as libc::pid_t;
        let (reaped, guard) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = guard.recv_timeout(HANG * 2) {
                // SAFETY: kill(2) on our own child's pid; it has not been
                // reaped (the test would have said so), so the pid is its.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first stdout line: {first:?}"))
            .parse()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let all = stderr.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while err.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                all.lock().unwrap().push_str(&line);
                let _ = tx.send(line.trim_end().to_owned());
                line.clear();
            }
        });
        Server {
            child,
            addr,
            lines,
            stderr,
            reaped: Some(reaped),
        }
    }

    /// Waits for a stderr line equal to `want`.
    fn expect_line(&self, want: &str) {
        let end = Instant::now() + HANG;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l == want => return,
                Ok(_) => {}
                Err(_) => panic!("no {want:?} on stderr: {}", self.stderr.lock().unwrap()),
            }
        }
    }

    fn sigterm(&self) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own, not yet reaped, child.
        let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(rc, 0);
    }

    /// Waits for the child to exit; returns its whole stderr.
    fn wait(mut self) -> String {
        let status = self.child.wait().unwrap();
        drop(self.reaped.take());
        // The reader thread sees EOF once the child is gone.
        let end = Instant::now() + HANG;
        while self
            .lines
            .recv_timeout(end.saturating_duration_since(Instant::now()))
            .is_ok()
        {}
        let stderr = self.stderr.lock().unwrap().clone();
        assert!(status.success(), "exit status {status}; stderr:\n{stderr}");
        stderr
    }
}

/// A hyper client whose connector records the local address of the
/// connection it made (to find it in the server's report).
#[derive(Clone)]
struct Recording {
    inner: Connector,
    local: Arc<Mutex<Option<SocketAddr>>>,
}

impl tower_service::Service<Uri> for Recording {
    type Response = QuellIo<quell::net::TcpStream>;
    type Error = std::io::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::io::Result<Self::Response>> + Send>,
    >;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connect = self.inner.call(uri);
        let local = self.local.clone();
        Box::pin(async move {
            let io = connect.await?;
            *local.lock().unwrap() = Some(io.get_ref().local_addr()?);
            Ok(io)
        })
    }
}

type Client = hyper_util::client::legacy::Client<Recording, Empty<Bytes>>;

/// Where a client connection came from (filled in by its connector).
type LocalAddr = Arc<Mutex<Option<SocketAddr>>>;

/// A request running in the background: status, version and body.
type InFlight = quell::JoinHandle<(StatusCode, http::Version, String)>;

fn client(proto: Proto) -> (Client, LocalAddr) {
    let local = Arc::new(Mutex::new(None));
    let mut b = quell_hyper::client::builder();
    if let Proto::H2c = proto {
        b.http2_only(true);
    }
    let c = b.build(Recording {
        inner: Connector::new(),
        local: local.clone(),
    });
    (c, local)
}

/// `GET uri` on a fresh hyper client, in a task.
fn get_in_background(rt: &quell::Runtime, proto: Proto, uri: String) -> (InFlight, LocalAddr) {
    let (c, local) = client(proto);
    let task = rt.spawn(async move {
        let resp = c.get(uri.parse().unwrap()).await.expect("request failed");
        let (status, version) = (resp.status(), resp.version());
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        (status, version, String::from_utf8_lossy(&body).into_owned())
    });
    (task, local)
}

/// An idle keep-alive connection: one request answered, then silence.
fn idle_keep_alive(addr: SocketAddr) -> std::net::TcpStream {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(HANG)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 512];
    while !got.ends_with(b"hello\n") {
        let n = s.read(&mut buf).expect("the answer to GET /");
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
    }
    s
}

fn sigterm_within_the_grace(proto: Proto) {
    let server = Server::start(5000);
    let rt = quell::Runtime::new().unwrap();
    let mut idle = idle_keep_alive(server.addr);
    let (inflight, _) =
        get_in_background(&rt, proto, format!("http://{}/work?ms=2000", server.addr));
    server.expect_line("/work?ms=2000: started");

    server.sigterm();
    // The idle connection is closed at once: EOF while the in-flight
    // request is still running.
    let mut buf = [0; 64];
    assert_eq!(idle.read(&mut buf).expect("EOF on the idle connection"), 0);
    assert!(
        !inflight.is_finished(),
        "{proto:?}: idle closed only after the in-flight request"
    );
    // New connections are refused (once the accept loop has seen the
    // drain), still while the in-flight request runs.
    let end = Instant::now() + HANG;
    loop {
        match std::net::TcpStream::connect(server.addr) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            Err(e) => panic!("connect: {e}"),
            Ok(_) if Instant::now() < end => std::thread::sleep(Duration::from_millis(5)),
            Ok(_) => panic!("still accepting connections after the drain: hang"),
        }
    }
    assert!(
        !inflight.is_finished(),
        "{proto:?}: listener closed only after the in-flight request"
    );

    let (status, version, body) = rt.block_on(inflight).unwrap();
    assert_eq!(status, StatusCode::OK, "{proto:?}: {body}");
    assert_eq!(body, "worked 2000 ms\n");
    let want = match proto {
        Proto::H1 => http::Version::HTTP_11,
        Proto::H2c => http::Version::HTTP_2,
    };
    assert_eq!(version, want);
    let stderr = server.wait();
    assert!(
        stderr.contains("0 cancelled, 0 aborted"),
        "{proto:?}: {stderr}"
    );
    assert!(
        stderr.contains("0 forced, 0 left running"),
        "{proto:?}: {stderr}"
    );
    assert!(!stderr.contains("cancelled:"), "{proto:?}: {stderr}");
}

#[test]
fn h1_sigterm_closes_idle_refuses_new_and_lets_in_flight_finish() {
    sigterm_within_the_grace(Proto::H1);
}

#[test]
fn h2c_sigterm_closes_idle_refuses_new_and_lets_in_flight_finish() {
    sigterm_within_the_grace(Proto::H2c);
}

fn sigterm_past_the_grace(proto: Proto) {
    let server = Server::start(300);
    let rt = quell::Runtime::new().unwrap();
    let (inflight, local) =
        get_in_background(&rt, proto, format!("http://{}/work?ms=60000", server.addr));
    server.expect_line("/work?ms=60000: started");
    server.sigterm();

    let (status, _, body) = rt.block_on(inflight).unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{proto:?}: {body}");
    assert!(
        body.starts_with("cancelled: server drain grace expired"),
        "{proto:?}: {body}"
    );
    let local = local.lock().unwrap().expect("the connector ran");
    let stderr = server.wait();
    assert!(
        stderr.contains("/work?ms=60000: cancelled: server drain grace expired"),
        "{proto:?}: {stderr}"
    );
    // The report names the connection task that had to be cancelled.
    assert!(
        stderr.contains(&format!("cancelled: connection {local}")),
        "{proto:?}: {local} not in\n{stderr}"
    );
    assert!(
        stderr.contains("1 cancelled, 0 aborted"),
        "{proto:?}: {stderr}"
    );
    assert!(
        stderr.contains("0 forced, 0 left running"),
        "{proto:?}: {stderr}"
    );
}

#[test]
fn h1_sigterm_past_the_grace_cancels_the_handler_which_answers_503() {
    sigterm_past_the_grace(Proto::H1);
}

#[test]
fn h2c_sigterm_past_the_grace_cancels_the_handler_which_answers_503() {
    sigterm_past_the_grace(Proto::H2c);
}
