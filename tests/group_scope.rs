//! `scope` (nursery / coroutineScope) and `CancelOnDrop` on the real
//! runtime.

mod support;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use quell::cancel::CauseKind;
use quell::task::scope;
use quell::time;
use support::*;

#[test]
fn scope_returns_only_after_every_member_finished() {
    let _dog = watchdog("scope joins members");
    let rt = rt(2);
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    // From a spawned task (any task can open a scope).
    let out = rt.block_on(rt.spawn(async move {
        let r = scope(|s| async move {
            for _ in 0..8 {
                let d = d.clone();
                s.spawn(async move {
                    for _ in 0..50 {
                        quell::task::yield_now().await;
                    }
                    d.fetch_add(1, SeqCst);
                    Ok::<_, io::Error>(())
                });
            }
            Ok("body done") // returns at once; the members are still running
        })
        .await;
        (r.unwrap(), done.load(SeqCst))
    }));
    assert_eq!(out.unwrap(), ("body done", 8));
}

#[test]
fn a_body_error_cancels_the_members_which_are_joined_before_it_returns() {
    let _dog = watchdog("scope body error");
    let rt = rt(2);
    let drops = DropCount::new();
    let tag = drops.tag();
    let (stx, srx) = mpsc::channel();
    let (ptx, prx) = mpsc::channel();
    let err = rt.block_on(async {
        scope(|s| async move {
            s.spawn(async move {
                let _tag = tag;
                ptx.send(()).unwrap();
                let err = time::sleep(Duration::from_secs(3600)).await.unwrap_err();
                stx.send(err.cause().clone()).unwrap();
                Ok(())
            });
            recv(&prx);
            Err::<(), _>(io::Error::other("body failed"))
        })
        .await
        .unwrap_err()
    });
    assert_eq!(drops.get(), 1, "the member finished before scope returned");
    assert_eq!(err.error().unwrap().to_string(), "body failed");
    assert!(recv(&srx).same(err.cause()));
}

#[test]
fn a_member_error_cancels_the_body_with_the_same_cause() {
    let _dog = watchdog("scope member error");
    let rt = rt(2);
    let (btx, brx) = mpsc::channel();
    let err = rt.block_on(async {
        scope(|s| async move {
            s.spawn(async { Err(io::Error::other("member failed")) });
            let r = time::sleep(Duration::from_secs(3600)).await;
            btx.send(r.as_ref().unwrap_err().cause().clone()).unwrap();
            r.map_err(io::Error::from)
        })
        .await
        .unwrap_err()
    });
    assert_eq!(err.error().unwrap().to_string(), "member failed");
    let body_saw = recv(&brx);
    assert_eq!(body_saw.kind(), &CauseKind::GroupFailure);
    assert!(body_saw.same(err.cause()));
}

#[test]
fn dropping_a_scope_future_cancels_its_members() {
    let _dog = watchdog("scope dropped");
    let rt = rt(2);
    let (ptx, prx) = mpsc::channel();
    let (stx, srx) = mpsc::channel();
    let outer = rt.spawn(async move {
        scope(|s| async move {
            s.spawn(async move {
                ptx.send(()).unwrap();
                let err = time::sleep(Duration::from_secs(3600)).await.unwrap_err();
                stx.send(err.cause().message().map(str::to_owned)).unwrap();
                Ok::<_, io::Error>(())
            });
            std::future::pending::<Result<(), io::Error>>().await
        })
        .await
    });
    recv(&prx);
    outer.abort(); // drops the scope future
    assert_eq!(recv(&srx).as_deref(), Some("task group dropped"));
    assert!(rt.block_on(outer).unwrap_err().is_aborted());
}

#[test]
fn a_dropped_parent_future_stops_its_cancel_on_drop_sub_tasks() {
    let _dog = watchdog("cancel on drop");
    let rt = rt(2);
    let (ptx, prx) = mpsc::channel();
    let (stx, srx) = mpsc::channel();
    // A request handler: its sub-task is held as CancelOnDrop. The server
    // drops the handler (here: aborts its task) when the client goes away.
    let handler = rt.spawn(async move {
        let sub = quell::spawn(async move {
            ptx.send(()).unwrap();
            let err = time::sleep(Duration::from_secs(3600)).await.unwrap_err();
            stx.send(err.cause().clone()).unwrap();
        })
        .cancel_on_drop();
        sub.await
    });
    recv(&prx);
    handler.abort();
    let cause = recv(&srx);
    assert_eq!(cause.kind(), &CauseKind::Explicit);
    assert_eq!(cause.message(), Some("cancel-on-drop handle dropped"));

    // Awaited to the end, it is just a join handle.
    let v = rt.block_on(async { quell::spawn(async { 5 }).cancel_on_drop().await });
    assert_eq!(v.unwrap(), 5);
}

#[test]
fn a_sibling_spawned_by_a_member_while_the_scope_waits_is_joined_and_fails_the_scope() {
    let _dog = watchdog("sibling spawned while the scope waits");
    let rt = rt(2);
    let (ready_tx, ready_rx) = mpsc::channel();
    let (go_tx, go_rx) = quell::sync::oneshot::channel::<()>();
    let (ctx, crx) = mpsc::channel();
    let outer = rt.spawn(async move {
        scope(|s| async move {
            let ctx2 = ctx.clone();
            s.spawn(async move {
                let err = time::sleep(Duration::from_secs(3600)).await.unwrap_err();
                ctx2.send(err.cause().kind().clone()).unwrap();
                Ok(())
            });
            let s2 = s.clone();
            s.spawn(async move {
                ready_tx.send(()).unwrap();
                go_rx.await.unwrap();
                // The body has returned and the scope waits for its
                // members: this member adds a sibling that panics at once
                // (a panic is a failure the group sees only by joining it).
                assert!(s2.spawn(async { panic!("sibling failed") }));
                let err = time::sleep(Duration::from_secs(3600)).await.unwrap_err();
                ctx.send(err.cause().kind().clone()).unwrap();
                Ok(())
            });
            Ok::<_, io::Error>(()) // returns at once
        })
        .await
    });
    recv(&ready_rx);
    go_tx.send(()).unwrap();
    let err = rt.block_on(outer).unwrap().unwrap_err();
    assert!(
        err.is_panic(),
        "the sibling's panic is the scope's error: {err:?}"
    );
    for _ in 0..2 {
        assert_eq!(recv(&crx), CauseKind::GroupFailure);
    }
}
