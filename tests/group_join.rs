//! `TaskGroup` on the real runtime: completion order, join_all, parent
//! cancel, drop (cancel, then abort after the grace), spawn after shutdown.

mod support;

use std::future::Future;
use std::pin::pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use quell::cancel::{shield, CancelToken, Cause};
use quell::sync::oneshot;
use quell::task::TaskGroup;
use quell::time;
use support::*;

#[test]
fn join_next_yields_members_in_completion_order_not_spawn_order() {
    let _dog = watchdog("group completion order");
    let rt = rt(2);
    rt.block_on(async {
        let mut g = TaskGroup::new();
        let mut txs = Vec::new();
        for i in 0..3u32 {
            let (tx, rx) = oneshot::channel::<()>();
            txs.push(Some(tx));
            g.spawn_named("member", async move {
                rx.await.unwrap();
                i
            });
        }
        assert_eq!(g.len(), 3);
        let mut order = Vec::new();
        for i in [2, 0, 1] {
            txs[i].take().unwrap().send(()).unwrap();
            order.push(g.join_next().await.unwrap().unwrap());
        }
        assert_eq!(order, [2, 0, 1]);
        assert!(g.is_empty());
        assert!(g.join_next().await.is_none());
    });
}

#[test]
fn join_all_waits_for_every_member_and_keeps_every_ending() {
    let _dog = watchdog("group join_all");
    let rt = rt(2);
    rt.block_on(async {
        let mut g = TaskGroup::new();
        for i in 0..100u32 {
            g.spawn(async move {
                quell::task::yield_now().await;
                i
            });
        }
        g.spawn(async { panic!("member panicked") });
        let stuck = g.spawn(std::future::pending());
        stuck.abort();
        let all = g.join_all().await;
        assert_eq!(all.len(), 102);
        let mut ok: Vec<u32> = all
            .iter()
            .filter_map(|r| r.as_ref().ok().copied())
            .collect();
        ok.sort_unstable();
        assert_eq!(ok, (0..100).collect::<Vec<_>>());
        assert_eq!(
            all.iter()
                .filter(|r| matches!(r, Err(e) if e.is_panic()))
                .count(),
            1
        );
        assert_eq!(
            all.iter()
                .filter(|r| matches!(r, Err(e) if e.is_aborted()))
                .count(),
            1
        );
    });
}

#[test]
fn cancelling_the_parent_reaches_members_with_the_inherited_cause() {
    let _dog = watchdog("group parent cancel");
    let rt = rt(2);
    let parent = CancelToken::new();
    let cause = Cause::explicit("parent stops");
    let seen = rt.block_on(async {
        let mut g = TaskGroup::new_on(&quell::Handle::current(), &parent);
        let (ptx, prx) = mpsc::channel();
        for _ in 0..4 {
            let ptx = ptx.clone();
            g.spawn(async move {
                ptx.send(()).unwrap();
                let err = time::sleep(Duration::from_secs(3600)).await.unwrap_err();
                (err.cause().clone(), err.is_inherited())
            });
        }
        for _ in 0..4 {
            recv(&prx);
        }
        assert!(parent.cancel(cause.clone()));
        g.join_all().await
    });
    for r in seen {
        let (c, inherited) = r.unwrap();
        assert!(c.same(&cause), "members see the parent's own cause");
        assert!(inherited);
    }
}

#[test]
fn dropping_the_group_cancels_members_then_aborts_those_ignoring_it() {
    let _dog = watchdog("group drop");
    let rt = rt(2);
    let drops = DropCount::new();
    let (ptx, prx) = mpsc::channel();
    let (ctx, crx) = mpsc::channel();
    let (polite, stubborn) = rt.block_on(async {
        let mut g = TaskGroup::new().drop_grace(Duration::from_millis(20));
        // Cooperative: reports the cause it saw.
        let tag = drops.tag();
        let p = ptx.clone();
        let polite = g.spawn(async move {
            let _tag = tag;
            p.send(()).unwrap();
            let err = time::sleep(Duration::from_secs(3600)).await.unwrap_err();
            ctx.send(err.cause().message().map(str::to_owned)).unwrap();
        });
        // Ignores the cancel: only the abort after the grace stops it.
        let tag = drops.tag();
        let stubborn = g.spawn(async move {
            let _tag = tag;
            ptx.send(()).unwrap();
            let _ = shield(time::sleep(Duration::from_secs(3600))).await;
        });
        recv(&prx);
        recv(&prx);
        drop(g);
        (polite, stubborn)
    });
    assert_eq!(recv(&crx).as_deref(), Some("task group dropped"));
    wait_until(|| polite.is_finished() && stubborn.is_finished());
    assert_eq!(drops.get(), 2, "the stubborn member's future was dropped");
}

#[test]
fn spawning_after_the_runtime_shut_down_is_an_error_at_once() {
    let rt = rt(1);
    let h = rt.handle().clone();
    drop(rt);
    let mut g = TaskGroup::new_on(&h, &CancelToken::new());
    g.spawn(async { 1 });
    let mut next = pin!(g.join_next());
    let Poll::Ready(Some(Err(e))) = next.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    else {
        panic!("a member spawned after shutdown must fail at once");
    };
    assert!(e.is_shutdown(), "{e}");
}

#[test]
fn stress_every_member_is_joined_exactly_once() {
    let _dog = watchdog("group stress");
    let rt = rt(2);
    for round in 0..20u32 {
        let got = rt.block_on(rt.spawn(async move {
            let mut g = TaskGroup::new();
            for i in 0..500u32 {
                g.spawn(async move {
                    for _ in 0..(i + round) % 4 {
                        quell::task::yield_now().await;
                    }
                    i
                });
            }
            let mut got = Vec::new();
            while let Some(r) = g.join_next().await {
                got.push(r.unwrap());
                if got.len() % 100 == 0 {
                    // Spawning while joining: late members are joined too.
                    g.spawn(async { u32::MAX });
                }
            }
            got
        }));
        let mut got = got.unwrap();
        got.sort_unstable();
        let late = got.iter().filter(|&&v| v == u32::MAX).count();
        got.retain(|&v| v != u32::MAX);
        assert_eq!(got, (0..500).collect::<Vec<_>>());
        assert_eq!(late, 5, "members spawned while joining are joined too");
    }
}
