//! `Runtime` and `Handle` are unwind safe: `catch_unwind(|| rt.block_on(..))`
//! compiles, and a panic caught that way leaves the runtime usable.

mod support;

use std::panic::{catch_unwind, RefUnwindSafe, UnwindSafe};

use support::*;

const fn assert_unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}
const _: () = assert_unwind_safe::<quell::Runtime>();
const _: () = assert_unwind_safe::<quell::Handle>();

#[test]
fn a_panic_in_block_on_caught_by_catch_unwind_leaves_the_runtime_usable() {
    let _dog = watchdog("unwind");
    let rt = rt(2);
    let r = catch_unwind(|| {
        rt.block_on(async {
            let h = quell::spawn(async { 1 });
            assert_eq!(h.await.unwrap(), 1);
            panic!("boom inside block_on");
        })
    });
    let msg = r.unwrap_err();
    assert_eq!(msg.downcast_ref::<&str>(), Some(&"boom inside block_on"));
    // The runtime still runs tasks, and block_on works again.
    let out = rt.block_on(async {
        let a = quell::spawn(async { 20 });
        let b = rt.spawn(async { 22 });
        a.await.unwrap() + b.await.unwrap()
    });
    assert_eq!(out, 42);
    // A task's panic is its join's error, not the runtime's.
    assert!(rt
        .block_on(rt.spawn(async { panic!("task") }))
        .unwrap_err()
        .is_panic());
    drop(rt);
}
