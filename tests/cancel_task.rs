//! Cancellation reaches tasks wherever they wait (contracts C2, C8), the
//! failures Go users hit, checked on the real runtime.

mod support;

use std::future::{pending, poll_fn, Future};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::task::Poll;

use quell::cancel::{self, CancelToken, CancellableExt, Cause, CauseKind};
use quell::task::SpawnBuilder;
use support::*;

/// A future that counts its polls and never completes.
fn counted_pending(polls: Arc<AtomicUsize>) -> impl Future<Output = ()> {
    poll_fn(move |_| {
        polls.fetch_add(1, SeqCst);
        Poll::Pending
    })
}

#[test]
fn cancel_before_the_first_await_never_sleeps() {
    let _dog = watchdog("cancel before first await");
    let rt = rt(1);
    // Keep the only worker busy so the subject is cancelled while queued.
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let (busy_tx, busy_rx) = mpsc::channel();
    rt.spawn(async move {
        busy_tx.send(()).unwrap();
        let _ = gate_rx.recv_timeout(HANG);
    });
    recv(&busy_rx);
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let h = rt.spawn(async move {
        let first = cancel::checkpoint().await;
        let wait = counted_pending(p).cancellable().await;
        (first.map_err(|c| c.cause().clone()), wait.is_err())
    });
    assert!(h.cancel(Cause::explicit("stop early")));
    assert!(!h.cancel(Cause::explicit("second cause loses")));
    gate_tx.send(()).unwrap();
    let (first, wait_cancelled) = rt.block_on(h).unwrap();
    let cause = first.unwrap_err();
    assert_eq!(cause.message(), Some("stop early"));
    assert!(wait_cancelled);
    assert_eq!(
        polls.load(SeqCst),
        0,
        "the cancelled wait never polled its inner future"
    );
}

#[test]
fn a_parked_task_is_woken_by_its_cancel_and_sees_the_cause() {
    let _dog = watchdog("parked cancel");
    let rt = rt(2);
    let (parked_tx, parked_rx) = mpsc::channel();
    let h = rt.spawn(async move {
        parked_tx.send(()).unwrap();
        let r = pending::<()>().cancellable().await;
        // Sticky: every later await point answers Cancelled too.
        let again = cancel::checkpoint().await;
        (r.unwrap_err(), again.is_err())
    });
    recv(&parked_rx);
    h.cancel(Cause::explicit("client went away"));
    let (c, sticky) = rt.block_on(h).unwrap();
    assert_eq!(c.cause().message(), Some("client went away"));
    assert!(!c.is_inherited());
    assert!(sticky);
}

/// The await-point check reads the scope as it stands on every poll: a
/// handle-cancel made while the task is in the middle of a poll (which
/// creates the task's own node then) is seen by the next await point of
/// that same poll, as is a cancel of `current()` made by the task itself.
#[test]
fn a_cancel_made_during_a_poll_is_seen_by_that_polls_next_await_point() {
    let _dog = watchdog("cancel during a poll");
    let rt = rt(2);
    let (running_tx, running_rx) = mpsc::channel();
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let h = rt.spawn(async move {
        let before = cancel::checkpoint().await.is_ok();
        running_tx.send(()).unwrap();
        // Blocks the worker inside this poll until the handle-cancel is
        // done: no await point in between, so the checkpoint below runs in
        // the poll that was running when the cancel came.
        gate_rx.recv_timeout(HANG).unwrap();
        let after = cancel::checkpoint().await;
        (before, after.map_err(|c| c.cause().clone()))
    });
    recv(&running_rx);
    assert!(h.cancel(Cause::explicit("mid-poll")));
    gate_tx.send(()).unwrap();
    let (before, after) = rt.block_on(h).unwrap();
    assert!(before);
    assert_eq!(after.unwrap_err().message(), Some("mid-poll"));

    let own = rt.block_on(rt.spawn(async {
        let before = cancel::checkpoint().await.is_ok();
        cancel::current().cancel(Cause::explicit("self"));
        (
            before,
            cancel::checkpoint().await.map_err(|c| c.cause().clone()),
        )
    }));
    let (before, after) = own.unwrap();
    assert!(before);
    assert_eq!(after.unwrap_err().message(), Some("self"));
}

#[test]
fn grandchild_sees_a_root_cancel_with_the_root_cause() {
    let _dog = watchdog("grandchild");
    let rt = rt(2);
    let root = CancelToken::new();
    let (parked_tx, parked_rx) = mpsc::channel();
    let child = SpawnBuilder::new().token(root.child()).spawn_on(
        async move {
            // Spawned inside: inherits the child token.
            let grandchild = quell::spawn(async move {
                parked_tx.send(()).unwrap();
                let e = pending::<()>().cancellable().await.unwrap_err();
                (e, cancel::current().is_cancelled())
            });
            grandchild.await.unwrap()
        },
        rt.handle(),
    );
    recv(&parked_rx);
    root.cancel(Cause::explicit("root says stop"));
    let (e, token_cancelled) = rt.block_on(child).unwrap();
    assert!(token_cancelled);
    assert!(
        e.is_inherited(),
        "the grandchild's token is a child of root"
    );
    assert!(
        e.cause().same(&root.cause().unwrap()),
        "the originating cause"
    );
    assert_eq!(e.cause().message(), Some("root says stop"));
}

#[test]
fn a_childs_cancel_leaves_parent_and_siblings_running() {
    let _dog = watchdog("child cancel");
    let rt = rt(2);
    let parent = CancelToken::new();
    let a = parent.child();
    let b = parent.child();
    let (parked_tx, parked_rx) = mpsc::channel();
    let spawn_waiter = |t: CancelToken, tx: mpsc::Sender<()>| {
        SpawnBuilder::new().token(t).spawn_on(
            async move {
                tx.send(()).unwrap();
                pending::<()>().cancellable().await.is_err()
            },
            rt.handle(),
        )
    };
    let ha = spawn_waiter(a.clone(), parked_tx.clone());
    let hb = spawn_waiter(b.clone(), parked_tx.clone());
    let hp = spawn_waiter(parent.clone(), parked_tx);
    for _ in 0..3 {
        recv(&parked_rx);
    }
    a.cancel(Cause::explicit("only a"));
    assert!(rt.block_on(ha).unwrap());
    assert!(!parent.is_cancelled() && !b.is_cancelled());
    assert!(!hb.is_finished() && !hp.is_finished());
    // They are still alive and cancellable afterwards.
    parent.cancel(Cause::shutdown());
    assert!(rt.block_on(hb).unwrap());
    assert!(rt.block_on(hp).unwrap());
    assert_eq!(b.cause().unwrap().kind(), &CauseKind::Shutdown);
}

#[test]
fn a_task_ignoring_cancellation_is_still_aborted() {
    let _dog = watchdog("abort ignorer");
    let rt = rt(2);
    let drops = DropCount::new();
    let tag = drops.tag();
    let (parked_tx, parked_rx) = mpsc::channel();
    let h = rt.spawn(async move {
        let _t = tag;
        // Ignores cancellation: a wait that is not a runtime await point,
        // reporting every poll.
        poll_fn(|_| {
            let _ = parked_tx.send(());
            Poll::<()>::Pending
        })
        .await;
    });
    recv(&parked_rx);
    h.cancel(Cause::explicit("please stop"));
    // The cancel woke it (it re-parked); it keeps ignoring.
    recv(&parked_rx);
    assert!(!h.is_finished());
    h.abort();
    let e = rt.block_on(h).unwrap_err();
    assert!(e.is_aborted());
    assert_eq!(drops.get(), 1);
}

#[test]
fn shielded_cleanup_runs_to_completion_after_cancel() {
    let _dog = watchdog("shield");
    let rt = rt(2);
    let (parked_tx, parked_rx) = mpsc::channel();
    let h = rt.spawn(async move {
        parked_tx.send(()).unwrap();
        let e = pending::<()>().cancellable().await.unwrap_err();
        // Cleanup: await points inside the shield answer normally.
        let inner = cancel::shield(async { cancel::checkpoint().await.is_ok() }).await;
        (
            e.cause().message().map(str::to_owned),
            inner,
            cancel::checkpoint().await.is_err(),
        )
    });
    recv(&parked_rx);
    h.cancel(Cause::explicit("bye"));
    let (msg, shielded_ok, outside_err) = rt.block_on(h).unwrap();
    assert_eq!(msg.as_deref(), Some("bye"));
    assert!(shielded_ok);
    assert!(outside_err);
}

#[test]
fn spawn_blocking_sees_the_spawners_token() {
    let _dog = watchdog("blocking token");
    let rt = rt(1);
    let token = CancelToken::new();
    let (started_tx, started_rx) = mpsc::channel();
    let t = token.clone();
    let h = SpawnBuilder::new().token(token.clone()).spawn_on(
        async move {
            quell::task::spawn_blocking(move || {
                // Its scope is under the spawner's, which is under `t`.
                assert!(t.is_ancestor_of(&cancel::current()));
                started_tx.send(()).unwrap();
                let start = std::time::Instant::now();
                while !cancel::current().is_cancelled() {
                    assert!(start.elapsed() < HANG, "hang");
                    std::thread::yield_now();
                }
                "saw cancel"
            })
            .await
            .unwrap()
        },
        rt.handle(),
    );
    recv(&started_rx);
    token.cancel(Cause::explicit("stop blocking work"));
    assert_eq!(rt.block_on(h).unwrap(), "saw cancel");
}

#[test]
fn block_on_runs_under_the_runtime_root_token() {
    let rt = rt(1);
    let root = rt.handle().root_token().clone();
    let same = rt.block_on(async { cancel::current() });
    assert!(same.same(&root));
    let (parked_tx, parked_rx) = mpsc::channel();
    let h = rt.spawn(async move {
        parked_tx.send(()).unwrap();
        pending::<()>().cancellable().await.unwrap_err()
    });
    recv(&parked_rx);
    root.cancel(Cause::shutdown());
    let e = rt.block_on(h).unwrap();
    assert_eq!(e.cause().kind(), &CauseKind::Shutdown);
}

/// A cancel that reaches several parked tasks queues them in the order
/// they parked (one wake batch: the first woken runs first), rather than
/// each wake taking the worker's LIFO slot from the previous one (which ran
/// the last woken first). One worker, so the order is the run order.
#[test]
fn a_cancel_from_a_task_runs_the_tasks_it_reaches_in_wake_order() {
    let _dog = watchdog("cancel fan-out order");
    let rt = rt(1);
    let token = CancelToken::new();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (parked_tx, parked_rx) = mpsc::channel();
    let hs: Vec<_> = (0..4)
        .map(|i| {
            let (order, parked_tx) = (order.clone(), parked_tx.clone());
            SpawnBuilder::new().token(token.clone()).spawn_on(
                async move {
                    parked_tx.send(()).unwrap();
                    let r = pending::<()>().cancellable().await;
                    assert!(r.is_err(), "woken only by the cancel");
                    order.lock().unwrap().push(i);
                },
                rt.handle(),
            )
        })
        .collect();
    for _ in 0..4 {
        recv(&parked_rx);
    }
    // From a task on the worker (where the batch applies); the four parked
    // in spawn order, each registering its waker in the same poll.
    let t = token.clone();
    rt.block_on(rt.spawn(async move { assert!(t.cancel(Cause::explicit("fan out"))) }))
        .unwrap();
    for h in hs {
        rt.block_on(h).unwrap();
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
}
