//! The task allocation: header, trailer, scheduler handle and the future's
//! stage, in one `#[repr(C)]` block.
//!
//! ```text
//! Cell<F, S>  (one Box, #[repr(C)])
//! ┌──────────────┬───────────────────────────┬───────────┬───────────────────┐
//! │ Header (hot) │ Trailer (cold)            │ S         │ Stage<F>          │
//! │ state word   │ join waker slot, meta,    │ scheduler │ Running(F) /      │
//! │ vtable, id   │ cancel binding, own cause │ handle    │ Finished(output)  │
//! └──────────────┴───────────────────────────┴───────────┴───────────────────┘
//! ```
//!
//! The header and trailer come first and do not depend on `F`, so code that
//! only has a `NonNull<Header>` reaches the trailer at a fixed offset; all
//! `F`-dependent work goes through the vtable.

use std::future::Future;
use std::panic::Location;
use std::ptr::NonNull;
use std::task::Waker;

use quell_cancel::{CancelToken, Cause, WaiterKey};

use super::error::JoinError;
use super::id::Id;
use super::state::State;
use crate::loom::{Mutex, UnsafeCell};

/// Functions specialised for one `(F, S)` pair.
pub(crate) struct Vtable {
    /// Poll the future (the caller owns a `Notified` ref).
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Hand a `Notified` (whose ref the caller reserved) to the scheduler.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Free the allocation.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: write `Poll<Result<T, JoinError>>` to `dst` if ready.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// `JoinHandle` drop, slow path.
    pub(crate) drop_join_handle_slow: unsafe fn(NonNull<Header>),
    /// Runtime shutdown (the caller passes in the owned-list ref).
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
    /// The task's scheduler's timer ([`super::Schedule::wake_at`]).
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) wake_at: unsafe fn(NonNull<Header>, std::time::Instant, Waker) -> Result<(), Waker>,
}

/// Hot fields, first in the allocation.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    pub(crate) id: Id,
    /// Index in the owned-task list; written and read under its shard lock.
    pub(crate) owned_slot: UnsafeCell<usize>,
}

/// Where the task is in its binding to its cancel token. Only the thread
/// that holds RUNNING touches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bind {
    /// Not registered with the token yet (tasks register on first park).
    Unbound,
    /// Registered: the token's cancel will wake this task.
    Registered(WaiterKey),
    /// Nothing to do: binding disabled, or the token was already cancelled.
    Done,
}

/// Cold fields.
#[repr(C)]
pub(crate) struct Trailer {
    /// The join waker; ownership follows the JOIN_WAKER rules in `state.rs`.
    pub(crate) waker: UnsafeCell<Option<Waker>>,
    /// The token the task runs under (`None`: the scheduler's root token
    /// if `root`, else binding switched off).
    pub(crate) token: Option<CancelToken>,
    /// Bound to the scheduler's root token (held by the scheduler, so the
    /// task holds no ref of it: no shared refcount on the spawn path).
    pub(crate) root: bool,
    pub(crate) bind: UnsafeCell<Bind>,
    /// The cause of `JoinHandle::cancel`; written before CANCELLED is set.
    pub(crate) own_cause: Mutex<Option<Cause>>,
    pub(crate) name: Option<Box<str>>,
    pub(crate) location: &'static Location<'static>,
}

/// The future, then its output.
pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The whole allocation.
#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    pub(crate) header: Header,
    pub(crate) trailer: Trailer,
    pub(crate) scheduler: S,
    pub(crate) stage: UnsafeCell<Stage<F>>,
}

impl Header {
    /// The trailer of the task whose header this is.
    ///
    /// # Safety
    ///
    /// `me` must point to the header of a live `Cell<_, _>`.
    pub(crate) unsafe fn trailer<'a>(me: NonNull<Header>) -> &'a Trailer {
        // `Cell` is #[repr(C)] with `header` then `trailer`, so the
        // trailer's offset depends only on `Header` and `Trailer`.
        let offset = trailer_offset();
        // SAFETY: per the function contract the allocation is a live Cell,
        // which contains a Trailer at `offset`.
        unsafe { &*me.as_ptr().cast::<u8>().add(offset).cast::<Trailer>() }
    }
}

const fn trailer_offset() -> usize {
    let size = std::mem::size_of::<Header>();
    let align = std::mem::align_of::<Trailer>();
    size.div_ceil(align) * align
}

impl<F: Future, S> Cell<F, S> {
    pub(crate) fn new(
        future: F,
        scheduler: S,
        id: Id,
        vtable: &'static Vtable,
        meta: super::Meta,
    ) -> Box<Cell<F, S>> {
        let super::Meta {
            token,
            root,
            name,
            location,
        } = meta;
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable,
                id,
                owned_slot: UnsafeCell::new(usize::MAX),
            },
            trailer: Trailer {
                waker: UnsafeCell::new(None),
                bind: UnsafeCell::new(if token.is_some() || root {
                    Bind::Unbound
                } else {
                    Bind::Done
                }),
                token,
                root,
                own_cause: Mutex::new(None),
                name,
                location,
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        debug_assert_eq!(
            std::ptr::addr_of!(cell.trailer) as usize - std::ptr::addr_of!(cell.header) as usize,
            trailer_offset()
        );
        cell
    }
}

impl Trailer {
    /// # Safety
    ///
    /// The caller has exclusive access to the waker slot (JOIN_WAKER rules).
    pub(crate) unsafe fn set_waker(&self, waker: Option<Waker>) {
        // SAFETY: exclusive access per the contract.
        self.waker.with_mut(|p| unsafe { *p = waker });
    }

    /// # Safety
    ///
    /// The caller may read the waker slot (JOIN_WAKER rules).
    pub(crate) unsafe fn will_wake(&self, waker: &Waker) -> bool {
        // SAFETY: read access per the contract.
        self.waker
            .with(|p| unsafe { (*p).as_ref().is_some_and(|w| w.will_wake(waker)) })
    }

    /// Wakes the join waker. A panicking waker is contained: the task's
    /// completion must not be lost to user code.
    ///
    /// # Safety
    ///
    /// The caller may read the waker slot (rule 4: COMPLETE and JOIN_WAKER set).
    pub(crate) unsafe fn wake_join(&self) {
        self.waker.with(|p| {
            // SAFETY: read access per the contract (rule 4).
            if let Some(w) = unsafe { &*p } {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.wake_by_ref()));
            }
        });
    }
}
