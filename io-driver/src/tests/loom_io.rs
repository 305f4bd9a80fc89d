//! Models of `ScheduledIo` (see the protocol in `scheduled_io.rs`).
//!
//! A lost readiness shows up as a deadlock: a waiting model thread parks
//! until its waker is woken, and loom reports a model in which every
//! thread is blocked.
//!
//! Waits are driven by [`block_on`] below rather than
//! `loom::future::block_on`, so that each waiting thread has a waker of
//! its own that the model can name: entries are identified by
//! `Waker::will_wake` (protocol, "Waiter lists"), and C7 is checked as
//! "the registration holds no waker that `will_wake` the ended wait's
//! waker". (loom 0.7's `block_on` does reuse one waker for every poll, but
//! does not hand it out.)

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicBool, Ordering::*};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use quell_cancel::rt_internal::{self as context, TaskCancel};
use quell_cancel::{CancelToken, Cause};

use crate::scheduled_io::{Direction, Ready, ReadyEvent, ScheduledIo, WaitError};

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    b.check(f);
}

/// A waker backed by a loom `Mutex<bool>` + `Condvar` (not thread
/// park/unpark: a late wake would then unblock a thread parked in
/// `JoinHandle::join`). Its `Arc` is the waker's identity, the same for
/// every poll, like a quell task's waker.
#[derive(Default)]
struct Signal {
    woken: Mutex<bool>,
    cv: Condvar,
}

impl Wake for Signal {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        *self.woken.lock().unwrap() = true;
        self.cv.notify_one();
    }
}

/// A new stable waker, and its signal to wait on.
fn signal() -> (std::sync::Arc<Signal>, Waker) {
    let s = std::sync::Arc::new(Signal::default());
    (s.clone(), Waker::from(s))
}

/// Polls `f` with the waker of `signal` (the same for every poll),
/// blocking the model thread between polls until that waker is woken.
fn block_on<F: Future>((signal, waker): &(std::sync::Arc<Signal>, Waker), f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(waker);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        let mut woken = signal.woken.lock().unwrap();
        while !*woken {
            woken = signal.cv.wait(woken).unwrap();
        }
        *woken = false;
    }
}

/// Waits for `dir` with `waker` (no cancellation in play).
fn wait(io: &ScheduledIo, waker: &(std::sync::Arc<Signal>, Waker), dir: Direction) -> ReadyEvent {
    block_on(
        waker,
        poll_fn(|cx| match io.poll_ready(cx, dir) {
            Poll::Ready(Ok(ev)) => Poll::Ready(ev),
            Poll::Ready(Err(_)) => panic!("no cancel or shutdown here"),
            Poll::Pending => Poll::Pending,
        }),
    )
}

/// Dispatches `ready` and wakes what it took, after the lock (step 1);
/// returns how many.
fn dispatch(io: &ScheduledIo, ready: Ready) -> usize {
    let mut taken = Vec::new();
    io.set_readiness(ready, &mut taken);
    let n = taken.len();
    taken.into_iter().for_each(Waker::wake);
    n
}

/// A task that can be cancelled from another thread; its "binding" is the
/// waker of its last poll, which the canceller wakes (as the executor's
/// token binding does).
struct FakeTask {
    token: CancelToken,
    cancelled: AtomicBool,
    /// Cancelled before the model's threads start: what `cancelled()`
    /// reports once the flag is set (a flag keeps the model small; the
    /// tree's own races are the cancel crate's models).
    gone: CancelToken,
    binding: Mutex<Option<Waker>>,
}

impl TaskCancel for FakeTask {
    fn token(&self) -> &CancelToken {
        &self.token
    }
    fn cancelled(&self) -> Option<quell_cancel::Cancelled> {
        // Acquire pairs with the Release store in `cancel`.
        if self.cancelled.load(Acquire) {
            self.gone.cancelled_error()
        } else {
            None
        }
    }
}

impl FakeTask {
    fn new() -> FakeTask {
        let gone = CancelToken::new();
        gone.cancel(Cause::explicit("model"));
        FakeTask {
            token: CancelToken::new(),
            cancelled: AtomicBool::new(false),
            gone,
            binding: Mutex::new(None),
        }
    }

    fn cancel(&self) {
        // Release: publishes the flag before the wake below.
        self.cancelled.store(true, Release);
        if let Some(w) = self.binding.lock().unwrap().take() {
            w.wake();
        }
    }

    /// One cancellable wait for `dir`, polled with `waker`.
    fn wait(
        &self,
        io: &ScheduledIo,
        waker: &(std::sync::Arc<Signal>, Waker),
        dir: Direction,
    ) -> Result<ReadyEvent, WaitError> {
        block_on(
            waker,
            poll_fn(|cx| {
                // The executor binds the task to its cancellation before
                // it parks; model that binding (register, then re-check).
                *self.binding.lock().unwrap() = Some(cx.waker().clone());
                context::enter(self, || io.poll_ready(cx, dir))
            }),
        )
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
            // Only the reader's waker can be taken (nobody waits to write).
            let n = dispatch(&io2, Ready::READABLE);
            assert!(n <= 1, "took {n} wakers");
        });
        let waker = signal();
        let ev = wait(&io, &waker, Direction::Read);
        assert!(ev.ready().intersects(Ready::READABLE));
        th.join().unwrap();
        assert!(
            !io.has_waiter(Direction::Read),
            "a completed wait leaves no waker"
        );
    });
}

/// C6 with several waiters: two tasks wait on the same direction (distinct
/// stable wakers) while a third thread dispatches readiness. Both waits
/// complete: the dispatch wakes every waiter, and a waiter that sees the
/// readiness before the dispatcher takes the list removes only its own
/// entry.
#[test]
fn loom_two_waiters_same_direction_both_woken() {
    model(|| {
        let io = Arc::new(ScheduledIo::new(1));
        let io_b = io.clone();
        let b = thread::spawn(move || {
            let waker = signal();
            let ev = wait(&io_b, &waker, Direction::Read);
            assert!(ev.ready().intersects(Ready::READABLE));
            assert!(!io_b.has_waker(Direction::Read, &waker.1), "B's entry gone");
        });
        let io_c = io.clone();
        let c = thread::spawn(move || {
            dispatch(&io_c, Ready::READABLE);
        });
        let waker = signal();
        let ev = wait(&io, &waker, Direction::Read);
        assert!(ev.ready().intersects(Ready::READABLE));
        assert!(!io.has_waker(Direction::Read, &waker.1), "A's entry gone");
        b.join().unwrap();
        c.join().unwrap();
        assert!(!io.has_waiter(Direction::Read), "no waker left behind");
    });
}

/// Step 3: clearing readiness after `WouldBlock` never clears an event
/// that arrived after the wait looked (the tick differs).
#[test]
fn loom_clear_vs_new_event() {
    model(|| {
        let io = Arc::new(ScheduledIo::new(1));
        dispatch(&io, Ready::READABLE);
        let waker = signal();
        let first = wait(&io, &waker, Direction::Read);
        let io2 = io.clone();
        let th = thread::spawn(move || {
            dispatch(&io2, Ready::READABLE);
        });
        // The I/O call hit WouldBlock: clear what `first` saw.
        io.clear_readiness(first);
        // The second event must still be observed.
        let ev = wait(&io, &waker, Direction::Read);
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
        let task = Arc::new(FakeTask::new());

        let t2 = task.clone();
        let canceller = thread::spawn(move || t2.cancel());
        let io2 = io.clone();
        let dispatcher = thread::spawn(move || {
            dispatch(&io2, Ready::READABLE);
        });

        let waker = signal();
        match task.wait(&io, &waker, Direction::Read) {
            Ok(ev) => assert!(ev.ready().intersects(Ready::READABLE)),
            Err(WaitError::Cancelled(c)) => assert_eq!(c.cause().message(), Some("model")),
            Err(WaitError::Shutdown) => panic!("no shutdown in this model"),
        }
        assert!(
            !io.has_waker(Direction::Read, &waker.1),
            "C7: the ended wait's waker is gone"
        );
        assert!(!io.has_waiter(Direction::Read), "and there is no other");
        canceller.join().unwrap();
        dispatcher.join().unwrap();
    });
}

/// C7 with a sibling: A (cancellable) and B wait on the same direction;
/// a third thread cancels A, then dispatches readiness. A ends (readiness
/// or `Cancelled`) without leaving its waker; B's entry survives A's
/// removal, so B is woken and completes.
#[test]
fn loom_cancel_one_of_two_waiters() {
    model(|| {
        let io = Arc::new(ScheduledIo::new(1));
        let task = Arc::new(FakeTask::new());

        let io_b = io.clone();
        let b = thread::spawn(move || {
            let waker = signal();
            wait(&io_b, &waker, Direction::Read);
        });
        let io_c = io.clone();
        let t2 = task.clone();
        let c = thread::spawn(move || {
            t2.cancel();
            dispatch(&io_c, Ready::READABLE);
        });

        let waker = signal();
        match task.wait(&io, &waker, Direction::Read) {
            Ok(ev) => assert!(ev.ready().intersects(Ready::READABLE)),
            Err(WaitError::Cancelled(c)) => assert_eq!(c.cause().message(), Some("model")),
            Err(WaitError::Shutdown) => panic!("no shutdown in this model"),
        }
        assert!(!io.has_waker(Direction::Read, &waker.1), "C7");
        b.join().unwrap();
        c.join().unwrap();
        assert!(!io.has_waiter(Direction::Read));
    });
}
