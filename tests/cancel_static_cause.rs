//! `Cause::from_static` allocates nothing: a counting global allocator
//! (this binary only) shows that building a static cause, cancelling a
//! token with it, waking the task parked on the token, and reading the
//! cause back costs no allocation, where `Cause::explicit` does allocate.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

use quell::cancel::{CancelToken, Cancelled, Cause, CauseKind};

/// Counts the allocations made by the current thread (the test harness
/// runs tests on several threads; each test counts only its own).
struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn note_alloc() {
    // `try_with`: the allocator may run while this thread's locals are
    // being torn down; those allocations are not ours to count.
    let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; counting touches only a
// const-initialised thread-local `Cell` (no allocation, no destructor).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: forwarded from our caller, who upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_alloc();
        // SAFETY: `ptr`/`layout` came from this allocator, which is `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr`/`layout` came from this allocator, which is `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many allocations this thread made while running `f`.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCS.with(Cell::get);
    let r = f();
    (ALLOCS.with(Cell::get) - before, r)
}

/// A waker that counts its wakes: stands in for a task parked on the token.
struct Parked(AtomicUsize);

impl Wake for Parked {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A token with one parked waiter, set up before counting starts. The
/// token's waiter list allocates its free-slot list the first time an
/// entry leaves it (bookkeeping of the list, not of the cause), so one
/// register/deregister round warms it: what is counted after that is the
/// cancel itself.
fn parked_token() -> (CancelToken, Arc<Parked>) {
    let token = CancelToken::new();
    let parked = Arc::new(Parked(AtomicUsize::new(0)));
    let waker = Waker::from(parked.clone());
    let warm = token.register_waker(&waker).unwrap();
    token.deregister_waker(warm);
    assert!(token.register_waker(&waker).is_some());
    (token, parked)
}

#[test]
fn cancel_with_static_cause_allocates_nothing() {
    let (token, parked) = parked_token();
    let (n, cancelled) = allocations(|| {
        let first = token.cancel(Cause::from_static("connection idle"));
        // Reading it back (a clone) and wrapping it as the error await
        // points return allocate nothing either.
        let cause = token.cause().unwrap();
        let err = token.cancelled_error().unwrap();
        (first, cause, err)
    });
    assert_eq!(n, 0, "a static cause must not allocate");
    let (first, cause, err) = cancelled;
    assert!(first);
    assert_eq!(
        parked.0.load(Ordering::Relaxed),
        1,
        "the parked waiter was woken"
    );
    assert_eq!(cause.kind(), &CauseKind::Explicit);
    assert_eq!(cause.message(), Some("connection idle"));
    assert!(err.cause().same(&cause));
    assert!(!err.is_inherited());
}

#[test]
fn static_cause_reaches_children_unchanged() {
    // Cancelling a subtree allocates its work list (children), so here we
    // check only that what descendants see is the static cause, `same`
    // as the one the canceller passed.
    const STOP: Cause = Cause::from_static("stop");
    let root = CancelToken::new();
    let child = root.child();
    let grandchild = child.child();
    assert!(root.cancel(STOP));
    let seen: Cancelled = grandchild.cancelled_error().unwrap();
    assert!(seen.is_inherited());
    assert!(seen.cause().same(&STOP));
    assert_eq!(
        seen.to_string(),
        "cancelled: stop (inherited from an ancestor scope)"
    );
}

#[test]
fn allocating_cause_is_counted() {
    // The counter is live: the same path with an allocating cause counts.
    let (token, parked) = parked_token();
    let (n, first) = allocations(|| token.cancel(Cause::explicit("connection idle")));
    assert!(first);
    assert_eq!(parked.0.load(Ordering::Relaxed), 1);
    assert!(n >= 1, "Cause::explicit allocates (counted {n})");
}
