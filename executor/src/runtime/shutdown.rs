//! Graceful shutdown in phases: drain → drain grace → cancel → cancel
//! grace → abort, with a report of what each phase finished and what had to
//! be forced (contract C12).
//!
//! ```text
//!            shutdown_with(policy)
//!                    │
//!   root.drain(shutdown) ── tasks see is_draining(); await points proceed
//!                    │      wait ≤ drain_grace for every task to finish
//!   root.cancel(shutdown) ─ await points answer Cancelled
//!                    │      wait ≤ cancel_grace
//!   abort ───────────────── futures dropped; queued blocking closures never
//!                    │      start; running ones are left on detached threads
//!                 report
//! ```

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

use quell_cancel::Cause;

use super::{Runtime, TaskDump, TaskKind, TaskState};
use crate::task::Id;

/// How long each phase of a graceful shutdown may take
/// ([`Runtime::shutdown_with`]; the runtime's own policy is set with
/// [`Builder::shutdown_policy`](super::Builder::shutdown_policy)).
///
/// ```
/// use std::time::Duration;
/// use quell_executor::runtime::ShutdownPolicy;
/// let p = ShutdownPolicy::new(Duration::from_secs(10), Duration::from_secs(2));
/// assert_eq!(p.drain_grace + p.cancel_grace, p.total());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownPolicy {
    /// After the drain request: how long tasks may take to finish on their
    /// own (stop accepting, finish in-flight work) before they are cancelled.
    pub drain_grace: Duration,
    /// After the cancel: how long cancelled tasks may take to unwind before
    /// they are aborted.
    pub cancel_grace: Duration,
}

impl ShutdownPolicy {
    /// A policy with these two graces.
    pub fn new(drain_grace: Duration, cancel_grace: Duration) -> ShutdownPolicy {
        ShutdownPolicy {
            drain_grace,
            cancel_grace,
        }
    }

    /// The longest the graces can take together (what shutdown is bounded
    /// by, plus the abort itself).
    pub fn total(&self) -> Duration {
        self.drain_grace.saturating_add(self.cancel_grace)
    }
}

impl Default for ShutdownPolicy {
    /// No drain phase (drain and cancel at once) and a 5 s cancel grace:
    /// code that does not watch for a drain loses nothing by it. Servers
    /// that drain set a drain grace.
    fn default() -> Self {
        ShutdownPolicy::new(Duration::ZERO, Duration::from_secs(5))
    }
}

/// What [`Runtime::shutdown_with`] (or `shutdown`, `shutdown_graceful`) did,
/// phase by phase. The tasks it lists are their entries of the task dump
/// ([`Handle::dump`](super::Handle::dump)): what each one waited on, its
/// cancel state (how long since its cancel, why, by whom), where it was
/// spawned.
#[derive(Debug, Clone)]
pub struct ShutdownReport {
    /// The policy the shutdown ran with.
    pub policy: ShutdownPolicy,
    /// Live tasks when shutdown began (blocking tasks included).
    pub tasks_at_start: usize,
    /// Tasks that finished during the drain phase, before any cancel.
    pub drained: usize,
    /// How long the drain phase took.
    pub drain_used: Duration,
    /// Tasks that were still live when the drain grace ended and finished
    /// during the cancel phase: they had to be cancelled. Their entries as
    /// of the cancel.
    pub cancelled: Vec<TaskDump>,
    /// How long the cancel phase took.
    pub cancel_used: Duration,
    /// Tasks that finished within the graces (`drained + cancelled.len()`).
    pub finished_in_grace: usize,
    /// Tasks still alive after the cancel grace, whose futures were then
    /// dropped (aborted), with their entries as of the end of the grace:
    /// what each waited on, and whether (and how long before) the cancel
    /// reached it. Blocking tasks still queued are here too (their
    /// closures never start).
    pub forced: Vec<TaskDump>,
    /// Blocking tasks whose closure was still running after the cancel
    /// grace (their entry's `state_for` says for how long). A running
    /// closure cannot be dropped: shutdown returned without waiting for
    /// it, its thread was left detached, finishes the closure on its own
    /// (the output is discarded) and exits.
    pub left_running: Vec<TaskDump>,
    /// How long the graces took together.
    pub grace_used: Duration,
}

impl ShutdownReport {
    /// True if every task finished on its own during the drain phase.
    pub fn is_drained(&self) -> bool {
        self.cancelled.is_empty() && self.is_clean()
    }

    /// True if nothing had to be aborted or left running (every task
    /// finished after the drain or the cancel).
    pub fn is_clean(&self) -> bool {
        self.forced.is_empty() && self.left_running.is_empty()
    }
}

/// A dump entry on one line: its head (`task 7 "name" [parked,
/// cancelled]`) and its detail lines joined with `; ` (`waits on …;
/// cancel: …; spawned at …`). The shutdown report's and the leak
/// watchdog's form.
pub(super) fn one_line(entry: &TaskDump) -> (String, String) {
    let text = entry.to_string();
    let mut lines = text.lines();
    let head = lines.next().unwrap_or_default();
    let head = head.strip_suffix(':').unwrap_or(head).to_owned();
    let rest: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
    (head, rest.join("; "))
}

/// Whether `t` is a blocking task whose closure runs.
fn is_running_closure(t: &TaskDump) -> bool {
    matches!(t.kind, TaskKind::Blocking { .. }) && matches!(t.state, TaskState::Running { .. })
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "shutdown: {} task(s) live; drain: {} finished within {:?}; cancel: {} finished within {:?}; {} forced, {} left running",
            self.tasks_at_start,
            self.drained,
            self.drain_used,
            self.cancelled.len(),
            self.cancel_used,
            self.forced.len(),
            self.left_running.len()
        )?;
        for t in &self.cancelled {
            let (head, _) = one_line(t);
            writeln!(
                f,
                "  cancelled: {head} (ignored the drain, stopped on cancel); spawned at {}",
                t.spawned_at
            )?;
        }
        for t in &self.forced {
            let (head, rest) = one_line(t);
            // Whether it had been told to stop: a cancelled task still
            // alive ignored its cancel (the leak quell exists to expose).
            let why = if t.cancel.is_cancelled() {
                "cancelled, ignored it"
            } else {
                "not cancelled: outside the root's tree"
            };
            writeln!(f, "  forced: {head} ({why}): {rest}")?;
        }
        for t in &self.left_running {
            let (head, rest) = one_line(t);
            match t.state_for {
                Some(d) => write!(
                    f,
                    "  left running: {head} (blocking closure running for {d:?}"
                )?,
                None => write!(f, "  left running: {head} (blocking closure")?,
            }
            let c = if t.cancel.is_cancelled() {
                "cancelled"
            } else {
                "not cancelled"
            };
            writeln!(f, ", {c}; its thread is detached): {rest}")?;
        }
        Ok(())
    }
}

impl Runtime {
    /// Shuts down with the runtime's policy
    /// ([`Builder::shutdown_policy`](super::Builder::shutdown_policy)); see
    /// [`shutdown_with`](Self::shutdown_with).
    pub fn shutdown(self) -> ShutdownReport {
        let policy = self.handle.inner.shutdown_policy;
        self.shutdown_with(policy)
    }

    /// Shuts down with the runtime policy's drain grace and `grace` as the
    /// cancel grace: `shutdown_with(ShutdownPolicy { cancel_grace: grace,
    /// ..builder's policy })`. With the default policy (no drain grace)
    /// that is **cancel** the root token with `Cause::shutdown()` (a drain
    /// is requested at the same moment), wait up to `grace` for tasks to
    /// finish, then **abort** the rest (drop their futures) and stop. The
    /// report lists the tasks that had to be forced, with where they were
    /// spawned.
    ///
    /// Tasks under a detached or foreign token are not cancelled by the
    /// root; they are aborted after the grace period like any straggler.
    ///
    /// Blocking tasks count as tasks: shutdown waits for their closures
    /// too, but never past the grace. A closure still running then cannot
    /// be dropped; it is listed in [`ShutdownReport::left_running`] and its
    /// thread is left detached to finish on its own.
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
        let policy = ShutdownPolicy {
            cancel_grace: grace,
            ..self.handle.inner.shutdown_policy
        };
        self.shutdown_with(policy)
    }

    /// Shuts down in phases (contract C12; docs/cancellation.md, "Shutdown
    /// in phases"):
    ///
    /// 1. **drain** the root token with `Cause::shutdown()`: every task
    ///    that inherited it sees `cancel::is_draining()` (inside shields
    ///    too) and its `cancel::draining()` resolves; no await point answers
    ///    `Cancelled`. Wait up to `drain_grace` for every task to finish.
    /// 2. **cancel** the root token with `Cause::shutdown()`: await points
    ///    answer `Cancelled`. Wait up to `cancel_grace`.
    /// 3. **abort** the rest (drop their futures), stop the workers, and
    ///    return the report. Blocking closures still running are left on
    ///    their (detached) threads.
    ///
    /// A phase ends early once no task is left. Shutdown returns within
    /// `policy.total()` plus the time the abort takes (dropping futures
    /// runs their destructors), whatever blocking work is running.
    ///
    /// ```
    /// use std::time::Duration;
    /// use quell_executor::runtime::ShutdownPolicy;
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// // Finishes on drain: the report counts it as drained.
    /// rt.spawn(async { quell_cancel::draining().await; });
    /// let report = rt.shutdown_with(ShutdownPolicy::new(Duration::from_secs(5), Duration::from_secs(1)));
    /// assert_eq!(report.drained, 1);
    /// assert!(report.is_drained(), "{report}");
    /// ```
    pub fn shutdown_with(self, policy: ShutdownPolicy) -> ShutdownReport {
        let start = Instant::now();
        let handle = self.handle.clone();
        let tasks_at_start = handle.num_tasks();
        let root = handle.root_token();

        // Phase 1: drain.
        root.drain(Cause::shutdown());
        if !policy.drain_grace.is_zero() {
            self.wait_for_tasks(start + policy.drain_grace);
        }
        let drain_used = start.elapsed();
        let live_at_cancel = handle.dump().tasks;
        let drained = tasks_at_start.saturating_sub(live_at_cancel.len());

        // Phase 2: cancel.
        let cancel_start = Instant::now();
        root.cancel(Cause::shutdown());
        self.wait_for_tasks(cancel_start + policy.cancel_grace);
        let cancel_used = cancel_start.elapsed();

        // Phase 3: abort what is left.
        let live = handle.dump().tasks;
        let still: HashSet<Id> = live.iter().map(|t| t.id).collect();
        let cancelled: Vec<TaskDump> = live_at_cancel
            .into_iter()
            .filter(|t| !still.contains(&t.id))
            .collect();
        let (left_running, forced): (Vec<_>, Vec<_>) =
            live.into_iter().partition(is_running_closure);
        let grace_used = start.elapsed();
        // The graces are over: the pool waits for no running closure.
        handle.inner.blocking.shutdown_by(Instant::now());
        drop(self);
        ShutdownReport {
            policy,
            tasks_at_start,
            drained,
            drain_used,
            finished_in_grace: drained + cancelled.len(),
            cancelled,
            cancel_used,
            forced,
            left_running,
            grace_used,
        }
    }

    /// Waits until no task is live or `deadline` passed. Waiting for tasks
    /// here is the point (not coordination by sleep): poll the live count
    /// with a short backoff.
    fn wait_for_tasks(&self, deadline: Instant) {
        let mut backoff = Duration::from_micros(50);
        while self.handle.num_tasks() > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            self.wait_in_grace(backoff.min(left));
            backoff = (backoff * 2).min(Duration::from_millis(5));
        }
    }
}
