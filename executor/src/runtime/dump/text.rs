//! The text form of a dump, in the spirit of Go's `goroutine?debug=2`: a
//! header line per task with its state and wait, then indented detail
//! lines (see docs/observability.md, "Task dump").

use std::fmt;
use std::time::{Duration, Instant};

use super::{CancelState, Dump, ScopeId, TaskDump, TaskKind, TaskState, Wait};

/// A duration rounded for reading: `2.1s`, `340ms`, `12µs`.
pub(super) struct Dur(pub(super) Duration);

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d >= Duration::from_secs(1) {
            write!(f, "{:.1}s", d.as_secs_f64())
        } else if d >= Duration::from_millis(1) {
            write!(f, "{}ms", d.as_millis())
        } else {
            write!(f, "{}µs", d.as_micros())
        }
    }
}

/// An instant relative to `now`: `in 2.1s` or `2.1s ago`.
pub(super) struct Rel(pub(super) Instant, pub(super) Instant);

impl fmt::Display for Rel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (at, now) = (self.0, self.1);
        if at >= now {
            write!(f, "in {}", Dur(at - now))
        } else {
            write!(f, "{} ago", Dur(now - at))
        }
    }
}

impl fmt::Display for ScopeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scope#{:x}", self.0)
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskState::Running { worker: Some(w) } => write!(f, "running on worker {w}"),
            TaskState::Running { worker: None } => f.write_str("running"),
            TaskState::Queued => f.write_str("queued"),
            TaskState::Parked => f.write_str("parked"),
            TaskState::Complete => f.write_str("complete"),
        }
    }
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)?;
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        if let Some(l) = self.location {
            write!(f, " at {l}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CancelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CancelState::NotCancelled => f.write_str("not cancelled"),
            CancelState::Draining { cause } => write!(f, "draining ({:?}: {cause})", cause.kind()),
            CancelState::Cancelled {
                cause,
                inherited,
                ago,
                by,
                origin,
            } => {
                f.write_str("cancelled")?;
                if let Some(a) = ago {
                    write!(f, " {} ago", Dur(*a))?;
                }
                write!(f, " ({:?}: {cause})", cause.kind())?;
                if *inherited {
                    f.write_str(", inherited")?;
                    if let Some(o) = origin {
                        write!(f, " from {o}")?;
                    }
                }
                if let Some(b) = by {
                    write!(f, ", by {b}")?;
                }
                Ok(())
            }
        }
    }
}

impl TaskDump {
    /// The header line of the entry: `task 7 "name" [parked 2.1s, cancelled]`.
    pub(super) fn write_head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.id)?;
        if let Some(n) = &self.name {
            write!(f, " {n:?}")?;
        }
        if let TaskKind::Blocking { interruptible } = self.kind {
            f.write_str(if interruptible {
                " (blocking, interruptible)"
            } else {
                " (blocking)"
            })?;
        }
        write!(f, " [{}", self.state)?;
        if let Some(d) = self.state_for {
            write!(f, " for {}", Dur(d))?;
        }
        if self.cancel.is_cancelled() {
            f.write_str(", cancelled")?;
        }
        f.write_str("]")
    }
}

impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_head(f)?;
        f.write_str(":\n")?;
        match (&self.wait, self.state) {
            (Some(w), _) => writeln!(f, "    waits on {w}")?,
            (None, TaskState::Parked) => writeln!(f, "    waits on (not recorded)")?,
            _ => {}
        }
        writeln!(f, "    cancel: {}", self.cancel)?;
        if let Some(a) = self.aborted_by {
            writeln!(f, "    aborted by {a}")?;
        }
        if let Some(d) = self.deadline {
            writeln!(f, "    deadline: {}", Rel(d, self.taken_at))?;
        }
        if let Some(s) = self.scope {
            writeln!(f, "    scope: {s}")?;
        }
        match self.parent {
            Some(p) => writeln!(f, "    spawned by task {p} at {}", self.spawned_at),
            None => writeln!(f, "    spawned at {}", self.spawned_at),
        }
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "quell task dump: {} tasks, {} workers, collected in {}\n",
            self.tasks.len(),
            self.workers,
            Dur(self.took)
        )?;
        for t in &self.tasks {
            writeln!(f, "{t}")?;
        }
        write!(f, "{}", self.tree())
    }
}
