//! `Cause`, `Cancelled` and the `io::Error` round trip.

use std::io::{self, Read, Write};

use crate::{Cancelled, Cause, CauseKind};

#[test]
fn cause_constructors_and_display() {
    assert_eq!(Cause::explicit("x").to_string(), "x");
    assert_eq!(
        Cause::deadline_exceeded().kind(),
        &CauseKind::DeadlineExceeded
    );
    assert_eq!(Cause::shutdown().to_string(), "runtime shutdown");
    assert_eq!(Cause::signal(15).kind(), &CauseKind::Signal(15));
    let g = Cause::group_failure("worker 3 failed");
    assert_eq!(g.kind(), &CauseKind::GroupFailure);
    assert_eq!(g.message(), Some("worker 3 failed"));
    assert!(g.to_string().contains("worker 3 failed"));
    let e = Cause::error(io::Error::other("boom"));
    assert_eq!(e.kind(), &CauseKind::Explicit);
    assert_eq!(e.message(), None);
    assert_eq!(e.to_string(), "boom");
    assert!(format!("{e:?}").contains("boom"));
}

#[test]
fn cancelled_display_and_source() {
    let c = Cancelled::new(Cause::error(io::Error::other("root cause")), true);
    let s = c.to_string();
    assert!(s.contains("root cause") && s.contains("inherited"), "{s}");
    let src = std::error::Error::source(&c).unwrap();
    assert_eq!(src.to_string(), "root cause");
    assert!(std::error::Error::source(&Cancelled::new(Cause::shutdown(), false)).is_none());
}

#[test]
fn io_round_trip_keeps_cause() {
    let cause = Cause::deadline_exceeded();
    let io: io::Error = Cancelled::new(cause.clone(), true).into();
    assert_ne!(io.kind(), io::ErrorKind::Interrupted);
    assert_eq!(io.kind(), io::ErrorKind::Other);
    assert!(Cancelled::is_cancelled_io(&io));
    let back = Cancelled::from_io(&io).unwrap();
    assert!(back.cause().same(&cause));
    assert!(back.is_inherited());
    let plain = io::Error::other("not a cancel");
    assert!(!Cancelled::is_cancelled_io(&plain));
    assert!(Cancelled::from_io(&io::Error::from(io::ErrorKind::Other)).is_none());
}

/// A reader/writer that fails with `err` every time, counting the calls.
struct Failing {
    calls: usize,
    err: fn() -> io::Error,
}

impl Read for Failing {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls > 1000 {
            return Ok(0); // stop a retry loop so the test can fail cleanly
        }
        Err((self.err)())
    }
}

impl Write for Failing {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls > 1000 {
            return Ok(0);
        }
        Err((self.err)())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn cancelled_io() -> io::Error {
    Cancelled::new(Cause::shutdown(), false).into()
}

#[test]
fn std_retry_loops_do_not_retry_cancelled() {
    let mut r = Failing {
        calls: 0,
        err: cancelled_io,
    };
    let err = r.read_exact(&mut [0u8; 4]).unwrap_err();
    assert_eq!(r.calls, 1);
    assert!(Cancelled::is_cancelled_io(&err));

    let mut r = Failing {
        calls: 0,
        err: cancelled_io,
    };
    let err = r.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(r.calls, 1);
    assert!(Cancelled::is_cancelled_io(&err));

    let mut w = Failing {
        calls: 0,
        err: cancelled_io,
    };
    let err = w.write_all(b"abc").unwrap_err();
    assert_eq!(w.calls, 1);
    assert!(Cancelled::is_cancelled_io(&err));
}

#[test]
fn control_interrupted_is_retried() {
    // The same harness with `Interrupted`: std retries, which is why a
    // cancel must never travel under that kind.
    let mut r = Failing {
        calls: 0,
        err: || io::ErrorKind::Interrupted.into(),
    };
    let _ = r.read_exact(&mut [0u8; 4]);
    assert!(r.calls > 1);
}
