//! Models of `ScheduledIo` (see the protocol in `scheduled_io.rs`).
//!
//! A lost readiness shows up as a deadlock: `loom::future::block_on` parks
//! the model thread until its waker is woken, and loom reports a model in
//! which every thread is blocked.

use std::future::poll_fn;
use std::task::{Poll, Waker};

use loom::sync::atomic::{AtomicBool, Ordering::*};
use loom::sync::{Arc, Mutex};
use loom::thread;
use quell_cancel::context::{self, TaskCancel};
use quell_cancel::{CancelToken, Cause};

use crate::scheduled_io::{Direction, Ready, ScheduledIo, WaitError};

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    b.check(f);
}

/// A task that can be cancelled from another thread; its "binding" is the
/// waker of its last poll, which the canceller wakes (as the executor's
/// token binding does).
struct FakeTask {
    token: CancelToken,
    cancelled: AtomicBool,
    binding: Mutex<Option<Waker>>,
}

impl TaskCancel for FakeTask {
    fn token(&self) -> &CancelToken {
        &self.token
    }
    fn own_cause(&self) -> Option<Cause> {
        // Acquire pairs with the Release store in `cancel`.
        self.cancelled
            .load(Acquire)
            .then(|| Cause::explicit("model"))
    }
}

impl FakeTask {
    fn cancel(&self) {
        // Release: publishes the flag before the wake below.
        self.cancelled.store(true, Release);
        if let Some(w) = self.binding.lock().unwrap().take() {
            w.wake();
        }
    }
}

/// C6: readiness dispatched on another thread while the task installs its
/// waker: the wait always completes with the readiness.
#[test]
fn loom_readiness_vs_waker_install() {
    model(|| {
        let io = Arc::new(ScheduledIo::new(1));
        let io2 = io.clone();
        let th = thread::spawn(move || {
            let (r, w) = io2.set_readiness(Ready::READABLE);
            assert!(w.is_none());
            if let Some(r) = r {
                r.wake();
            }
        });
        let ev = loom::future::block_on(poll_fn(|cx| match io.poll_ready(cx, Direction::Read) {
            Poll::Ready(Ok(ev)) => Poll::Ready(ev),
            Poll::Ready(Err(_)) => panic!("no cancel in this model"),
            Poll::Pending => Poll::Pending,
        }));
        assert!(ev.ready().intersects(Ready::READABLE));
        th.join().unwrap();
        assert!(
            !io.has_waiter(Direction::Read),
            "a completed wait leaves no waker"
        );
    });
}

/// Step 3: clearing readiness after `WouldBlock` never clears an event
/// that arrived after the wait looked (the tick differs).
#[test]
fn loom_clear_vs_new_event() {
    model(|| {
        let io = Arc::new(ScheduledIo::new(1));
        let _ = io.set_readiness(Ready::READABLE);
        let first = loom::future::block_on(poll_fn(|cx| {
            io.poll_ready(cx, Direction::Read).map(|r| r.ok().unwrap())
        }));
        let io2 = io.clone();
        let th = thread::spawn(move || {
            let (r, _) = io2.set_readiness(Ready::READABLE);
            if let Some(r) = r {
                r.wake();
            }
        });
        // The I/O call hit WouldBlock: clear what `first` saw.
        io.clear_readiness(first);
        // The second event must still be observed.
        let ev = loom::future::block_on(poll_fn(|cx| {
            io.poll_ready(cx, Direction::Read).map(|r| r.ok().unwrap())
        }));
        assert!(ev.ready().intersects(Ready::READABLE));
        th.join().unwrap();
    });
}

/// C7: cancel vs readiness vs waker install. The wait ends with either the
/// readiness or `Cancelled`; never hangs; and when it returns, the
/// registration holds no waker of the ended wait.
#[test]
fn loom_cancel_vs_readiness_vs_install() {
    model(|| {
        let io = Arc::new(ScheduledIo::new(1));
        let task = Arc::new(FakeTask {
            token: CancelToken::new(),
            cancelled: AtomicBool::new(false),
            binding: Mutex::new(None),
        });

        let t2 = task.clone();
        let canceller = thread::spawn(move || t2.cancel());
        let io2 = io.clone();
        let dispatcher = thread::spawn(move || {
            let (r, _) = io2.set_readiness(Ready::READABLE);
            if let Some(r) = r {
                r.wake();
            }
        });

        let outcome = loom::future::block_on(poll_fn(|cx| {
            // The executor binds the task to its cancellation before it
            // parks; model that binding (register, then re-check).
            *task.binding.lock().unwrap() = Some(cx.waker().clone());
            context::enter(&*task, || io.poll_ready(cx, Direction::Read))
        }));
        match outcome {
            Ok(ev) => assert!(ev.ready().intersects(Ready::READABLE)),
            Err(WaitError::Cancelled(c)) => assert_eq!(c.cause().message(), Some("model")),
            Err(WaitError::Shutdown) => panic!("no shutdown in this model"),
        }
        assert!(
            !io.has_waiter(Direction::Read),
            "C7: the ended wait's waker is gone"
        );
        canceller.join().unwrap();
        dispatcher.join().unwrap();
    });
}
