//! [`TaskGroup`]: spawn members, join them in completion order or all at
//! once; none outlives the group.

use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::task::{Context, Poll};
use std::time::Duration;

use quell_cancel::{CancelToken, Cause};

use super::core::Core;
use crate::runtime::Handle;
use crate::task::{AbortHandle, JoinError};

/// `TaskGroup::join_next` (a task dump's await point): how many members are left.
static JOIN_NEXT: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "TaskGroup::join_next",
        describe: Some(describe_members),
    };

/// `TaskGroup::join_all` (a task dump's await point): how many members are left.
static JOIN_ALL: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "TaskGroup::join_all",
        describe: Some(describe_members),
    };

fn describe_members(n: u64) -> Option<String> {
    Some(format!("{n} members left"))
}

/// A set of member tasks that share one cancel scope — the group's token,
/// a child of the scope the group was created in — joined in the order
/// they complete (tokio's `JoinSet`, with structured cancellation).
///
/// * Members are spawned under the group's token: cancelling the group's
///   parent, or [`cancel`](Self::cancel)ling the group, reaches every member
///   (with the inherited cause), and each member's own spawns inherit it.
/// * [`join_next`](Self::join_next) yields each member's result as it
///   completes; [`join_all`](Self::join_all) waits for all of them. A
///   member's failure does not affect its siblings here; see
///   [`TryTaskGroup`](super::TryTaskGroup) for errgroup semantics.
/// * No member outlives the group: dropping it cancels the members with
///   `Cause::explicit("task group dropped")` and aborts each one still
///   running [`drop_grace`](Self::drop_grace) later (default
///   [`DEFAULT_DROP_GRACE`](super::DEFAULT_DROP_GRACE)), on the runtime's
///   timer wheel (no thread, no helper task).
///
/// ```
/// use quell_executor::task::TaskGroup;
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     let mut g = TaskGroup::new();
///     for i in 1..=4u32 {
///         g.spawn(async move { i * 10 });
///     }
///     let mut sum = 0;
///     while let Some(r) = g.join_next().await {
///         sum += r.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 100);
/// ```
pub struct TaskGroup<T> {
    core: Core<T>,
}

impl<T: Send + 'static> TaskGroup<T> {
    /// A group on the current runtime, under the current cancel scope
    /// (`quell_cancel::current()`).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn new() -> TaskGroup<T> {
        TaskGroup::new_on(&Handle::current(), &quell_cancel::current())
    }

    /// A group on `rt` whose token is a child of `parent` (usable from any
    /// thread).
    pub fn new_on(rt: &Handle, parent: &CancelToken) -> TaskGroup<T> {
        TaskGroup {
            core: Core::new(rt.clone(), parent),
        }
    }

    /// How long members have to finish after a drop's cancel before they
    /// are aborted.
    pub fn drop_grace(mut self, grace: Duration) -> Self {
        self.core.grace = grace;
        self
    }

    /// Spawns a member. After the runtime shut down it is not run and
    /// joins with a `JoinError` with `is_shutdown()` (at once, no hang).
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.spawn_inner(None, future, Location::caller())
    }

    /// Spawns a member with a name (task listings, shutdown reports).
    #[track_caller]
    pub fn spawn_named<F>(&mut self, name: &str, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.spawn_inner(Some(name), future, Location::caller())
    }

    fn spawn_inner<F>(
        &mut self,
        name: Option<&str>,
        future: F,
        loc: &'static Location<'static>,
    ) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.core
            .spawn(name, future, loc)
            .expect("a TaskGroup is only closed by its drop")
    }

    /// The next member to complete, with its result; `None` once every
    /// member has been joined. Cancel-safe: a result is never lost when
    /// the returned future is dropped before completing.
    #[track_caller]
    pub fn join_next(&mut self) -> impl Future<Output = Option<Result<T, JoinError>>> + '_ {
        let at = Location::caller();
        poll_fn(move |cx| {
            let p = self.poll_join_next(cx);
            if p.is_pending() {
                let left = self.len() as u64;
                quell_cancel::rt_internal::wait::record(&JOIN_NEXT, Some(at), left);
            }
            p
        })
    }

    /// Polling form of [`join_next`](Self::join_next).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.core.set.poll_join_next(cx)
    }

    /// Waits for every member; their results in completion order.
    #[track_caller]
    pub fn join_all(mut self) -> impl Future<Output = Vec<Result<T, JoinError>>> {
        let at = Location::caller();
        let left = self.len() as u64;
        let fut = async move {
            let mut out = Vec::with_capacity(self.len());
            while let Some(r) = self.join_next().await {
                out.push(r);
            }
            out
        };
        quell_cancel::rt_internal::wait::recorded(fut, &JOIN_ALL, at, left)
    }
}

impl<T> TaskGroup<T> {
    /// Members not yet joined (running, or finished and not yet yielded).
    pub fn len(&self) -> usize {
        self.core.set.len()
    }

    /// Whether no member is left to join.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The group's token: a child of the scope the group was created in;
    /// every member runs under it.
    pub fn token(&self) -> &CancelToken {
        &self.core.token
    }

    /// Cancels every member (cooperatively) with `cause`; the first cause
    /// wins. Returns whether this call cancelled the group.
    pub fn cancel(&self, cause: Cause) -> bool {
        self.core.token.cancel(cause)
    }
}

impl<T> fmt::Debug for TaskGroup<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("len", &self.len())
            .field("cancelled", &self.core.token.is_cancelled())
            .finish()
    }
}

impl<T: Send + 'static> Default for TaskGroup<T> {
    /// [`TaskGroup::new`].
    fn default() -> Self {
        TaskGroup::new()
    }
}
