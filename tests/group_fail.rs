//! `TryTaskGroup` (errgroup semantics) on the real runtime: the first
//! failure cancels the siblings with one shared cause and is what waiting
//! returns; concurrent failures give exactly one first; panics count;
//! a parent's cancel keeps its own cause.

mod support;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use quell::cancel::{CancelToken, Cause, CauseKind};
use quell::task::TryTaskGroup;
use quell::time;
use support::*;

#[derive(Debug, PartialEq)]
struct Boom(usize);

impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "boom {}", self.0)
    }
}

impl std::error::Error for Boom {}

/// A sibling that waits for an hour and reports the cause that stopped it.
fn observer(g: &mut TryTaskGroup<(), Boom>, parked: mpsc::Sender<()>, seen: mpsc::Sender<Cause>) {
    g.spawn(async move {
        parked.send(()).unwrap();
        let err = time::sleep(Duration::from_secs(3600)).await.unwrap_err();
        seen.send(err.cause().clone()).unwrap();
        Ok(())
    });
}

#[test]
fn the_first_error_cancels_every_sibling_with_one_cause_and_is_returned() {
    let _dog = watchdog("group first error");
    let rt = rt(2);
    let (ptx, prx) = mpsc::channel();
    let (stx, srx) = mpsc::channel();
    let err = rt.block_on(async {
        let mut g = TryTaskGroup::<(), Boom>::new();
        for _ in 0..3 {
            observer(&mut g, ptx.clone(), stx.clone());
        }
        for _ in 0..3 {
            recv(&prx);
        }
        g.spawn_named("failing", async { Err(Boom(7)) });
        g.wait().await.unwrap_err()
    });
    assert_eq!(err.error(), Some(&Boom(7)));
    assert_eq!(err.cause().kind(), &CauseKind::GroupFailure);
    for _ in 0..3 {
        assert!(
            recv(&srx).same(err.cause()),
            "every sibling saw the same cause"
        );
    }
}

#[test]
fn concurrent_failures_give_exactly_one_first_error_seen_by_every_member() {
    let _dog = watchdog("group concurrent failures");
    let rt = rt(2);
    for _ in 0..200 {
        let (ptx, prx) = mpsc::channel();
        let (stx, srx) = mpsc::channel();
        let (errors, first) = rt.block_on(async {
            let mut g = TryTaskGroup::<(), Boom>::new();
            for _ in 0..2 {
                observer(&mut g, ptx.clone(), stx.clone());
            }
            for _ in 0..2 {
                recv(&prx);
            }
            // Two members fail at (nearly) the same moment: each waits,
            // yielding, until both are running.
            let ready = Arc::new(AtomicUsize::new(0));
            for i in 0..2 {
                let ready = ready.clone();
                g.spawn(async move {
                    ready.fetch_add(1, SeqCst);
                    while ready.load(SeqCst) < 2 {
                        quell::task::yield_now().await;
                    }
                    Err(Boom(i))
                });
            }
            let mut errors = Vec::new();
            while let Some(r) = g.join_next().await {
                if let Err(e) = r {
                    errors.push(e);
                }
            }
            let first = g.first_failure().unwrap();
            (errors, first)
        });
        assert_eq!(errors.len(), 1, "exactly one first error");
        assert!(errors[0].cause().same(first.cause()));
        assert!(matches!(first.error(), Some(Boom(0 | 1))));
        for _ in 0..2 {
            assert!(recv(&srx).same(first.cause()));
        }
    }
}

#[test]
fn a_panicking_member_is_a_failure_that_cancels_its_siblings() {
    let _dog = watchdog("group panic");
    let rt = rt(2);
    let (ptx, prx) = mpsc::channel();
    let (stx, srx) = mpsc::channel();
    let err = rt.block_on(async {
        let mut g = TryTaskGroup::<(), Boom>::new();
        observer(&mut g, ptx, stx);
        recv(&prx);
        g.spawn(async { panic!("member blew up") });
        g.wait().await.unwrap_err()
    });
    assert!(err.is_panic());
    assert!(err.error().is_none());
    assert!(err.to_string().contains("member blew up"), "{err}");
    let seen = recv(&srx);
    assert!(seen.same(err.cause()));
    assert!(seen
        .error_ref()
        .unwrap()
        .downcast_ref::<quell::JoinError>()
        .unwrap()
        .is_panic());
}

#[test]
fn a_parent_cancel_reaches_members_with_the_parents_cause() {
    let _dog = watchdog("group parent cancel, fallible");
    let rt = rt(2);
    let parent = CancelToken::new();
    let cause = Cause::explicit("shutting the request down");
    let (ptx, prx) = mpsc::channel();
    let (stx, srx) = mpsc::channel();
    let res = rt.block_on(async {
        let mut g = TryTaskGroup::<(), io::Error>::new_on(&quell::Handle::current(), &parent);
        for _ in 0..3 {
            let (ptx, stx) = (ptx.clone(), stx.clone());
            g.spawn(async move {
                ptx.send(()).unwrap();
                let r = time::sleep(Duration::from_secs(3600)).await;
                let err = r.as_ref().unwrap_err();
                stx.send(err.cause().clone()).unwrap();
                r.map_err(io::Error::from) // a member error, after the cancel
            });
        }
        for _ in 0..3 {
            recv(&prx);
        }
        assert!(parent.cancel(cause.clone()));
        g.wait().await
    });
    for _ in 0..3 {
        assert!(recv(&srx).same(&cause), "members keep the parent's cause");
    }
    // The members' errors still end the wait with a failure.
    assert!(res.unwrap_err().error().is_some());
}
