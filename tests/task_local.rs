//! `task_local!`: a value scoped to a future, seen across its await points,
//! never by another task on the same worker, restored by nested scopes and
//! by unwinding.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use quell::runtime::Builder;
use quell::task::yield_now;

quell::task_local! {
    static NAME: &'static str;
    static DEPTH: u32;
}

fn one_worker() -> quell::Runtime {
    Builder::new().worker_threads(1).build().unwrap()
}

#[test]
fn tasks_on_one_worker_see_their_own_values() {
    const ROUNDS: usize = 50;
    let rt = one_worker();
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    rt.block_on(async move {
        // Spawned from a task, so all three are queued on the one worker
        // before any runs; each `yield_now` sends its task to the back of
        // the queue, so their polls interleave.
        let parent = quell::spawn(async move {
            let mut hs = Vec::new();
            for name in ["a", "b"] {
                let log = log2.clone();
                hs.push(quell::spawn(NAME.scope(name, async move {
                    for _ in 0..ROUNDS {
                        assert_eq!(NAME.get(), name, "a task sees only its own value");
                        log.lock().unwrap().push(name);
                        yield_now().await;
                    }
                })));
            }
            let log = log2.clone();
            hs.push(quell::spawn(async move {
                for _ in 0..ROUNDS {
                    assert!(NAME.try_with(|_| ()).is_err(), "no scope, no value");
                    log.lock().unwrap().push("none");
                    yield_now().await;
                }
            }));
            for h in hs {
                h.await.unwrap();
            }
        });
        parent.await.unwrap();
    });
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 3 * ROUNDS);
    let switches = log.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(
        switches >= ROUNDS,
        "the tasks interleaved ({switches} switches)"
    );
    assert!(
        NAME.try_with(|_| ()).is_err(),
        "nothing leaked to this thread"
    );
}

#[test]
fn nested_scopes_stack_and_restore() {
    let rt = one_worker();
    rt.block_on(DEPTH.scope(1, async {
        assert_eq!(DEPTH.get(), 1);
        DEPTH
            .scope(2, async {
                yield_now().await;
                assert_eq!(DEPTH.get(), 2);
                // Another key is independent of this one.
                NAME.scope("inner", async {
                    yield_now().await;
                    assert_eq!((DEPTH.get(), NAME.get()), (2, "inner"));
                })
                .await;
                assert!(NAME.try_with(|_| ()).is_err());
                assert_eq!(DEPTH.sync_scope(3, || DEPTH.get()), 3);
                assert_eq!(DEPTH.get(), 2);
            })
            .await;
        yield_now().await;
        assert_eq!(DEPTH.get(), 1, "the outer value is back");
    }));
}

#[test]
fn a_panic_inside_a_scope_leaves_the_outer_value() {
    let rt = one_worker();
    rt.block_on(DEPTH.scope(1, async {
        // A panic in an inner async scope, after an await.
        let inner = AssertUnwindSafe(DEPTH.scope(2, async {
            yield_now().await;
            assert_eq!(DEPTH.get(), 2);
            panic!("inner scope fails");
        }));
        assert!(inner.catch_unwind().await.is_err());
        assert_eq!(DEPTH.get(), 1);

        // And in an inner sync scope.
        let r = catch_unwind(|| DEPTH.sync_scope(3, || panic!("sync scope fails")));
        assert!(r.is_err());
        assert_eq!(DEPTH.get(), 1);
    }));

    // A task that panics inside nested scopes leaves its worker clean.
    let h = rt.spawn(DEPTH.scope(1, async {
        DEPTH
            .scope(2, async {
                yield_now().await;
                panic!("task fails");
            })
            .await
    }));
    assert!(rt.block_on(h).unwrap_err().is_panic());
    let after = rt.spawn(async { DEPTH.try_with(|d| *d).is_err() });
    assert!(
        rt.block_on(after).unwrap(),
        "the worker's slot is empty again"
    );
}

#[test]
fn access_outside_a_scope_errors_clearly() {
    let err = DEPTH.try_with(|d| *d).unwrap_err();
    assert_eq!(
        err.to_string(),
        "task-local value not set: not inside a `LocalKey::scope` or `sync_scope` of this key"
    );
    let panic = catch_unwind(|| DEPTH.get()).unwrap_err();
    let msg = panic.downcast_ref::<String>().unwrap();
    assert!(msg.contains("task-local value not set"), "{msg}");
}

#[test]
fn a_dropped_scoped_future_drops_inside_its_scope() {
    struct SeesName(Arc<Mutex<Option<&'static str>>>);
    impl Drop for SeesName {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = NAME.try_with(|n| *n).ok();
        }
    }
    let seen = Arc::new(Mutex::new(None));
    let guard = SeesName(seen.clone());
    let fut = NAME.scope("dropping", async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    // Polled once so the guard lives in the future's state, then dropped.
    let mut fut = Box::pin(fut);
    assert!(fut.as_mut().now_or_never().is_none());
    drop(fut);
    assert_eq!(*seen.lock().unwrap(), Some("dropping"));
    assert!(NAME.try_with(|_| ()).is_err());
}
