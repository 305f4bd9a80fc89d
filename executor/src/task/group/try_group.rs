//! [`TryTaskGroup`]: a group of fallible members (Go's errgroup): the first
//! failure cancels the siblings and is what waiting returns.

use std::error::Error;
use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::panic::Location;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use quell_cancel::{CancelToken, Cause};

use super::core::Core;
use super::error::GroupError;
use super::failure::FirstFailure;
use crate::loom::Arc;
use crate::runtime::Handle;
use crate::task::AbortHandle;

/// `TryTaskGroup::join_next` (a task dump's await point): how many members are left.
static TRY_JOIN_NEXT: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "TryTaskGroup::join_next",
        describe: Some(describe_members),
    };

/// `TryTaskGroup::wait` (a task dump's await point): how many members are left.
static TRY_WAIT: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "TryTaskGroup::wait",
        describe: Some(describe_members),
    };

fn describe_members(n: u64) -> Option<String> {
    Some(format!("{n} members left"))
}

/// How a member ended, as the group's set sees it.
pub(crate) enum Outcome<T> {
    Ok(T),
    /// Returned `Err`, and it was the group's first failure (the error is
    /// in the cause).
    Failed,
    /// Returned `Err` after the group had already failed (dropped).
    Later,
}

/// What members share with the group.
struct Shared {
    failure: FirstFailure,
    token: CancelToken,
}

/// A group of members returning `Result<T, E>` with errgroup semantics.
///
/// * The **first failure** — a member's `Err`, or a member that panicked or
///   was aborted — cancels the group's token with
///   [`Cause::group_failure_error`] carrying that error: every member sees
///   that *same* `Cause` at its next await point. Exactly one failure is
///   first, even when several members fail at once; later errors are
///   dropped (as errgroup does). A member's `Err` is recorded by the member
///   itself as it returns; a panic or an abort is recorded when the
///   group's waiter joins the member (it is woken by the completion).
/// * Cancelling the group's parent reaches the members with the parent's
///   (inherited) cause instead; a failure after that still ends the wait
///   with a [`GroupError`], but the members keep the cause they saw.
/// * [`join_next`](Self::join_next) yields each `Ok` value in completion
///   order and the first failure when its member is joined;
///   [`wait`](Self::wait) returns only when every member finished:
///   `Ok(values)` (completion order) or `Err(first failure)`.
/// * No member outlives the group: dropping it cancels the members (cause
///   "task group dropped") and aborts those still running after the drop
///   grace, as [`TaskGroup`](super::TaskGroup) does.
///
/// ```
/// use std::time::Duration;
/// use quell_executor::task::TryTaskGroup;
/// use quell_cancel::CauseKind;
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut g = TryTaskGroup::new();
///     g.spawn(async {
///         // A sibling that would sleep for an hour is cancelled by the
///         // failure: its sleep answers `Cancelled` (into `io::Error`).
///         quell_io_driver::time::sleep(Duration::from_secs(3600)).await?;
///         Ok(())
///     });
///     g.spawn(async { Err::<(), _>(std::io::Error::other("upstream down")) });
///     let err = g.wait().await.unwrap_err();
///     assert_eq!(err.cause().kind(), &CauseKind::GroupFailure);
///     assert_eq!(err.error().unwrap().to_string(), "upstream down");
/// });
/// ```
pub struct TryTaskGroup<T, E> {
    core: Core<Outcome<T>>,
    shared: Arc<Shared>,
    _e: PhantomData<fn() -> E>,
}

impl<T, E> TryTaskGroup<T, E>
where
    T: Send + 'static,
    E: Error + Send + Sync + 'static,
{
    /// A group on the current runtime, under the current cancel scope.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn new() -> TryTaskGroup<T, E> {
        TryTaskGroup::new_on(&Handle::current(), &quell_cancel::current())
    }

    /// A group on `rt` whose token is a child of `parent`.
    pub fn new_on(rt: &Handle, parent: &CancelToken) -> TryTaskGroup<T, E> {
        let core = Core::new(rt.clone(), parent);
        let shared = Arc::new(Shared {
            failure: FirstFailure::new(),
            token: core.token.clone(),
        });
        TryTaskGroup {
            core,
            shared,
            _e: PhantomData,
        }
    }

    /// How long members have to finish after a drop's cancel before they
    /// are aborted.
    pub fn drop_grace(mut self, grace: Duration) -> Self {
        self.core.grace = grace;
        self
    }

    /// Spawns a member.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.spawn_inner(None, future, Location::caller())
            .expect("a TryTaskGroup is only closed by its drop")
    }

    /// Spawns a member with a name.
    #[track_caller]
    pub fn spawn_named<F>(&mut self, name: &str, future: F) -> AbortHandle
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.spawn_inner(Some(name), future, Location::caller())
            .expect("a TryTaskGroup is only closed by its drop")
    }

    pub(crate) fn spawn_inner<F>(
        &mut self,
        name: Option<&str>,
        future: F,
        loc: &'static Location<'static>,
    ) -> Option<AbortHandle>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let shared = self.shared.clone();
        let member = async move {
            match future.await {
                Ok(v) => Outcome::Ok(v),
                Err(e) => {
                    if shared.fail(Cause::group_failure_error(e)) {
                        // Let the siblings just cancelled run first: this
                        // member's completion wakes the group's waiter,
                        // which would take the worker's LIFO slot ahead of
                        // a sibling the cancel put there (compare row
                        // "group first error"; when it woke several, the
                        // waiter already goes behind them, lifo.rs step 9).
                        crate::task::yield_now().await;
                        Outcome::Failed
                    } else {
                        Outcome::Later
                    }
                }
            }
        };
        self.core.spawn(name, member, loc)
    }

    /// Records a failure of the group (its body, in a scope).
    pub(crate) fn fail(&self, cause: Cause) -> bool {
        self.shared.fail(cause)
    }

    /// The next `Ok` value in completion order, or the first failure when
    /// its member is joined; `None` once every member has been joined.
    /// Cancel-safe.
    #[track_caller]
    pub fn join_next(&mut self) -> impl Future<Output = Option<Result<T, GroupError<E>>>> + '_ {
        let at = Location::caller();
        poll_fn(move |cx| {
            let p = self.poll_join_next(cx);
            if p.is_pending() {
                let left = self.len() as u64;
                quell_cancel::rt_internal::wait::record(&TRY_JOIN_NEXT, Some(at), left);
            }
            p
        })
    }

    /// Polling form of [`join_next`](Self::join_next).
    pub fn poll_join_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<T, GroupError<E>>>> {
        loop {
            let out = match ready!(self.core.set.poll_join_next(cx)) {
                None => return Poll::Ready(None),
                Some(Ok(Outcome::Ok(v))) => Ok(v),
                Some(Ok(Outcome::Failed)) => Err(self.first().expect("a Failed member set it")),
                Some(Ok(Outcome::Later)) => continue,
                Some(Err(join)) => {
                    let cause = Cause::group_failure_error(join);
                    if !self.shared.fail(cause.clone()) {
                        continue;
                    }
                    Err(GroupError::new(cause))
                }
            };
            return Poll::Ready(Some(out));
        }
    }

    /// The first failure so far, if any.
    pub fn first_failure(&self) -> Option<GroupError<E>> {
        self.first()
    }

    fn first(&self) -> Option<GroupError<E>> {
        self.shared.failure.get().map(GroupError::new)
    }

    /// Waits until every member has finished: their values in completion
    /// order, or the first failure.
    #[track_caller]
    pub fn wait(mut self) -> impl Future<Output = Result<Vec<T>, GroupError<E>>> {
        let at = Location::caller();
        let left = self.len() as u64;
        let fut = async move {
            let mut values = Vec::with_capacity(self.len());
            let mut failed = None;
            while let Some(r) = self.join_next().await {
                match r {
                    Ok(v) => values.push(v),
                    Err(e) => failed = failed.or(Some(e)),
                }
            }
            match failed {
                Some(e) => Err(e),
                None => Ok(values),
            }
        };
        quell_cancel::rt_internal::wait::recorded(fut, &TRY_WAIT, at, left)
    }
}

impl Shared {
    fn fail(&self, cause: Cause) -> bool {
        self.failure.fail(&self.token, cause)
    }
}

impl<T, E> TryTaskGroup<T, E> {
    /// Cancels and arms the abort of every member, refuses later spawns
    /// (what dropping the group does; a scope's end).
    pub(crate) fn close(&mut self) {
        self.core.close();
    }

    /// Members not yet joined.
    pub fn len(&self) -> usize {
        self.core.set.len()
    }

    /// Whether no member is left to join.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The group's token (every member runs under it).
    pub fn token(&self) -> &CancelToken {
        &self.core.token
    }

    /// Cancels every member with `cause` (not a failure: waiting still
    /// returns the members' own results). Returns whether this call
    /// cancelled the group.
    pub fn cancel(&self, cause: Cause) -> bool {
        self.core.token.cancel(cause)
    }
}

impl<T, E> Default for TryTaskGroup<T, E>
where
    T: Send + 'static,
    E: Error + Send + Sync + 'static,
{
    /// [`TryTaskGroup::new`].
    fn default() -> Self {
        TryTaskGroup::new()
    }
}

impl<T, E> fmt::Debug for TryTaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryTaskGroup")
            .field("len", &self.len())
            .field("failed", &self.shared.failure.get().is_some())
            .finish()
    }
}
