//! `spawn_local` and `LocalSet`: `!Send` futures run on the thread that
//! owns them, and are cancel-scoped like every other task (C10, C11): they
//! inherit the spawner's scope, their `JoinHandle` is a cancel point and
//! has `cancel`/`abort`, and their futures are dropped only on the owner
//! thread, whoever aborts them.

mod support;

use std::cell::Cell;
use std::future::{pending, Future};
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;

use quell::cancel::{with_timeout, Cancelled, Cause, CauseKind};
use quell::net::{TcpListener, TcpStream};
use quell::runtime::Builder;
use quell::task::{spawn_local, LocalSet};
use quell::time;
use support::*;

/// Records the thread its drop ran on (and is `!Send`, holding an `Rc`).
struct DropsOn {
    _not_send: Rc<()>,
    on: Arc<Mutex<Option<ThreadId>>>,
}

impl Drop for DropsOn {
    fn drop(&mut self) {
        *self.on.lock().unwrap() = Some(thread::current().id());
    }
}

#[test]
fn a_not_send_future_and_output_through_a_local_set() {
    let _dog = watchdog("spawn_local Rc");
    let rt = rt(2);
    let local = LocalSet::new();
    let me = thread::current().id();
    let (total, ran_on) = local.block_on(&rt, async {
        let counter = Rc::new(Cell::new(0));
        let mut handles = Vec::new();
        for _ in 0..10 {
            let c = counter.clone();
            handles.push(spawn_local(async move {
                quell::task::yield_now().await;
                c.set(c.get() + 1);
                // A `!Send` output through the JoinHandle.
                (Rc::new(thread::current().id()), c)
            }));
        }
        let mut ran_on = Vec::new();
        for h in handles {
            let (id, _c) = h.await.unwrap();
            ran_on.push(*id);
        }
        (counter.get(), ran_on)
    });
    assert_eq!(total, 10);
    assert!(ran_on.iter().all(|&id| id == me));
}

#[test]
fn spawn_local_works_directly_on_a_current_thread_runtime() {
    let _dog = watchdog("spawn_local current-thread");
    let rt = Builder::new_current_thread().build().unwrap();
    let v = rt.block_on(async {
        let shared = Rc::new(Cell::new(1));
        let s = shared.clone();
        // A local task doing real timer and channel waits.
        let (tx, rx) = quell::sync::oneshot::channel();
        let h = spawn_local(async move {
            time::sleep(Duration::from_millis(2)).await.unwrap();
            s.set(s.get() * 6);
            tx.send(()).unwrap();
            s.get() * 7
        });
        rx.await.unwrap();
        assert_eq!(shared.get(), 6);
        h.await.unwrap()
    });
    assert_eq!(v, 42);
}

#[test]
fn a_cancelled_local_task_parked_on_a_read_sees_the_cause() {
    let _dog = watchdog("spawn_local cancel parked read");
    let rt = rt(1);
    let local = LocalSet::new();
    let cause = local.block_on(&rt, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut peer = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut conn, _) = listener.accept().await.unwrap();
        let (parked_tx, parked_rx) = quell::sync::oneshot::channel();
        let reader = spawn_local(async move {
            let mut buf = [0; 8];
            let not_send = Rc::new(()); // held across the awaits: a !Send future
            parked_tx.send(()).unwrap();
            let err = conn.read(&mut buf).await.unwrap_err(); // the peer is silent
            let cause = Cancelled::from_io(&err).unwrap().cause().clone();
            // The socket is still open for a shielded goodbye.
            quell::cancel::shield(conn.write_all(b"bye")).await.unwrap();
            drop(not_send);
            cause
        });
        parked_rx.await.unwrap();
        // Cancel from another thread (the handle's output is Send).
        let reader = thread::spawn(move || {
            assert!(reader.cancel(Cause::explicit("read no more")));
            reader
        })
        .join()
        .unwrap();
        let cause = reader.await.unwrap();
        let mut bye = [0; 3];
        peer.read_exact(&mut bye).await.unwrap();
        assert_eq!(&bye, b"bye");
        cause
    });
    assert_eq!(cause.message(), Some("read no more"));
}

#[test]
fn abort_from_another_thread_drops_the_future_on_its_owner() {
    let _dog = watchdog("spawn_local abort");
    let rt = rt(2);
    let local = LocalSet::new();
    let dropped_on = Arc::new(Mutex::new(None));
    let on = dropped_on.clone();
    let err = local.block_on(&rt, async move {
        let (parked_tx, parked_rx) = mpsc::channel();
        let h = spawn_local(async move {
            let _guard = DropsOn {
                _not_send: Rc::new(()),
                on,
            };
            parked_tx.send(()).unwrap();
            pending::<()>().await
        });
        let abort = h.abort_handle();
        // The aborter waits until the task is parked, then aborts it from
        // its own thread; the future must not be dropped there.
        quell::task::yield_now().await;
        let aborter = thread::spawn(move || {
            recv(&parked_rx);
            abort.abort();
        });
        let err = h.await.unwrap_err();
        aborter.join().unwrap();
        err
    });
    assert!(err.is_aborted());
    assert_eq!(*dropped_on.lock().unwrap(), Some(thread::current().id()));
}

#[test]
fn cancel_with_grace_aborts_a_stubborn_local_task_on_its_owner() {
    let _dog = watchdog("spawn_local cancel_with_grace");
    let rt = rt(2);
    let local = LocalSet::new();
    let dropped_on = Arc::new(Mutex::new(None));
    let on = dropped_on.clone();
    let err = local.block_on(&rt, async move {
        let h = spawn_local(async move {
            let _guard = DropsOn {
                _not_send: Rc::new(()),
                on,
            };
            pending::<()>().await // ignores its cancel
        });
        quell::task::yield_now().await;
        // The abort comes from the runtime's timer, on whichever thread
        // turns the driver; the future is dropped here all the same.
        assert!(h.cancel_with_grace(Cause::explicit("stop"), Duration::from_millis(5)));
        h.await.unwrap_err()
    });
    assert!(err.is_aborted());
    assert_eq!(*dropped_on.lock().unwrap(), Some(thread::current().id()));
}

#[test]
fn a_local_task_inherits_the_spawners_scope() {
    let _dog = watchdog("spawn_local inherits");
    let rt = rt(1);
    let local = LocalSet::new();
    local.block_on(&rt, async {
        // A deadline scope reaches a local task spawned inside it.
        let child_err = with_timeout(Duration::from_millis(20), async {
            let child = spawn_local(async {
                let _not_send = Rc::new(());
                time::sleep(Duration::from_secs(3600)).await.unwrap_err()
            });
            child.await.unwrap()
        })
        .await
        .unwrap();
        assert_eq!(child_err.cause().kind(), &CauseKind::DeadlineExceeded);

        // A parent's handle cancel reaches the local child it spawned.
        let (parked_tx, parked_rx) = quell::sync::oneshot::channel();
        let parent = spawn_local(async move {
            let child = spawn_local(async move {
                parked_tx.send(()).unwrap();
                time::sleep(Duration::from_secs(3600)).await.unwrap_err()
            });
            child.await.unwrap()
        });
        parked_rx.await.unwrap();
        assert!(parent.cancel(Cause::explicit("parent stopped")));
        let seen = parent.await.unwrap();
        assert_eq!(seen.cause().message(), Some("parent stopped"));
        assert!(seen.is_inherited());
    });
}

#[test]
fn a_local_join_is_a_cancel_point() {
    let _dog = watchdog("spawn_local join cancel point");
    let rt = rt(1);
    let local = LocalSet::new();
    local.block_on(&rt, async {
        let (go_tx, go_rx) = quell::sync::oneshot::channel::<u32>();
        let mut outside = local.spawn_local(async move { go_rx.await.unwrap() + 1 });
        // The awaiter runs under a token of its own: `outside` is not in
        // its scope.
        let scope = quell::cancel::CancelToken::new();
        let err = {
            let waiter = quell::cancel::with_token(scope.clone(), async {
                (&mut outside).await.unwrap_err()
            });
            let mut waiter = std::pin::pin!(waiter);
            // Park the awaiter on the join, then cancel its scope.
            let parked = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(waiter.as_mut().poll(cx).is_pending())
            })
            .await;
            assert!(parked);
            scope.cancel(Cause::explicit("stop waiting"));
            waiter.await
        };
        assert!(err.is_awaiter_cancelled());
        assert!(!outside.is_finished(), "the local task keeps running");
        go_tx.send(41).unwrap();
        assert_eq!(outside.await.unwrap(), 42);
    });
}

#[test]
fn shutdown_cancels_local_tasks_through_the_root() {
    let _dog = watchdog("spawn_local root cancel");
    let rt = rt(1);
    let local = LocalSet::new();
    let root = rt.handle().root_token().clone();
    let kind = local.block_on(&rt, async move {
        let h = spawn_local(async {
            let _not_send = Rc::new(());
            time::sleep(Duration::from_secs(3600)).await.unwrap_err()
        });
        quell::task::yield_now().await;
        root.cancel(Cause::shutdown());
        quell::cancel::shield(h)
            .await
            .unwrap()
            .cause()
            .kind()
            .clone()
    });
    assert_eq!(kind, CauseKind::Shutdown);
}

#[test]
fn dropping_the_set_drops_unfinished_futures_on_its_thread() {
    let _dog = watchdog("LocalSet drop");
    let rt = rt(1);
    let dropped_on = Arc::new(Mutex::new(None));
    let local = LocalSet::new();
    let on = dropped_on.clone();
    let h = local.spawn_local(async move {
        let _guard = DropsOn {
            _not_send: Rc::new(()),
            on,
        };
        pending::<()>().await
    });
    // Run it once, so it is parked, then drop the set.
    local.block_on(&rt, quell::task::yield_now());
    drop(local);
    assert_eq!(*dropped_on.lock().unwrap(), Some(thread::current().id()));
    let err = rt.block_on(h).unwrap_err();
    assert!(err.is_shutdown());
}

#[test]
fn spawn_local_outside_a_local_context_panics_with_a_clear_message() {
    let _dog = watchdog("spawn_local outside");
    let expect = "`spawn_local` called outside a local context";
    let msg = |r: std::thread::Result<()>| -> String {
        let p = r.unwrap_err();
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap()
    };
    // No runtime at all.
    let r = std::panic::catch_unwind(|| {
        spawn_local(async {});
    });
    assert!(msg(r).contains(expect));
    // A multi-thread runtime's block_on is not a local context.
    let rt = rt(1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            spawn_local(async {});
        })
    }));
    assert!(msg(r).contains(expect));
    // Nor is a worker thread: the task panics, its join reports it.
    let err = rt
        .block_on(rt.spawn(async {
            spawn_local(async {});
        }))
        .unwrap_err();
    assert!(err.is_panic());
    let p = err.into_panic();
    let text = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(text.contains(expect), "{text}");
}
