//! The task allocation: header, trailer, scheduler handle and the future's
//! stage, in one `#[repr(C)]` block.
//!
//! ```text
//! Cell<F, S>  (one Box, #[repr(C)])
//! ┌──────────────┬───────────────────────────┬───────────┬───────────────────┐
//! │ Header (hot) │ Trailer (cold)            │ S         │ Stage<F>          │
//! │ state word   │ join waker slot, meta,    │ scheduler │ Running(F) /      │
//! │ vtable, id   │ cancel scope, name, site  │ handle    │ Finished(output)  │
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

use super::error::JoinError;
use super::id::Id;
use super::scope::TaskScope;
use super::state::State;
use crate::loom::UnsafeCell;

/// Functions specialised for one `(F, S)` pair.
pub(crate) struct Vtable {
    /// Poll the future (the caller owns a `Notified` ref).
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Hand a `Notified` (whose ref the caller reserved) to the scheduler.
    /// The caller holds another ref until the call returns.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Free the allocation.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: write `Poll<Result<T, JoinError>>` to `dst` if ready.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// `JoinHandle` drop, slow path.
    pub(crate) drop_join_handle_slow: unsafe fn(NonNull<Header>),
    /// Runtime shutdown (the caller passes in the owned-list ref).
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
    /// Calls `f` with the task's scope and the scheduler's root token
    /// (which resolves a root binding).
    pub(crate) with_scope: unsafe fn(NonNull<Header>, &mut ScopeFn<'_>),
    /// The task's scheduler's timer ([`super::Schedule::wake_at`]).
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) wake_at: unsafe fn(NonNull<Header>, std::time::Instant, Waker) -> Result<(), Waker>,
    /// [`super::Schedule::ANY_THREAD`] of the task's scheduler: whether an
    /// abort may poll (drop) the future on the calling thread.
    pub(crate) any_thread: bool,
}

/// A visitor of a task's scope ([`Vtable::with_scope`]).
pub(crate) type ScopeFn<'a> = dyn FnMut(ScopeRef<'_>) + 'a;

/// A task's scope with the root token that resolves it.
#[derive(Clone, Copy)]
pub(crate) struct ScopeRef<'a> {
    pub(crate) scope: &'a TaskScope,
    pub(crate) root: Option<&'a quell_cancel::CancelToken>,
}

impl<'a> ScopeRef<'a> {
    /// The scope's token as it stands (see [`TaskScope::token`]).
    pub(crate) fn token(self) -> Option<&'a quell_cancel::CancelToken> {
        self.scope.token(self.root)
    }

    /// The task's own node, created on first call; `None` once sealed
    /// (see [`TaskScope::own`]).
    pub(crate) fn own(self) -> Option<&'a quell_cancel::CancelToken> {
        self.scope.own(self.root)
    }

    /// The scope's token to hand out (see [`TaskScope::scope_token`]).
    pub(crate) fn scope_token(self) -> Option<&'a quell_cancel::CancelToken> {
        self.scope.scope_token(self.root)
    }
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

/// Cold fields.
#[repr(C)]
pub(crate) struct Trailer {
    /// The join waker; ownership follows the JOIN_WAKER rules in `state.rs`.
    pub(crate) waker: UnsafeCell<Option<Waker>>,
    /// The task's cancel scope (`scope.rs`).
    pub(crate) scope: TaskScope,
    pub(crate) name: Option<Box<str>>,
    pub(crate) location: &'static Location<'static>,
    /// When the task was last queued, for the schedule-latency histogram
    /// (`metrics::stats::Stats::stamp_now`; 0: not stamped). Written only
    /// with histograms on, by whoever queues the task; read by the worker
    /// that polls it, after the queue handed it over. A `std` atomic: a
    /// metric, part of no protocol loom checks.
    pub(crate) scheduled_at: std::sync::atomic::AtomicU64,
    /// What the task waits on, filled by its await points (task dumps).
    pub(crate) wait: quell_cancel::rt_internal::wait::WaitSlot,
    /// The id of the task that spawned this one (the one being polled on
    /// the thread that allocated it); 0: none.
    pub(crate) parent: u64,
    /// Where the first `abort` of the task was called (null: never). A
    /// `std` atomic holding only `&'static` locations: read by dumps,
    /// part of no protocol loom checks.
    pub(crate) aborted_by: std::sync::atomic::AtomicPtr<Location<'static>>,
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
            binding,
            name,
            location,
            parent,
        } = meta;
        // Written in place: the cell is a few hundred bytes, and building
        // it on the stack first cost a `memcpy` per spawn.
        let mut cell = Box::<Cell<F, S>>::new_uninit();
        let p = cell.as_mut_ptr();
        // SAFETY: `p` points to the uninitialised allocation; each field is
        // written exactly once below, so the cell is initialised when
        // `assume_init` runs.
        let cell = unsafe {
            std::ptr::addr_of_mut!((*p).header).write(Header {
                state: State::new(),
                vtable,
                id,
                owned_slot: UnsafeCell::new(usize::MAX),
            });
            std::ptr::addr_of_mut!((*p).trailer).write(Trailer {
                waker: UnsafeCell::new(None),
                scope: TaskScope::new(binding),
                name,
                location,
                scheduled_at: std::sync::atomic::AtomicU64::new(0),
                wait: quell_cancel::rt_internal::wait::WaitSlot::new(),
                parent,
                aborted_by: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
            });
            std::ptr::addr_of_mut!((*p).scheduler).write(scheduler);
            std::ptr::addr_of_mut!((*p).stage).write(UnsafeCell::new(Stage::Running(future)));
            cell.assume_init()
        };
        debug_assert_eq!(
            std::ptr::addr_of!(cell.trailer) as usize - std::ptr::addr_of!(cell.header) as usize,
            trailer_offset()
        );
        cell
    }
}

impl Trailer {
    /// Notes `by` as the abort's call site unless one is noted already.
    pub(crate) fn note_aborted_by(&self, by: &'static Location<'static>) {
        use std::sync::atomic::Ordering::Relaxed;
        // Relaxed: a `&'static` pointer for display, ordered with nothing.
        let by = std::ptr::from_ref(by).cast_mut();
        let _ = self
            .aborted_by
            .compare_exchange(std::ptr::null_mut(), by, Relaxed, Relaxed);
    }

    /// The task that spawned this one, if any.
    pub(crate) fn parent(&self) -> Option<Id> {
        (self.parent != 0).then_some(Id(self.parent))
    }

    /// Where the task was first aborted, if it was.
    pub(crate) fn aborted_by(&self) -> Option<&'static Location<'static>> {
        let p = self.aborted_by.load(std::sync::atomic::Ordering::Relaxed);
        // SAFETY: only ever null or a `&'static Location` (`note_aborted_by`).
        unsafe { p.cast_const().as_ref() }
    }

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
                quell_cancel::rt_internal::waiters::wake_by_ref(w);
            }
        });
    }
}
