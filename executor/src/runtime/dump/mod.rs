//! The task dump: [`Handle::dump`](super::Handle::dump) — every live task,
//! what it is parked on, and its cancel state; and the cancel tree, as
//! text (Go's `goroutine?debug=2` in spirit) or Graphviz DOT.
//!
//! ```text
//! collect.rs  walks the owned-task lists (in chunks: a shard lock is held
//!             only to take refs) and the blocking pool, reads each task
//! text.rs     the text form (`Display` of Dump / TaskDump / CancelTree)
//! tree.rs     the cancel tree: scopes with their tasks beneath; DOT output
//! ```
//!
//! What each field means is in docs/observability.md ("Task dump").

mod collect;
mod text;
mod tree;

use std::panic::Location;
use std::time::{Duration, Instant};

use quell_cancel::Cause;

use crate::task::Id;

pub use tree::CancelTree;

/// A snapshot of every live task of a runtime
/// ([`Handle::dump`](super::Handle::dump)).
///
/// The snapshot is not atomic: tasks are read one shard of the task list
/// at a time while the workers keep running, so a task spawned or
/// completed during the dump may be missing or present, and each entry is
/// as its task was when it was read.
///
/// `Display` writes the text form: a header, then one entry per task
/// (each entry is [`TaskDump`]'s `Display`), then the cancel tree.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Dump {
    /// When the dump was taken (its start).
    pub taken_at: Instant,
    /// How long collecting it took.
    pub took: Duration,
    /// Worker threads of the runtime (0: current-thread).
    pub workers: usize,
    /// Every task: async tasks by id, then blocking ones.
    pub tasks: Vec<TaskDump>,
    /// Every cancel scope (token) some task runs under, and their
    /// ancestors: the nodes of the cancel tree, parents before children.
    pub scopes: Vec<ScopeDump>,
}

/// One task of a [`Dump`]. `Display` writes its entry of the text form
/// (several lines; what a leak watchdog prints for one straggler).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TaskDump {
    /// The task's id.
    pub id: Id,
    /// The name given at spawn, if any.
    pub name: Option<String>,
    /// Where the task was spawned.
    pub spawned_at: &'static Location<'static>,
    /// The task that spawned it (`None`: spawned from outside any task).
    pub parent: Option<Id>,
    /// Async, or `spawn_blocking`.
    pub kind: TaskKind,
    /// Running, queued or parked.
    pub state: TaskState,
    /// For how long the task has been in `state`, as far as the runtime's
    /// coarse clock tells (see docs/observability.md); `None` if unknown.
    pub state_for: Option<Duration>,
    /// The await point a parked task waits on (`None` for a task that is
    /// running or queued, and for one never polled yet).
    pub wait: Option<Wait>,
    /// Whether, since when, why and by whom the task's scope was cancelled.
    pub cancel: CancelState,
    /// The effective deadline of the task's scope, if any.
    pub deadline: Option<Instant>,
    /// The task's cancel scope (a node of [`Dump::scopes`]); `None` with
    /// the cancel binding off.
    pub scope: Option<ScopeId>,
    /// Where the task was first aborted (`JoinHandle::abort`,
    /// `AbortHandle::abort`, a grace's expiry), if it was: an aborted task
    /// still listed is one whose poll has not returned yet.
    pub aborted_by: Option<&'static Location<'static>>,
    /// When the dump read this task ([`Dump::taken_at`]): what the text
    /// form measures the deadline against.
    pub taken_at: Instant,
}

/// What kind of task a [`TaskDump`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskKind {
    /// A future spawned with `spawn` (or `spawn_local`).
    Async,
    /// A `spawn_blocking` closure.
    Blocking {
        /// Spawned interruptible (a cancel sends its thread a signal).
        interruptible: bool,
    },
}

/// Where a task is in its life, at the moment the dump read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskState {
    /// Being polled (or, for a blocking task, its closure runs), on worker
    /// `worker` (`None`: on a thread that is not a worker — a
    /// current-thread runtime's `block_on` thread, a `LocalSet`, the
    /// blocking pool).
    Running {
        /// Index of the worker polling it.
        worker: Option<usize>,
    },
    /// Woken and waiting in a run queue (a blocking task: waiting for a
    /// pool thread).
    Queued,
    /// Parked: its last poll returned `Pending` and nothing woke it since.
    Parked,
    /// Finished; its output waits for the join handle.
    Complete,
}

/// The await point a parked task waits on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Wait {
    /// What it waits in: `"TcpStream::read"`, `"sleep"`,
    /// `"mpsc::Receiver::recv"`, `"JoinHandle"`, `"Mutex::lock"`,
    /// `"cancellable"` (a foreign future under `cancellable()`), or
    /// [`Wait::FOREIGN`].
    pub what: &'static str,
    /// Where that await is in the source (the caller of the await point's
    /// constructor); `None` when not known (a foreign future).
    pub location: Option<&'static Location<'static>>,
    /// What it waits for, in words: a socket's addresses, a sleep's
    /// deadline, a channel's queue length, the task joined.
    pub detail: Option<String>,
}

impl Wait {
    /// [`Wait::what`] of a task whose last poll returned `Pending` without
    /// passing an await point that quell owns.
    pub const FOREIGN: &'static str = "a future quell does not own";
}

/// The cancel state of a task's scope (or of one scope of the tree).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CancelState {
    /// Neither drained nor cancelled.
    NotCancelled,
    /// Drained (asked to finish its in-flight work), not cancelled.
    Draining {
        /// Why.
        cause: Cause,
    },
    /// Cancelled: await points answer `Cancelled` (outside shields).
    Cancelled {
        /// Why (the first cause, shared by the whole subtree).
        cause: Cause,
        /// The cancel came from an ancestor scope, not this one.
        inherited: bool,
        /// How long ago the cancel was requested.
        ago: Option<Duration>,
        /// The source location that requested the cancel
        /// (`CancelToken::cancel`, `JoinHandle::cancel`,
        /// `AbortHandle::abort`, where a deadline was set, ...).
        by: Option<&'static Location<'static>>,
        /// The scope that was cancelled (the origin of an inherited
        /// cancel), if it is in the dump's tree.
        origin: Option<ScopeId>,
    },
}

impl CancelState {
    /// Whether this is [`CancelState::Cancelled`].
    pub fn is_cancelled(&self) -> bool {
        matches!(self, CancelState::Cancelled { .. })
    }
}

/// The identity of a cancel scope (a token's node) within one [`Dump`].
/// Two tasks under the same scope show the same id; ids are not stable
/// across dumps of different nodes' lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeId(pub(crate) usize);

/// One node of the cancel tree of a [`Dump`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScopeDump {
    /// The node.
    pub id: ScopeId,
    /// Its parent (`None`: a root).
    pub parent: Option<ScopeId>,
    /// Whether this is the runtime's root token.
    pub is_runtime_root: bool,
    /// Its cancel state.
    pub cancel: CancelState,
    /// Its effective deadline.
    pub deadline: Option<Instant>,
}

impl Dump {
    /// The entry of task `id`, if it was alive when the dump was taken.
    pub fn task(&self, id: Id) -> Option<&TaskDump> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// The cancel tree: scopes nested under their parents, each with the
    /// tasks that run under it. `Display` writes it as indented text.
    pub fn tree(&self) -> CancelTree<'_> {
        CancelTree::new(self)
    }

    /// The cancel tree as a Graphviz DOT `digraph` (scopes as boxes, tasks
    /// as ellipses, cancelled ones red).
    pub fn to_dot(&self) -> String {
        self.tree().to_dot()
    }
}

pub(crate) use collect::collect;
