//! Cancellation survives composition (contracts C10, C11): a task's cancel
//! scope is one token that its children inherit, `current()` answers what
//! the await points answer, causes are stable, a join is a cancel point, a
//! shield's spawn is not born cancelled, and a deadline bounds everything
//! under it — foreign futures and tasks that outlive the scope included.

mod support;

use std::future::pending;
use std::sync::mpsc;
use std::time::Duration;

use quell::cancel::{self, shield, with_timeout, CancelToken, CancellableExt, Cause, CauseKind};
use quell::sync::oneshot;
use quell::task::SpawnBuilder;
use quell::time;
use support::*;

const LONG: Duration = Duration::from_secs(3600);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Case 1: a task cancelled through its handle while it awaits a child's
/// `JoinHandle` is answered at once, and the child (which inherited its
/// scope) is cancelled with the same cause; the join gives the child's own
/// result.
#[test]
fn a_handle_cancel_reaches_the_child_the_parent_is_joining() {
    let _dog = watchdog("handle cancel reaches child");
    let rt = rt(2);
    let (parked_tx, parked_rx) = mpsc::channel();
    let parent = rt.spawn(async move {
        let child = quell::spawn(async move {
            parked_tx.send(()).unwrap();
            time::sleep(LONG).await.unwrap_err()
        });
        // The join is a cancel point, but the child is inside our scope:
        // it is cancelled with us, and we get its own result.
        child.await.expect("the child completed on its own")
    });
    recv(&parked_rx);
    assert!(parent.cancel(Cause::explicit("parent stopped")));
    let child_saw = rt.block_on(parent).unwrap();
    assert_eq!(child_saw.cause().message(), Some("parent stopped"));
    assert!(child_saw.is_inherited());
}

/// Case 1 with `cancel_with_grace`: the parent ignores the cancel and is
/// aborted after the grace, but its child is not orphaned uncancelled.
#[test]
fn cancel_with_grace_leaves_no_uncancelled_orphan() {
    let _dog = watchdog("cancel_with_grace orphan");
    let rt = rt(2);
    let (child_tx, child_rx) = mpsc::channel();
    let parent = rt.spawn(async move {
        let child = quell::spawn(async move {
            let err = time::sleep(LONG).await.unwrap_err();
            child_tx
                .send(err.cause().message().map(str::to_owned))
                .unwrap();
        });
        drop(child);
        // Ignore cancellation: a future quell does not own.
        pending::<()>().await
    });
    // Wait until the child exists (two live tasks).
    wait_until(|| rt.handle().num_tasks() == 2);
    parent.cancel_with_grace(Cause::explicit("stop"), ms(20));
    assert!(rt.block_on(parent).unwrap_err().is_aborted());
    assert_eq!(recv(&child_rx).as_deref(), Some("stop"));
}

/// Case 2: after `JoinHandle::cancel`, `current()` and the await points
/// give one answer, and a blocking closure polling `current()` (as the
/// docs recommend) stops.
#[test]
fn current_and_the_await_points_agree_after_a_handle_cancel() {
    let _dog = watchdog("one answer");
    let rt = rt(2);
    let (parked_tx, parked_rx) = mpsc::channel();
    let h = rt.spawn(async move {
        let blocking = quell::task::spawn_blocking(move || {
            parked_tx.send(()).unwrap();
            while !cancel::current().is_cancelled() {
                std::thread::yield_now();
            }
            cancel::current().cause().unwrap()
        });
        let err = cancel::checkpoint().await;
        let wait = pending::<()>().cancellable().await;
        let from_blocking = shield(blocking).await.unwrap();
        (
            cancel::current().is_cancelled(),
            cancel::is_cancelled(),
            err.is_err() || wait.is_err(),
            cancel::current().cause(),
            from_blocking,
        )
    });
    recv(&parked_rx);
    assert!(h.cancel(Cause::explicit("one answer")));
    let (current, observed, awaited, cause, blocking) = rt.block_on(h).unwrap();
    assert!(current && observed && awaited);
    let cause = cause.unwrap();
    assert_eq!(cause.message(), Some("one answer"));
    assert!(
        blocking.same(&cause),
        "the blocking child saw the same cause"
    );
}

/// Case 3: the task listing shows a task whose token (or deadline scope)
/// was cancelled as cancelled, even when it never looks.
#[test]
fn the_listing_shows_token_and_deadline_cancels() {
    let _dog = watchdog("listing");
    let rt = rt(2);
    let token = CancelToken::new();
    let _ignorer = SpawnBuilder::new()
        .name("ignores its token")
        .token(token.clone())
        .spawn_on(pending::<()>(), rt.handle());
    let _late = SpawnBuilder::new().name("ignores its deadline").spawn_on(
        // A grace long enough that only a hang would end it: the task
        // stays alive past its deadline for the listing to show.
        with_timeout(ms(10), pending::<()>()).grace(LONG),
        rt.handle(),
    );
    let cancelled = |name: &str| {
        rt.handle()
            .tasks()
            .iter()
            .any(|t| t.name.as_deref() == Some(name) && t.cancelled)
    };
    assert!(!cancelled("ignores its token"));
    token.cancel(Cause::explicit("go away"));
    assert!(cancelled("ignores its token"));
    wait_until(|| cancelled("ignores its deadline"));
}

/// Case 4: the cause a task observed never changes; a later handle cancel
/// returns `false`.
#[test]
fn an_observed_cause_is_stable() {
    let _dog = watchdog("stable cause");
    let rt = rt(2);
    let token = CancelToken::new();
    let (observed_tx, observed_rx) = mpsc::channel();
    let (gate_tx, gate_rx) = oneshot::channel::<()>();
    let h = SpawnBuilder::new().token(token.clone()).spawn_on(
        async move {
            let first = pending::<()>().cancellable().await.unwrap_err();
            observed_tx.send(()).unwrap();
            shield(gate_rx).await.unwrap();
            let second = cancel::checkpoint().await.unwrap_err();
            (first, second, cancel::current().cause().unwrap())
        },
        rt.handle(),
    );
    token.cancel(Cause::explicit("A"));
    recv(&observed_rx);
    assert!(
        !h.cancel(Cause::explicit("B")),
        "already cancelled: B changes nothing"
    );
    gate_tx.send(()).unwrap();
    let (first, second, current) = rt.block_on(h).unwrap();
    assert_eq!(first.cause().message(), Some("A"));
    assert!(second.cause().same(first.cause()));
    assert!(current.same(first.cause()));
}

/// Case 3 of the join contract: a cancelled awaiter of a task outside its
/// scope gets an error that says so; the task keeps running and the
/// handle stays usable.
#[test]
fn a_join_answers_a_cancelled_awaiter_and_the_handle_stays_usable() {
    let _dog = watchdog("join cancel point");
    let rt = rt(2);
    let (parked_tx, parked_rx) = mpsc::channel();
    let (go_tx, go_rx) = oneshot::channel::<u32>();
    let parent = rt.spawn(async move {
        let mut child = SpawnBuilder::new()
            .detached()
            .spawn(async move { go_rx.await.unwrap() + 1 });
        parked_tx.send(()).unwrap();
        let err = (&mut child).await.unwrap_err();
        assert!(err.is_awaiter_cancelled());
        assert!(!err.is_aborted() && !err.is_panic());
        let why = err.awaiter_cancellation().unwrap().cause().clone();
        assert!(!child.is_finished(), "the detached child keeps running");
        go_tx.send(41).unwrap();
        // Awaited again inside a shield: the child's own output.
        let v = shield(&mut child).await.unwrap();
        (why, v)
    });
    recv(&parked_rx);
    parent.cancel(Cause::explicit("awaiter stopped"));
    let (why, v) = rt.block_on(parent).unwrap();
    assert_eq!(why.message(), Some("awaiter stopped"));
    assert_eq!(v, 42);
}

/// Case 5: a task spawned inside a deadline scope that outlives the scope
/// still stops at the deadline it reports.
#[test]
fn a_deadline_holds_for_a_task_that_outlives_its_scope() {
    let _dog = watchdog("deadline outlives scope");
    let rt = rt(2);
    let (child, deadline) = rt
        .block_on(with_timeout(ms(30), async {
            let child = quell::spawn(async {
                let reported = cancel::current().deadline().unwrap();
                let err = time::sleep(LONG).await.unwrap_err();
                (reported, err, std::time::Instant::now())
            });
            (child, cancel::current().deadline().unwrap())
        }))
        .expect("the scope finished at once");
    let (reported, err, woke) = rt.block_on(child).unwrap();
    assert_eq!(reported, deadline);
    assert_eq!(err.cause().kind(), &CauseKind::DeadlineExceeded);
    assert!(woke >= deadline, "cancelled at the deadline, not before");
}

/// Case 6: a task spawned inside a shield is not born cancelled, but
/// deadlines opened inside the shield bound it.
#[test]
fn a_task_spawned_in_a_shield_is_not_born_cancelled() {
    let _dog = watchdog("shield spawn");
    let rt = rt(2);
    let (parked_tx, parked_rx) = mpsc::channel();
    let h = rt.spawn(async move {
        parked_tx.send(()).unwrap();
        let _ = pending::<()>().cancellable().await;
        shield(async {
            let helper = quell::spawn(async {
                let born = cancel::is_cancelled();
                time::sleep(ms(1)).await.map(|()| born)
            });
            let bounded = with_timeout(ms(20), async {
                quell::spawn(time::sleep(LONG)).await.unwrap()
            })
            .grace(LONG) // not a cut-off test: only a hang exhausts it
            .await
            .unwrap();
            (helper.await.unwrap(), bounded)
        })
        .await
    });
    recv(&parked_rx);
    h.cancel(Cause::explicit("cleanup time"));
    let (helper, bounded) = rt.block_on(h).unwrap();
    assert!(!helper.unwrap(), "not born cancelled, sleeps normally");
    assert_eq!(
        bounded.unwrap_err().cause().kind(),
        &CauseKind::DeadlineExceeded
    );
}

/// Case 7: `with_timeout` bounds a future quell does not own (here a tokio
/// primitive, which never answers `Cancelled`): cut off after the grace,
/// the future dropped, and the type says so.
#[test]
fn a_deadline_cuts_off_a_foreign_future() {
    let _dog = watchdog("foreign future");
    let rt = rt(2);
    let drops = DropCount::new();
    let tag = drops.tag();
    let notify = std::sync::Arc::new(tokio::sync::Notify::new());
    let n = notify.clone();
    let out = rt.block_on(with_timeout(ms(20), async move {
        let _tag = tag;
        n.notified().await; // never notified
    }));
    let err = out.unwrap_err();
    assert_eq!(err.cause().kind(), &CauseKind::DeadlineExceeded);
    assert_eq!(drops.get(), 1, "the cut-off future was dropped");
    drop(notify);
}

/// Case 3, the shutdown report: each straggler says whether it had been
/// cancelled (and ignored it) or was outside the root's tree.
#[test]
fn the_shutdown_report_says_which_stragglers_ignored_their_cancel() {
    let _dog = watchdog("shutdown report");
    let rt = rt(2);
    SpawnBuilder::new()
        .name("ignorer")
        .spawn_on(pending::<()>(), rt.handle());
    SpawnBuilder::new()
        .name("detached")
        .detached()
        .spawn_on(pending::<()>(), rt.handle());
    wait_until(|| rt.handle().num_tasks() == 2);
    let report = rt.shutdown_graceful(ms(20));
    let by_name = |n: &str| {
        report
            .forced
            .iter()
            .find(|t| t.name.as_deref() == Some(n))
            .unwrap_or_else(|| panic!("{n} not in the report"))
            .cancel
            .is_cancelled()
    };
    assert!(by_name("ignorer"), "the root cancel reached it");
    assert!(!by_name("detached"), "outside the root's tree");
    let text = report.to_string();
    assert!(text.contains("\"ignorer\""), "{text}");
    assert!(text.contains("(cancelled, ignored it)"), "{text}");
}
