//! A child process under test: the parent reads its stdout and stderr
//! line by line as they come, can send it signals and stdin lines, and
//! closes stdin to tell it to finish. The only timer is a hang guard that
//! SIGKILLs a child still running after `2 * HANG`.
//!
//! The child is either any program ([`Child::start`], e.g. an example) or
//! the test's other half ([`Child::spawn`]): the test binary re-executes
//! itself with `--exact <test>` and `QUELL_TEST_CHILD=1`, and the same test
//! function, seeing the variable, runs the child half, which ends by
//! reading stdin to EOF.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Instant;

use super::HANG;

const CHILD_ENV: &str = "QUELL_TEST_CHILD";

/// Whether this process is the child half.
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// What marks the child half's own stdout lines (the test harness writes
/// there too, with no newline after `test NAME ... `).
const SAID: &str = "quell-child: ";

/// In the child: tells the parent `key value` on stdout at once
/// ([`Child::said`] waits for it).
pub fn say(key: &str, value: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "\n{SAID}{key} {value}").unwrap();
    out.flush().unwrap();
}

/// In the child: the next line from the parent (`None` once it closed
/// stdin).
pub fn next_line() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line).unwrap() {
        0 => None,
        _ => Some(line.trim_end().to_owned()),
    }
}

/// One output stream of the child: its lines as they come, and all of it.
struct Stream {
    lines: mpsc::Receiver<String>,
    all: Arc<Mutex<String>>,
    reader: thread::JoinHandle<()>,
}

impl Stream {
    fn new(r: impl Read + Send + 'static) -> Stream {
        let all = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let a = all.clone();
        let reader = thread::spawn(move || {
            for line in BufReader::new(r).lines() {
                let Ok(line) = line else { return };
                {
                    let mut a = a.lock().unwrap();
                    a.push_str(&line);
                    a.push('\n');
                }
                let _ = tx.send(line);
            }
        });
        Stream { lines, all, reader }
    }

    fn expect(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + HANG;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if pred(&l) => return l,
                Ok(_) => {}
                Err(_) => panic!(
                    "no {what} line as expected (hang or EOF); so far:\n{}",
                    self.all.lock().unwrap()
                ),
            }
        }
    }
}

/// The running child half.
pub struct Child {
    child: std::process::Child,
    stdin: Option<ChildStdin>,
    stdout: Stream,
    stderr: Stream,
    reaped: mpsc::Sender<()>,
}

impl Child {
    /// Runs test `name` of this binary as the child half.
    pub fn spawn(name: &str) -> Child {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, "1");
        Child::start(cmd)
    }

    /// Runs `cmd` with its stdin, stdout and stderr piped to us.
    pub fn start(mut cmd: Command) -> Child {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id() as libc::pid_t;
        let (reaped, guard) = mpsc::channel::<()>();
        thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = guard.recv_timeout(HANG * 2) {
                // SAFETY: kill(2) has no memory-safety preconditions; `pid`
                // is our child, not reaped yet (`finish` tells us first), so
                // the pid is still its.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        });
        Child {
            stdin: child.stdin.take(),
            stdout: Stream::new(child.stdout.take().unwrap()),
            stderr: Stream::new(child.stderr.take().unwrap()),
            child,
            reaped,
        }
    }

    /// Waits for the child half to [`say`] `key`, and returns the value.
    pub fn said(&self, key: &str) -> String {
        let prefix = format!("{SAID}{key} ");
        let line = self.stdout.expect("stdout", |l| l.starts_with(&prefix));
        line[prefix.len()..].to_owned()
    }

    /// Waits for a stdout line for which `pred` holds, and returns it.
    pub fn expect_stdout(&self, pred: impl Fn(&str) -> bool) -> String {
        self.stdout.expect("stdout", pred)
    }

    /// Waits for a stderr line for which `pred` holds, and returns it.
    pub fn expect_stderr(&self, pred: impl Fn(&str) -> bool) -> String {
        self.stderr.expect("stderr", pred)
    }

    /// Sends the child one line on its stdin.
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Sends the child `signo`.
    pub fn signal(&self, signo: i32) {
        // SAFETY: as in `spawn`: our child, not yet reaped.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, signo) };
        assert_eq!(rc, 0, "kill failed");
    }

    /// Closes stdin (the child half then finishes), waits for the exit,
    /// and returns the status with all of stdout and stderr.
    pub fn finish(mut self) -> (ExitStatus, String, String) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        let _ = self.reaped.send(());
        self.stdout.reader.join().unwrap();
        self.stderr.reader.join().unwrap();
        let out = self.stdout.all.lock().unwrap().clone();
        let err = self.stderr.all.lock().unwrap().clone();
        (status, out, err)
    }
}

/// The example `name`'s binary, next to the test's own
/// (`target/<profile>/examples`); `cargo test` builds it.
pub fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let bin = dir.join("examples").join(name);
    assert!(
        bin.exists(),
        "{} is missing: `cargo test` builds it, or run `cargo build --release --example {name}`",
        bin.display()
    );
    bin
}
