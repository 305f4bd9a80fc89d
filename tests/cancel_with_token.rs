//! `cancel::with_token` on the real runtime: a scope with an explicit
//! token around a future in a task (the same adapter drives user loom
//! models without a runtime: tests/loom_user.rs).

mod support;

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::mpsc as std_mpsc;

use quell::cancel::{self, with_token, CancelToken, Cancelled, Cause};
use quell::sync::{mpsc, RecvError};
use quell::task::SpawnBuilder;
use support::*;

/// Polls `fut`, telling `parked` after its first `Pending` (it is then
/// parked: its waker is registered with whatever it waits on).
async fn signal_parked<F: Future>(fut: F, parked: std_mpsc::Sender<()>) -> F::Output {
    let mut fut = pin!(fut);
    let mut told = false;
    poll_fn(|cx| {
        let r = fut.as_mut().poll(cx);
        if r.is_pending() && !told {
            told = true;
            parked.send(()).unwrap();
        }
        r
    })
    .await
}

/// The cancellation a receive answered, or a panic naming what it got.
fn cancelled(r: Result<u32, RecvError>) -> Cancelled {
    match r {
        Err(RecvError::Cancelled(c)) => c,
        other => panic!("expected Cancelled, got {other:?}"),
    }
}

#[test]
fn with_token_cancel_from_another_thread_wakes_a_parked_recv() {
    let _dog = watchdog("with_token parked recv");
    let rt = rt(2);
    let stop = CancelToken::new();
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let (parked_tx, parked_rx) = std_mpsc::channel();
    let t = stop.clone();
    let h = rt.spawn(async move {
        let r = with_token(t, signal_parked(rx.recv(), parked_tx)).await;
        (r, rx)
    });
    recv(&parked_rx);
    // This thread is not a worker: the cancel must wake the parked task.
    assert!(stop.cancel(Cause::explicit("stop reading")));
    let (r, mut rx) = rt.block_on(h).unwrap();
    let c = cancelled(r);
    assert!(c.cause().same(&stop.cause().unwrap()));
    assert_eq!(c.cause().message(), Some("stop reading"));
    assert!(!c.is_inherited());
    // Outside the scope the channel works as before.
    tx.try_send(7).unwrap();
    assert_eq!(rx.try_recv(), Ok(7));
}

#[test]
fn with_token_keeps_the_tasks_own_cancellation() {
    let _dog = watchdog("with_token handle cancel");
    let rt = rt(2);
    let (_tx, mut rx) = mpsc::channel::<u32>(1);
    let (parked_tx, parked_rx) = std_mpsc::channel();
    let unrelated = CancelToken::new();
    let h =
        rt.spawn(async move { with_token(unrelated, signal_parked(rx.recv(), parked_tx)).await });
    recv(&parked_rx);
    assert!(h.cancel(Cause::explicit("handle")));
    let c = cancelled(rt.block_on(h).unwrap());
    assert_eq!(c.cause().message(), Some("handle"));
}

#[test]
fn with_token_on_a_child_of_current_still_obeys_the_tasks_token() {
    let _dog = watchdog("with_token child of current");
    let rt = rt(2);
    let task_token = CancelToken::new();
    let (_tx, mut rx) = mpsc::channel::<u32>(1);
    let (parked_tx, parked_rx) = std_mpsc::channel();
    let h = SpawnBuilder::new().token(task_token.clone()).spawn_on(
        async move {
            let section = cancel::current().child();
            with_token(section, signal_parked(rx.recv(), parked_tx)).await
        },
        rt.handle(),
    );
    recv(&parked_rx);
    assert!(task_token.cancel(Cause::explicit("whole task")));
    let c = cancelled(rt.block_on(h).unwrap());
    assert!(c.cause().same(&task_token.cause().unwrap()));
    assert!(c.is_inherited());
}

#[test]
fn tasks_spawned_inside_with_token_inherit_its_token() {
    let _dog = watchdog("with_token spawn");
    let rt = rt(2);
    let stop = CancelToken::new();
    let (_tx, mut rx) = mpsc::channel::<u32>(1);
    let (parked_tx, parked_rx) = std_mpsc::channel();
    let t = stop.clone();
    let h = rt.spawn(with_token(t, async move {
        let child = quell::spawn(async move { signal_parked(rx.recv(), parked_tx).await });
        child.await.unwrap()
    }));
    recv(&parked_rx);
    assert!(stop.cancel(Cause::explicit("stop all")));
    let c = cancelled(rt.block_on(h).unwrap());
    assert!(c.cause().same(&stop.cause().unwrap()));
}
