//! Loom models of the executor's protocols (run by `ci/loom.sh`).
//!
//! ```text
//! loom_task_wake.rs      C1, C4: wake racing the poll, join waker, join-handle drop
//! loom_current_thread.rs C1, C5: a remote wake racing the current-thread driver's sleep
//! loom_task_cancel.rs    C2, C3, C8: abort / cancel / token cancel racing the idle transition
//! loom_task_refcount.rs  C4: the last ref dropped by a waker, an AbortHandle or the JoinHandle
//! loom_group.rs          a group's first failure racing a concurrent member failure
//! loom_park.rs           C5: a push racing a worker going to park; Parker/Unparker
//! loom_scope.rs          C10, C11: handle-cancel vs a child spawn; join cancel vs completion
//! loom_lend.rs           C10: a child inheriting through its spawner, resolving against cancels
//! loom_lifo.rs           C5, C13: LIFO fills, offered or deferred, and a quiet wake batch, racing searchers and parkers
//! util.rs                a test scheduler, observable futures, drop counters, wakers
//! ```
//!
//! The module is compiled only under `--cfg loom` (see `lib.rs`): the
//! runtime is compiled out there, so the task models drive `task::new_task`
//! with [`util::TestSched`], and the scheduler models drive
//! `scheduler::Handle`, `worker::run` and `Parker` directly.
//!
//! Every model ends with every task complete and every handle dropped, so
//! loom's end-of-execution leak check (every `loom::sync::Arc` freed) also
//! checks that each task allocation was freed: a task cell owns an `Arc` of
//! its scheduler.
//!
//! ```text
//! RUSTFLAGS="--cfg loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test --release -p quell-executor --lib loom -- --test-threads=2
//! ```

mod loom_current_thread;
mod loom_group;
mod loom_lend;
mod loom_lifo;
mod loom_park;
mod loom_scope;
mod loom_task_cancel;
mod loom_task_refcount;
mod loom_task_wake;
mod util;

/// Runs `f` under loom with the preemption bound of `LOOM_MAX_PREEMPTIONS`,
/// or 2 when unset (CONVENTIONS.md, "Tests").
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    b.check(f);
}

/// [`model`] with the preemption bound capped at `cap`: for a model whose
/// state space at the default bound does not fit CI (the caller says how
/// long it ran). Every interleaving with at most `cap` preemptions is
/// still explored.
fn model_capped(cap: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(b.preemption_bound.map_or(cap, |n| n.min(cap)));
    b.check(f);
}
