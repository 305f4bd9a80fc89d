//! The current-task context: which task this thread is polling, its token,
//! and the shield depth. Runtime-internal: the other quell crates reach it
//! through [`rt_internal`](crate::rt_internal); the `quell` facade does not
//! re-export it, so user code can neither enter a task context nor
//! impersonate one. (The cooperative budget is not here: it is a scheduling
//! matter and lives in quell-io-driver's `coop`, docs/architecture.md.)
//!
//! The executor calls [`enter`] around every poll of a task, passing the task
//! as a `&dyn TaskCancel`. Everything in this crate that asks "is the current
//! task cancelled?" ([`checkpoint`](fn@crate::checkpoint),
//! [`Cancellable`](crate::Cancellable), [`current`](crate::current)) reads that
//! context, so no `select!` is needed at the await points the runtime owns.
//!
//! The context is a thread-local pointer, set and restored by [`enter`] in
//! closure scope so that it can never dangle (a leaked guard is impossible).

use std::cell::Cell;
use std::ptr::NonNull;

use crate::{CancelToken, Cancelled};

/// What the runtime tells this crate about the task being polled: its
/// cancel *scope*, one token whose state is the single answer to "is this
/// task cancelled, why, and by when must it finish?" (contract C10).
///
/// Implemented by the executor's task; tests may implement it too.
pub trait TaskCancel {
    /// The scope's token as it stands, without creating anything: what the
    /// await points check. A task that has no node of its own yet answers
    /// with the token it inherited (nothing can have cancelled the task
    /// alone before its own node exists: cancelling it creates the node).
    fn token(&self) -> &CancelToken;

    /// The scope's token to hand out (what [`current`](crate::current)
    /// returns and what `spawn` inherits). A task whose own node is created
    /// lazily creates it here, so that cancelling the task reaches whoever
    /// holds the returned token. Defaults to a clone of [`token`](Self::token).
    fn scope_token(&self) -> CancelToken {
        self.token().clone()
    }

    /// The cancellation that await points observe now (shields aside).
    /// Defaults to the token's.
    fn cancelled(&self) -> Option<Cancelled> {
        self.token().cancelled_error()
    }

    /// Whether [`cancelled`](Self::cancelled) would answer `Some` now: the
    /// check every await point makes on every poll ([`observed`]), so it
    /// should be a few loads (the scope token's flag), with no cause
    /// cloned. Must agree with `cancelled`: `true` exactly when
    /// `cancelled` would answer `Some` (flags only go from clear to set,
    /// so the `cancelled` call that follows a `true` answers `Some`).
    /// Defaults to `cancelled().is_some()`.
    fn is_cancelled(&self) -> bool {
        self.cancelled().is_some()
    }

    /// The token whose drain the task observes ([`crate::is_draining`],
    /// [`crate::draining`]): the task's real scope, also inside shields and
    /// deadline scopes (a shield hides cancellation, never a drain).
    /// Defaults to [`token`](Self::token).
    fn drain_token(&self) -> &CancelToken {
        self.token()
    }

    /// A scope inside the task (a deadline scope) notes that its `token`
    /// is cancelled while the task is still inside it (`inside == true`),
    /// or that it ended (`false`), so that task listings show the task as
    /// cancelled. Defaults to doing nothing.
    fn note_cancelled_scope(&self, token: &CancelToken, inside: bool) {
        let _ = (token, inside);
    }

    /// An await point of the task just observed the cancellation that
    /// `token` (the current scope's token) reports: [`observed`] answered
    /// `Some`. Called on that path only (never while not cancelled), so a
    /// runtime can measure cancel latency (cancel requested, see
    /// [`CancelToken::cancelled_at`], to observed) at no cost to tasks
    /// that are not cancelled. Defaults to doing nothing.
    fn cancel_observed(&self, token: &CancelToken) {
        let _ = token;
    }

    /// The task's id (0: none), what a spawn records as the new task's
    /// parent (task dumps). Defaults to 0.
    fn task_id(&self) -> u64 {
        0
    }

    /// The runtime's own pointer to the task, when this frame is the task's
    /// own scope (not a scope inside it): a runtime may then let a spawn
    /// inherit the task's scope through the task itself, resolving it
    /// later, instead of asking for [`scope_token`](Self::scope_token) now.
    /// Only the runtime that entered the frame knows what it points to.
    /// Defaults to `None` (and a scope inside the task answers `None`).
    fn runtime_task(&self) -> Option<NonNull<()>> {
        None
    }

    /// The runtime's cooperative budget (quell-io-driver's `coop::poll_proceed`) just answered `Pending` because the task used up
    /// its cooperative budget in this poll: a forced yield, which a runtime
    /// may count. Called on that path only. Defaults to doing nothing.
    fn forced_yield(&self) {}
}

#[derive(Clone, Copy)]
struct Frame {
    task: Option<NonNull<dyn TaskCancel>>,
    shield: u32,
}

const NO_TASK: Frame = Frame {
    task: None,
    shield: 0,
};

// Under loom, threads are coroutines on one OS thread: the context must be
// a loom thread-local or one model thread would see another's task.
#[cfg(not(loom))]
std::thread_local! {
    static CURRENT: Cell<Frame> = const { Cell::new(NO_TASK) };
}

#[cfg(loom)]
loom::thread_local! {
    static CURRENT: Cell<Frame> = Cell::new(NO_TASK);
}

/// Puts the saved frame back on drop, also on unwind.
struct Restore(Frame);

impl Drop for Restore {
    // Inlined into the task harness (two stores per poll, not a call).
    #[inline]
    fn drop(&mut self) {
        let prev = self.0;
        let _ = CURRENT.try_with(|c| c.set(prev));
    }
}

/// Runs `f` with `task` as the current task (fresh shield depth),
/// restoring the previous context afterwards, also on unwind.
#[inline]
pub fn enter<R>(task: &dyn TaskCancel, f: impl FnOnce() -> R) -> R {
    // Erase the lifetime: the pointer is only reachable through `CURRENT`,
    // which `Restore` resets before `task`'s borrow ends (also on unwind).
    let ptr: NonNull<dyn TaskCancel + '_> = NonNull::from(task);
    // SAFETY: transmuting only the trait-object lifetime bound of a pointer;
    // layout is identical. Validity is argued above: the pointer is never
    // dereferenced after `enter` returns.
    let ptr: NonNull<dyn TaskCancel + 'static> = unsafe { std::mem::transmute(ptr) };
    let frame = Frame {
        task: Some(ptr),
        shield: 0,
    };
    let _restore = Restore(CURRENT.with(|c| c.replace(frame)));
    f()
}

/// Runs `f` inside a cancel *scope* of the current task: `token` becomes
/// the current token (what [`current`](crate::current) returns, what
/// `spawn` inherits, what await points check), the task's own cancellation
/// still applies — unless the scope was opened inside a shield, where only
/// `token` counts.
///
/// Used by deadline scopes (`with_timeout`): the caller makes `token` a
/// child of the current token (or of a fresh root inside a shield).
pub fn enter_scope<R>(token: &CancelToken, f: impl FnOnce() -> R) -> R {
    let outer = CURRENT.with(|c| c.get());
    let scoped = Scoped {
        outer: if outer.shield > 0 { None } else { outer.task },
        real: outer.task,
        token,
    };
    let ptr: NonNull<dyn TaskCancel + '_> = NonNull::from(&scoped as &dyn TaskCancel);
    // SAFETY: only the trait-object lifetime changes; `scoped` outlives
    // every use, because `Restore` removes the pointer before it drops.
    let ptr: NonNull<dyn TaskCancel + 'static> = unsafe { std::mem::transmute(ptr) };
    let frame = Frame {
        task: Some(ptr),
        shield: 0,
    };
    let _restore = Restore(CURRENT.with(|c| c.replace(frame)));
    f()
}

struct Scoped<'a> {
    /// The enclosing scope whose cancellation applies (`None` in a shield).
    outer: Option<NonNull<dyn TaskCancel>>,
    /// The enclosing scope whatever the shield depth: drains come from it.
    real: Option<NonNull<dyn TaskCancel>>,
    token: &'a CancelToken,
}

impl TaskCancel for Scoped<'_> {
    fn token(&self) -> &CancelToken {
        self.token
    }
    fn cancelled(&self) -> Option<Cancelled> {
        // The scope's own token first (a deadline scope's token is a
        // descendant of the task's, so it reports the same cause once the
        // cancel walk reached it); then the enclosing scope, which covers
        // the walk's window and a `token` that is not a descendant. Seen
        // from inside, a cancel of the enclosing scope is inherited,
        // whichever way it is read.
        self.token.cancelled_error().or_else(|| {
            // SAFETY: `outer` was the current task when the scope was
            // entered; the enclosing `enter` keeps it alive until after
            // this scope exits.
            let outer = self.outer.and_then(|o| unsafe { o.as_ref() }.cancelled())?;
            Some(Cancelled::new(outer.cause().clone(), true))
        })
    }
    fn is_cancelled(&self) -> bool {
        // SAFETY: as in `cancelled`.
        self.token.is_cancelled()
            || self
                .outer
                .is_some_and(|o| unsafe { o.as_ref() }.is_cancelled())
    }
    fn drain_token(&self) -> &CancelToken {
        // SAFETY: as in `cancelled` (`real` is the enclosing scope, kept
        // alive by the enclosing `enter` until after this scope exits).
        match self.real.map(|o| unsafe { o.as_ref() }) {
            Some(o) => o.drain_token(),
            None => self.token,
        }
    }
    fn note_cancelled_scope(&self, token: &CancelToken, inside: bool) {
        // SAFETY: as in `cancelled`.
        if let Some(o) = self.outer.map(|o| unsafe { o.as_ref() }) {
            o.note_cancelled_scope(token, inside);
        }
    }
    fn cancel_observed(&self, token: &CancelToken) {
        // The task is the one observing, whichever scope's cancel it was:
        // tell the enclosing scope (and so the task). SAFETY: as in
        // `drain_token`.
        if let Some(o) = self.real.map(|o| unsafe { o.as_ref() }) {
            o.cancel_observed(token);
        }
    }
    fn forced_yield(&self) {
        // SAFETY: as in `drain_token`.
        if let Some(o) = self.real.map(|o| unsafe { o.as_ref() }) {
            o.forced_yield();
        }
    }
    fn task_id(&self) -> u64 {
        // The task's, whichever scope is current. SAFETY: as in
        // `drain_token`.
        self.real.map_or(0, |o| unsafe { o.as_ref() }.task_id())
    }
}

/// Tells the current task (see [`TaskCancel::note_cancelled_scope`]) that
/// the scope of `token` is cancelled while the task is still inside it
/// (`inside == true`), or that the scope ended. Outside a task, a no-op.
pub fn note_cancelled_scope(token: &CancelToken, inside: bool) {
    with_current(|t| {
        if let Some(t) = t {
            t.note_cancelled_scope(token, inside);
        }
    });
}

/// Calls `f` with the current task, if this thread is polling one.
pub fn with_current<R>(f: impl FnOnce(Option<&dyn TaskCancel>) -> R) -> R {
    let frame = CURRENT.try_with(|c| c.get()).ok();
    match frame.and_then(|fr| fr.task) {
        // SAFETY: `task` was installed by `enter`, whose borrow outlives every
        // read made while its closure runs (see `enter`).
        Some(task) => f(Some(unsafe { task.as_ref() })),
        None => f(None),
    }
}

/// Whether this thread is currently inside a shielded section.
#[inline]
pub fn is_shielded() -> bool {
    CURRENT.try_with(|c| c.get().shield > 0).unwrap_or(false)
}

/// Runs `f` with the shield depth raised by one.
pub(crate) fn shielded<R>(f: impl FnOnce() -> R) -> R {
    struct Lower;
    impl Drop for Lower {
        fn drop(&mut self) {
            let _ = CURRENT.try_with(|c| {
                let mut fr = c.get();
                fr.shield -= 1;
                c.set(fr);
            });
        }
    }
    CURRENT.with(|c| {
        let mut fr = c.get();
        fr.shield += 1;
        c.set(fr);
    });
    let _lower = Lower;
    f()
}

/// The cancellation the current task should observe at an await point now:
/// `None` when not in a task, not cancelled, or shielded. It is the state
/// of the task's scope token ([`TaskCancel::cancelled`]), reported with its
/// originating cause.
///
/// Every await point calls this on every poll, so the common answer
/// (`None`: in a task, not shielded, not cancelled) costs one thread-local
/// read of the frame and one [`TaskCancel::is_cancelled`] call; the cause
/// and [`TaskCancel::cancel_observed`] are out of line.
#[inline]
pub fn observed() -> Option<Cancelled> {
    if cancel_visible() {
        observed_cancelled()
    } else {
        None
    }
}

/// The fast check of [`observed`]: one thread-local read of the frame;
/// `true` when in a task, not shielded, and [`TaskCancel::is_cancelled`].
#[inline]
fn cancel_visible() -> bool {
    let Ok(frame) = CURRENT.try_with(|c| c.get()) else {
        return false;
    };
    match frame.task {
        // SAFETY: `task` was installed by `enter`, whose borrow outlives
        // every read made while its closure runs (see `enter`).
        Some(task) if frame.shield == 0 => unsafe { task.as_ref() }.is_cancelled(),
        _ => false,
    }
}

/// The cancelled path of [`observed`], out of line so that the common
/// (not cancelled) path stays a few instructions: the cause, and telling
/// the task it was observed.
#[cold]
#[inline(never)]
fn observed_cancelled() -> Option<Cancelled> {
    with_current(|task| {
        let t = task?;
        let c = t.cancelled()?;
        t.cancel_observed(t.token());
        Some(c)
    })
}
