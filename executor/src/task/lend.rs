//! A spawn that lends the spawner's scope instead of making a node for it.
//!
//! A task that spawns used to make its own cancel node at once, so that the
//! child could inherit it: one allocation, a link under the parent's lock,
//! and a splice under three locks when the node's holders are gone. A chain
//! of tasks each spawning the next and ending paid all of that per hop
//! (docs/benchmarks.md, "chained_spawn"). Now the child holds a ref of the
//! spawner *task* ([`Deferred`]) and resolves its scope when it first
//! needs it (a cancel check, its first park) or completes, so within its
//! first poll, or earlier if something asks (a handle-cancel, a dump):
//!
//! ```text
//!   spawner T                     child C (Binding::Spawner)
//!   spawn ── ref T, T.lent ──────▶ Deferred { spawner: T }
//!   complete: seal T.own if lent   first need (or a handle-cancel, a dump):
//!                                    T.own has a node  → inherit it
//!                                    T.own empty       → make it, inherit it
//!                                    T.own sealed      → inherit T's inherited
//!                                  then let go of T
//! ```
//!
//! # Invariants
//!
//! 1. A task's own slot ([`OwnSlot`]) goes from empty to holding a node or
//!    to sealed, once, with one compare-and-swap; it never changes again.
//!    Only the task's completion seals it, and only if the task lent its
//!    scope to a spawn (`TaskScope::lent`).
//! 2. Hence whoever resolves a child of T (there may be several at once:
//!    the child's first poll, its `JoinHandle::cancel`, a dump) drives
//!    T's slot to its final state and reads the same answer: T's node if
//!    T was alive when the first of them looked (or was handle-cancelled,
//!    or called `current()`, which make the node), T's inherited token if
//!    T had completed first. A handle-cancel of T made the node before it
//!    cancels it, so a child resolved after it inherits the cancelled node
//!    (born cancelled, C10); a handle-cancel that finds the slot sealed
//!    came after T's completion, and cancels nothing (as one that finds
//!    T complete).
//! 3. The spawner's ref is taken out of the child by one compare-and-swap
//!    (pointer → `TAKEN`); whoever takes it resolves, publishes the answer
//!    (Release, a resolved tag), and only then drops the ref. Anyone else
//!    waits for the tag: a bounded step (at most one node made under one
//!    lock, no user code).
//! 4. A task resolves before it seals (both in its completion), so a
//!    sealed spawner's inherited token is there to read. Resolving a child
//!    of a live spawner that is itself unresolved (still in its first
//!    poll) resolves the spawner first, up the spawn ancestry: older
//!    tasks only, so no wait cycle. A child holds its spawner's allocation
//!    only until the end of its own first poll (no chain of retained
//!    tasks).
//! 5. A task lends its scope only to a child whose scheduler has the same
//!    root token (so the child's root resolves the spawner's root binding),
//!    and only once: from its second spawn on, the node pays for itself
//!    (one node for all the children, each holding a handle, as before),
//!    so the task makes it then and the children inherit it at once. A
//!    fan-out costs one lent child, a chain none of its nodes.

use std::ptr::NonNull;

use quell_cancel::CancelToken;

use super::header::Header;
use super::raw::RawTask;
use crate::loom::atomic::{AtomicPtr, AtomicU8, Ordering};
use crate::loom::{thread, UnsafeCell};

const EMPTY: u8 = 0;
/// The compare-and-swap winner is writing the node.
const WRITING: u8 = 1;
const SET: u8 = 2;
const SEALED: u8 = 3;

/// A task's own cancel node: made on first need, or sealed (never to be
/// made) when the task completed having lent its scope (invariant 1).
pub(crate) struct OwnSlot {
    state: AtomicU8,
    node: UnsafeCell<Option<CancelToken>>,
}

impl OwnSlot {
    pub(crate) fn new() -> OwnSlot {
        OwnSlot {
            state: AtomicU8::new(EMPTY),
            node: UnsafeCell::new(None),
        }
    }

    /// The node, if it exists.
    #[inline]
    pub(crate) fn get(&self) -> Option<&CancelToken> {
        // Acquire: pairs with the Release store of SET in `get_or_make`,
        // so the node written before it is visible here.
        if self.state.load(Ordering::Acquire) != SET {
            return None;
        }
        // SAFETY: SET is stored after the one write of `node`, which is
        // never written again (only dropped, with `&mut self`).
        self.node.with(|p| unsafe { (*p).as_ref() })
    }

    /// The node, made by `make` if the slot is empty; `None` if sealed.
    /// `make` runs before the slot is claimed (it may allocate and lock the
    /// parent); a racer's node, if it won, is the one, and ours is dropped.
    pub(crate) fn get_or_make(&self, make: impl FnOnce() -> CancelToken) -> Option<&CancelToken> {
        let mut make = Some(make);
        loop {
            // Acquire: as in `get` (SET); SEALED and EMPTY publish nothing.
            match self.state.load(Ordering::Acquire) {
                SET => return self.get(),
                SEALED => return None,
                // Another thread won and is writing the node: one store.
                WRITING => thread::yield_now(),
                _ => {
                    let Some(make) = make.take() else {
                        unreachable!("the slot never returns to empty")
                    };
                    let node = make();
                    // Relaxed: the winner's exclusive right to write `node`
                    // comes from the CAS itself (one modification order);
                    // the node is published by the Release store below.
                    if self
                        .state
                        .compare_exchange(EMPTY, WRITING, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                    {
                        // SAFETY: WRITING is ours: no one reads `node` until
                        // SET, and no one else writes it (invariant 1).
                        self.node.with_mut(|p| unsafe { *p = Some(node) });
                        // Release: pairs with the Acquire loads in `get` and
                        // above (the node is written before SET is seen).
                        self.state.store(SET, Ordering::Release);
                        return self.get();
                    }
                    // Lost: a node or the seal is there; ours leaves the tree.
                    drop(node);
                }
            }
        }
    }

    /// Seals an empty slot: no node will be made any more. A slot that
    /// holds (or is getting) a node keeps it.
    pub(crate) fn seal(&self) {
        // Relaxed: the seal publishes nothing; a resolver that sees it
        // reads the task's inherited binding, which is fixed at spawn (or
        // published by the task's own resolution: its resolved tag).
        let _ = self
            .state
            .compare_exchange(EMPTY, SEALED, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// A child's binding to the scope of the task that spawned it, resolved
/// lazily (see the module docs).
pub(crate) struct Deferred {
    /// The spawner, whose ref this holds until resolved (invariant 3);
    /// then [`TAKEN`] while a resolver works, and one of the resolved
    /// tags ([`ROOT`], [`TOKEN`], [`NONE`]) once `token` is written.
    state: AtomicPtr<Header>,
    /// The inherited token when resolved to [`TOKEN`].
    token: UnsafeCell<Option<CancelToken>>,
}

/// A resolver took the spawner and is at work.
const TAKEN: usize = 0;
/// Resolved to the child's scheduler's root token (held without a ref).
const ROOT: usize = 1;
/// Resolved to `Deferred::token`.
const TOKEN: usize = 2;
/// Resolved to no token (the spawner had none).
const NONE: usize = 3;

/// A tag of [`Deferred::state`]: an address no header has (headers are
/// aligned to at least 8).
fn tag(t: usize) -> *mut Header {
    std::ptr::without_provenance_mut(t)
}

impl Deferred {
    /// Takes a ref of `spawner` (the task being polled on this thread).
    pub(crate) fn new(spawner: RawTask) -> Deferred {
        spawner.ref_inc();
        Deferred {
            state: AtomicPtr::new(spawner.header_ptr().as_ptr()),
            token: UnsafeCell::new(None),
        }
    }

    /// The inherited token: the spawner's scope as it resolved; `root` is
    /// the child's scheduler's root token (what a root answer means).
    #[inline]
    pub(crate) fn get<'a>(&'a self, root: Option<&'a CancelToken>) -> Option<&'a CancelToken> {
        // Acquire: pairs with the Release store in `resolve_slow`: `token`
        // is written before a resolved tag is seen.
        let state = self.state.load(Ordering::Acquire).addr();
        match state {
            ROOT | TOKEN | NONE => self.answer(state, root),
            _ => self.get_slow(root),
        }
    }

    #[inline(never)]
    fn get_slow<'a>(&'a self, root: Option<&'a CancelToken>) -> Option<&'a CancelToken> {
        self.answer(self.resolve_slow(root), root)
    }

    /// The token a resolved tag stands for (the tag seen by an Acquire
    /// load of `state`, or stored by `resolve_slow` on this thread).
    #[inline]
    fn answer<'a>(
        &'a self,
        resolved: usize,
        root: Option<&'a CancelToken>,
    ) -> Option<&'a CancelToken> {
        match resolved {
            // SAFETY: `token` was written once, before the tag was stored,
            // and is never written again.
            TOKEN => self.token.with(|p| unsafe { (*p).as_ref() }),
            ROOT => root,
            _ => None,
        }
    }

    /// Resolves now if nobody did (the child's completion, at the latest).
    #[inline]
    pub(crate) fn resolve(&self, root: Option<&CancelToken>) {
        let _ = self.get(root);
    }

    /// Resolves, or waits for the resolver at work; returns the tag.
    fn resolve_slow(&self, root: Option<&CancelToken>) -> usize {
        // Acquire (also on failure): as in `get`, for a tag stored since.
        // Success takes the spawner's ref (the RMW's modification order
        // alone decides who; the pointer was written before the task was
        // shared).
        let mut seen = self.state.load(Ordering::Acquire);
        let ptr = loop {
            match seen.addr() {
                TAKEN => {
                    // Another resolver has it: a bounded step.
                    thread::yield_now();
                    seen = self.state.load(Ordering::Acquire);
                }
                ROOT | TOKEN | NONE => return seen.addr(),
                _ => match self.state.compare_exchange(
                    seen,
                    tag(TAKEN),
                    Ordering::Acquire,
                    Ordering::Acquire,
                ) {
                    Ok(p) => break p,
                    Err(now) => seen = now,
                },
            }
        };
        // SAFETY: the ref we took keeps the spawner alive until we drop it;
        // `ptr` is a header (not a tag: those are matched above).
        let spawner = unsafe { RawTask::from_raw(NonNull::new_unchecked(ptr)) };
        // SAFETY: as above (a live task's trailer).
        let scope = unsafe { &Header::trailer(spawner.header_ptr()).scope };
        // The spawner's root is ours (invariant 5), so `root` resolves its
        // root binding too.
        let resolved = match scope.scope_token(root) {
            Some(t) if root.is_some_and(|r| r.same(t)) => ROOT,
            Some(t) => {
                // SAFETY: TAKEN is ours: we are the only writer, and no one
                // reads `token` before a resolved tag (invariant 3).
                self.token.with_mut(|p| unsafe { *p = Some(t.clone()) });
                TOKEN
            }
            None => NONE,
        };
        // Release: pairs with the Acquire loads in `get` and above.
        self.state.store(tag(resolved), Ordering::Release);
        spawner.drop_reference();
        resolved
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        // Never resolved (dropped before it completed: a runtime shut down
        // with the task queued): let go of the spawner. Relaxed: `&mut self`.
        let state = self.state.load(Ordering::Relaxed);
        if state.addr() > NONE {
            // SAFETY: not a tag, so the spawner whose ref this binding
            // holds since `new`.
            unsafe { RawTask::from_raw(NonNull::new_unchecked(state)) }.drop_reference();
        }
    }
}
