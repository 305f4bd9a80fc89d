//! Graceful shutdown: cancel → grace → abort, with a report of what had to
//! be forced.

use std::fmt;
use std::time::{Duration, Instant};

use quell_cancel::Cause;

use super::Runtime;
use crate::task::TaskInfo;

/// What [`Runtime::shutdown_graceful`] did.
#[derive(Debug, Clone)]
pub struct ShutdownReport {
    /// Live tasks when shutdown began.
    pub tasks_at_start: usize,
    /// Tasks that finished on their own during the grace period.
    pub finished_in_grace: usize,
    /// Tasks still alive after the grace period, whose futures were then
    /// dropped (aborted): id, name, spawn location.
    pub forced: Vec<TaskInfo>,
    /// How long the grace phase took.
    pub grace_used: Duration,
}

impl ShutdownReport {
    /// True if every task finished cooperatively.
    pub fn is_clean(&self) -> bool {
        self.forced.is_empty()
    }
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "shutdown: {} task(s) live, {} finished within {:?}, {} forced",
            self.tasks_at_start,
            self.finished_in_grace,
            self.grace_used,
            self.forced.len()
        )?;
        for t in &self.forced {
            write!(f, "  forced: task {}", t.id)?;
            if let Some(n) = &t.name {
                write!(f, " {n:?}")?;
            }
            write!(f, " spawned at {}", t.location)?;
            // Whether it had been told to stop: a cancelled task still
            // alive ignored its cancel (the leak quell exists to expose).
            if t.cancelled {
                writeln!(f, " (cancelled, ignored it)")?;
            } else {
                writeln!(f, " (not cancelled: outside the root's tree)")?;
            }
        }
        Ok(())
    }
}

impl Runtime {
    /// Shuts down in three steps: **cancel** the root token with
    /// `Cause::shutdown()` (every task that inherited it is woken and its
    /// await points answer `Cancelled`), wait up to `grace` for tasks to
    /// finish, then **abort** the rest (drop their futures) and stop. The
    /// report lists the tasks that had to be forced, with where they were
    /// spawned.
    ///
    /// Tasks under a detached or foreign token are not cancelled by the
    /// root; they are aborted after the grace period like any straggler.
    ///
    /// ```
    /// use quell_cancel::CancellableExt;
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// // Cooperative: finishes when cancelled.
    /// rt.spawn(async { let _ = std::future::pending::<()>().cancellable().await; });
    /// // Stubborn: ignores cancellation.
    /// quell_executor::task::SpawnBuilder::new()
    ///     .name("stubborn")
    ///     .spawn_on(std::future::pending::<()>(), rt.handle());
    /// let report = rt.shutdown_graceful(std::time::Duration::from_millis(200));
    /// assert_eq!(report.forced.len(), 1);
    /// assert_eq!(report.forced[0].name.as_deref(), Some("stubborn"));
    /// ```
    pub fn shutdown_graceful(self, grace: Duration) -> ShutdownReport {
        let start = Instant::now();
        let tasks_at_start = self.handle.num_tasks();
        self.handle.root_token().cancel(Cause::shutdown());
        let deadline = start + grace;
        // Waiting for tasks here is the point (not coordination by sleep):
        // poll the live count with a short backoff until none or deadline.
        let mut backoff = Duration::from_micros(50);
        while self.handle.num_tasks() > 0 && Instant::now() < deadline {
            self.wait_in_grace(backoff.min(deadline.saturating_duration_since(Instant::now())));
            backoff = (backoff * 2).min(Duration::from_millis(5));
        }
        let forced = self.handle.tasks();
        let grace_used = start.elapsed();
        drop(self);
        ShutdownReport {
            tasks_at_start,
            finished_in_grace: tasks_at_start.saturating_sub(forced.len()),
            forced,
            grace_used,
        }
    }
}
