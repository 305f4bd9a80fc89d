//! A task's cancel scope: the one type that says what a task runs under
//! (contract C10).
//!
//! ```text
//!   inherited token (Binding)          own node (created on first need)
//!   root / spawner's scope / explicit ──▶ child of the inherited token
//!                                        ▲
//!   JoinHandle::cancel ── cancels ───────┘  and every task spawned from
//!   cancel::current() ─── hands out ─────┘  this one inherits it
//! ```
//!
//! A task's scope is *one* token: its own node once that exists, the
//! inherited token until then. The own node is a child of the inherited
//! token, created only when something needs a token that is this task's
//! alone: the task calls [`quell_cancel::current`], opens a deadline
//! scope, or is cancelled through its `JoinHandle`, or a child it spawned
//! resolves its scope while the task is still running. A spawn itself
//! makes no node: the child inherits the scope through the spawner task
//! and resolves it within its first poll (`lend.rs`), so a task that spawned
//! and completed before its children ran (a chain of spawns, a fan-out on
//! one worker) never has a node, and its children inherit what it
//! inherited. A task that needs none of these (most tasks) costs no node:
//! spawning under the runtime root touches no shared refcount, and the
//! binding-cost budget holds.
//!
//! # Invariants
//!
//! 1. `own` is set at most once, or sealed (`lend.rs`, invariant 1: only
//!    by the completion of a task that lent its scope); a race between
//!    creators is settled by one compare-and-swap, the loser's node is
//!    dropped and leaves the tree. Once set, the scope's token is `own`
//!    for good; once sealed, it is the inherited token for good.
//! 2. Before `own` exists nothing can have cancelled the task alone: a
//!    handle-cancel creates `own` first. So reading the inherited token
//!    until then gives the same answer as the own node would.
//! 3. The cause a task observes never changes: `own` is a child of the
//!    inherited token, so it is born cancelled with the inherited cause if
//!    that came first (and then a handle-cancel returns `false`), and the
//!    first cause of a node never changes (quell-cancel, tree invariant 1).
//! 4. `bind` is touched only by the thread that holds RUNNING. The waker is
//!    registered with the scope's token as it stands at park time, and
//!    moved to `own` at the first park after `own` appears, so a cancel of
//!    `own` by any holder of it wakes the task (C8). A handle-cancel that
//!    creates `own` while the task is parked on the inherited token
//!    notifies the task itself (`harness::cancel`).

use std::task::Waker;

use quell_cancel::{CancelToken, Cancelled, WaiterKey};

use super::lend::{Deferred, OwnSlot};
use super::RawTask;
use crate::loom::atomic::{AtomicBool, Ordering::Relaxed};
use crate::loom::{Mutex, UnsafeCell};

/// What a new task inherits.
pub(crate) enum Binding {
    /// Cancel binding switched off (benchmarks of its cost): the task
    /// inherits nothing; its own node, if ever needed, is a fresh root.
    Off,
    /// The scheduler's root token, reached through the scheduler
    /// (`Schedule::root_token`) so that spawning under it takes no ref.
    Root,
    /// The spawner's scope token: a cancel of it reaches the task from an
    /// ancestor scope, so it is reported as inherited.
    Inherit(CancelToken),
    /// This token (given explicitly, or a fresh root): the task's own.
    Token(CancelToken),
    /// The spawner's scope, resolved within the first poll (`lend.rs`):
    /// inherited, like [`Binding::Inherit`].
    Spawner(Deferred),
}

/// Where the task is in its registration with its scope's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bind {
    /// Not registered yet (tasks register on first park).
    Unbound,
    /// Registered with the inherited token (`on_own == false`) or the own
    /// node: a cancel of that token wakes the task.
    Registered { key: WaiterKey, on_own: bool },
    /// Nothing to do: no token, or the token was already cancelled.
    Done,
}

/// A task's cancel scope (see the module docs).
pub(crate) struct TaskScope {
    binding: Binding,
    own: OwnSlot,
    bind: UnsafeCell<Bind>,
    /// Whether a spawn inherited the scope through the task itself
    /// (`lend.rs`): its completion then seals `own`. Touched only by the
    /// thread that holds RUNNING.
    lent: UnsafeCell<bool>,
    /// A cancelled scope the task is still inside (a deadline scope whose
    /// inner future has not finished yet), noted by that scope so that the
    /// task listing shows the task as cancelled. Touched only on that slow
    /// path and by the listing.
    noted: Mutex<Option<CancelToken>>,
    /// Whether the task's cancel was observed once already (the
    /// cancel-latency histogram takes one sample per task). Touched only
    /// with histograms on.
    cancel_seen: AtomicBool,
}

impl TaskScope {
    pub(crate) fn new(binding: Binding) -> TaskScope {
        let bind = match binding {
            Binding::Off => Bind::Done,
            _ => Bind::Unbound,
        };
        TaskScope {
            binding,
            own: OwnSlot::new(),
            bind: UnsafeCell::new(bind),
            lent: UnsafeCell::new(false),
            noted: Mutex::new(None),
            cancel_seen: AtomicBool::new(false),
        }
    }

    /// The inherited token; `root` resolves [`Binding::Root`].
    fn inherited<'a>(&'a self, root: Option<&'a CancelToken>) -> Option<&'a CancelToken> {
        match &self.binding {
            Binding::Off => None,
            Binding::Root => root,
            Binding::Inherit(t) | Binding::Token(t) => Some(t),
            Binding::Spawner(d) => d.get(root),
        }
    }

    /// Resolves a [`Binding::Spawner`] now if nothing did yet (the
    /// task's completion, so that it lets go of its spawner, `lend.rs`
    /// invariant 4).
    #[inline]
    pub(crate) fn resolve(&self, root: Option<&CancelToken>) {
        if let Binding::Spawner(d) = &self.binding {
            d.resolve(root);
        }
    }

    /// The cancellation the task's await points observe: the scope token's,
    /// marked inherited when it is the spawner's scope that was cancelled.
    pub(crate) fn cancelled(&self, root: Option<&CancelToken>) -> Option<Cancelled> {
        if let Some(own) = self.own.get() {
            return own.cancelled_error();
        }
        let c = self.inherited(root)?.cancelled_error()?;
        match self.binding {
            Binding::Inherit(_) | Binding::Spawner(_) => {
                Some(Cancelled::new(c.cause().clone(), true))
            }
            _ => Some(c),
        }
    }

    /// Whether [`cancelled`](Self::cancelled) answers `Some`: the scope
    /// token's flag, one load (two when the own node exists), nothing
    /// cloned. The check of every await point's poll.
    #[inline]
    pub(crate) fn observes_cancel(&self, root: Option<&CancelToken>) -> bool {
        self.token(root).is_some_and(CancelToken::is_cancelled)
    }

    /// `true` the first time it is called: the task's first observation
    /// of its cancel (cancel-latency metrics).
    pub(crate) fn first_cancel_observation(&self) -> bool {
        // Relaxed: only the thread polling the task calls it; the flag
        // orders nothing else.
        !self.cancel_seen.swap(true, Relaxed)
    }

    /// Notes (`inside`) or forgets a cancelled scope the task is still
    /// inside. One is kept (the first noted: an outer one covers inner
    /// ones); forgetting clears only the token that was noted.
    pub(crate) fn note_cancelled_scope(&self, token: &CancelToken, inside: bool) {
        let mut noted = self.noted.lock().unwrap_or_else(|e| e.into_inner());
        match &*noted {
            None if inside => *noted = Some(token.clone()),
            Some(t) if !inside && t.same(token) => *noted = None,
            _ => {}
        }
    }

    /// The cancelled scope the task is still inside, if one was noted.
    pub(crate) fn noted(&self) -> Option<CancelToken> {
        self.noted.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The scope's token as it stands (invariant 2): the own node if it
    /// exists, else the inherited token. `None` with binding off and no own
    /// node.
    pub(crate) fn token<'a>(&'a self, root: Option<&'a CancelToken>) -> Option<&'a CancelToken> {
        self.own.get().or_else(|| self.inherited(root))
    }

    /// The task's own node, created on first call (invariant 1); `None`
    /// once the task completed having lent its scope (`lend.rs`,
    /// invariant 1): nothing can cancel it alone any more.
    pub(crate) fn own(&self, root: Option<&CancelToken>) -> Option<&CancelToken> {
        if let Some(t) = self.own.get() {
            return Some(t);
        }
        // A racing creator may win: its node is the one; ours drops and
        // unlinks itself from the parent.
        self.own.get_or_make(|| match self.inherited(root) {
            Some(parent) => parent.child(),
            None => CancelToken::new(),
        })
    }

    /// The scope's token to hand out (what `current()` returns, what a
    /// spawn inherits): the own node, created now if needed, or the
    /// inherited token once the own slot is sealed. `None` only for a
    /// sealed task with binding off.
    pub(crate) fn scope_token<'a>(
        &'a self,
        root: Option<&'a CancelToken>,
    ) -> Option<&'a CancelToken> {
        self.own(root).or_else(|| self.inherited(root))
    }

    /// What a task spawned from this one's poll, on a scheduler whose root
    /// token is `root` (this task's too), inherits: the own node if it
    /// exists; else this task itself, resolved later (`lend.rs`), the first
    /// time; else the own node, made now (`lend.rs`, invariant 5).
    ///
    /// # Safety
    ///
    /// The caller holds RUNNING (exclusive access to `lent`), and `me` is
    /// the task whose scope this is.
    #[inline]
    pub(crate) unsafe fn lend(&self, root: Option<&CancelToken>, me: RawTask) -> Binding {
        // SAFETY: RUNNING gives this thread exclusive access (contract).
        let lent = self
            .lent
            .with_mut(|p| unsafe { std::mem::replace(&mut *p, true) });
        match self.own.get() {
            Some(t) => Binding::Inherit(t.clone()),
            None if !lent => Binding::Spawner(Deferred::new(me)),
            // Running, so not sealed: the node is made or found.
            None => Binding::Inherit(
                self.own(root)
                    .expect("a running task's own slot is not sealed")
                    .clone(),
            ),
        }
    }

    /// The task completed: if it lent its scope, seal the own slot, so
    /// that its children resolve to what it inherited (`lend.rs`).
    ///
    /// # Safety
    ///
    /// The caller holds RUNNING (exclusive access to `lent`).
    #[inline]
    pub(crate) unsafe fn seal_if_lent(&self) {
        // SAFETY: RUNNING gives this thread exclusive access (contract).
        if self.lent.with(|p| unsafe { *p }) {
            self.own.seal();
        }
    }

    /// Whether the scope is cancelled (by any ancestor, a deadline, or the
    /// task's handle), or the task is inside a cancelled deadline scope.
    pub(crate) fn is_cancelled(&self, root: Option<&CancelToken>) -> bool {
        self.token(root).is_some_and(CancelToken::is_cancelled)
            || self
                .noted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .is_some_and(CancelToken::is_cancelled)
    }

    /// Invariant 4, before the idle transition: register `waker` with the
    /// scope's token (or move the registration to the own node). Returns
    /// `true` if the token is already cancelled: the caller must then
    /// notify the task (its poll may have missed the cancel).
    ///
    /// # Safety
    ///
    /// The caller holds RUNNING (exclusive access to `bind`).
    #[inline]
    pub(crate) unsafe fn bind(&self, root: Option<&CancelToken>, waker: &Waker) -> bool {
        // SAFETY: RUNNING gives this thread exclusive access (contract).
        let bind = self.bind.with(|p| unsafe { *p });
        // The common case, inlined into the harness: already bound, and no
        // own node appeared since (a registration to move).
        match bind {
            Bind::Done | Bind::Registered { on_own: true, .. } => return false,
            Bind::Registered { on_own: false, .. } if self.own.get().is_none() => return false,
            _ => {}
        }
        // SAFETY: forwarded (the caller holds RUNNING).
        unsafe { self.bind_slow(root, waker, bind) }
    }

    /// [`TaskScope::bind`] when there is something to register or move.
    ///
    /// # Safety
    ///
    /// As for [`TaskScope::bind`]; `bind` is the current binding state.
    #[inline(never)]
    unsafe fn bind_slow(&self, root: Option<&CancelToken>, waker: &Waker, bind: Bind) -> bool {
        // `bind` is `Unbound`, or registered with the inherited token while
        // the own node has appeared since: move there.
        if let Bind::Registered { key, on_own: false } = bind {
            if let Some(t) = self.inherited(root) {
                t.deregister_waker(key);
            }
        }
        let own = self.own.get();
        let (next, cancelled) = match self.token(root) {
            None => (Bind::Done, false),
            Some(t) => match t.register_waker(waker) {
                Some(key) => (
                    Bind::Registered {
                        key,
                        on_own: own.is_some(),
                    },
                    false,
                ),
                None => (Bind::Done, true),
            },
        };
        // SAFETY: the caller holds RUNNING (exclusive access, contract).
        self.bind.with_mut(|p| unsafe { *p = next });
        cancelled
    }

    /// Removes the registration (the task completed).
    ///
    /// # Safety
    ///
    /// The caller holds RUNNING (exclusive access to `bind`).
    pub(crate) unsafe fn unbind(&self, root: Option<&CancelToken>) {
        // SAFETY: RUNNING gives this thread exclusive access (contract).
        let bind = self
            .bind
            .with_mut(|p| unsafe { std::mem::replace(&mut *p, Bind::Done) });
        if let Bind::Registered { key, on_own } = bind {
            let token = if on_own {
                self.own.get()
            } else {
                self.inherited(root)
            };
            if let Some(t) = token {
                t.deregister_waker(key);
            }
        }
    }
}
