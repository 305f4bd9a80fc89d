//! [`Barrier`]: `n` tasks wait until all `n` have arrived; `wait` is a
//! cancel-aware await point.
//!
//! # Protocol and the cancel rule
//!
//! One `Mutex<State>`: the arrivals of the current generation, the
//! generation number and the waiter list. `wait` poll, in order:
//!
//! 1. budget;
//! 2. cancellation: if this wait arrived and its generation has not
//!    tripped, it **withdraws its arrival** (count − 1, entry removed) and
//!    returns `Cancelled`: the barrier now waits for one more arrival, as if
//!    it had never come. If its generation already tripped, the wait has
//!    completed (the trip counted it and released the others; it cannot be
//!    taken back) and it returns `Ok`;
//! 3. under the lock: not arrived → arrive; the `n`-th arrival trips the
//!    generation (count reset, generation + 1, every parked waiter taken,
//!    woken after unlocking) and returns `Ok` as the leader; otherwise it
//!    parks. Arrived → its generation tripped → `Ok`; else park again.
//!
//! Dropping a wait withdraws its arrival the same way (unless tripped).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use quell_cancel::{rt_internal as context, Cancelled};
use quell_io_driver::rt_internal::coop;

use super::waiters::{lock, wake_all, WaiterId, WaiterList};
use crate::loom::Mutex;

/// A reusable barrier for `n` tasks: each [`wait`](Barrier::wait) returns
/// once `n` waits have arrived in its generation, exactly one of them as
/// the leader. A wait whose task's cancellation is observed before its
/// generation tripped withdraws its arrival (the barrier then needs one
/// more) and returns `Err(Cancelled)`; after the trip it has completed and
/// returns `Ok` (the trip counted it and released the others).
///
/// ```
/// use std::sync::Arc;
/// use quell_executor::sync::Barrier;
///
/// let rt = quell_executor::Runtime::new().unwrap();
/// rt.block_on(async {
///     let barrier = Arc::new(Barrier::new(3));
///     let mut tasks = Vec::new();
///     for _ in 0..3 {
///         let b = barrier.clone();
///         tasks.push(quell_executor::spawn(async move { b.wait().await.unwrap().is_leader() }));
///     }
///     let mut leaders = 0;
///     for t in tasks {
///         leaders += t.await.unwrap() as usize;
///     }
///     assert_eq!(leaders, 1);
/// });
/// ```
pub struct Barrier {
    state: Mutex<State>,
}

struct State {
    n: usize,
    /// Arrivals in the current generation.
    count: usize,
    generation: u64,
    waiters: WaiterList,
}

/// What [`Barrier::wait`] returns: whether this wait tripped the barrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this was the `n`-th arrival (exactly one per generation).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` tasks (`n == 0` behaves as 1: every wait is the
    /// leader at once).
    ///
    /// ```
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let b = quell_executor::sync::Barrier::new(1);
    ///     assert!(b.wait().await.unwrap().is_leader());
    /// });
    /// ```
    pub fn new(n: usize) -> Barrier {
        Barrier {
            state: Mutex::new(State {
                n: n.max(1),
                count: 0,
                generation: 0,
                waiters: WaiterList::new(),
            }),
        }
    }

    /// Arrives and waits for the others. A cancel-aware await point:
    /// `Err(Cancelled)` once the current task's cancellation is observed
    /// before its generation tripped (its arrival is withdrawn).
    ///
    /// ```
    /// use quell_cancel::Cause;
    /// use std::sync::Arc;
    /// use quell_executor::sync::Barrier;
    ///
    /// let rt = quell_executor::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let b = Arc::new(Barrier::new(2));
    ///     let b2 = b.clone();
    ///     let task = quell_executor::spawn(async move { b2.wait().await.is_ok() });
    ///     task.cancel(Cause::explicit("stop"));
    ///     assert!(!task.await.unwrap());
    ///     // Its arrival was withdrawn: this wait is not the second one.
    ///     assert_eq!(b.arrived(), 0);
    /// });
    /// ```
    #[track_caller]
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            at: std::panic::Location::caller(),
            barrier: self,
            arrived: None,
        }
    }

    /// Arrivals in the current generation.
    pub fn arrived(&self) -> usize {
        lock(&self.state).count
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").finish_non_exhaustive()
    }
}

/// Future returned by [`Barrier::wait`]. Dropping it before its generation
/// tripped withdraws its arrival.
#[must_use = "futures do nothing unless polled"]
pub struct BarrierWait<'a> {
    /// The caller (task dumps show where a task waits).
    at: &'static std::panic::Location<'static>,
    barrier: &'a Barrier,
    /// The generation it arrived in, and its entry.
    arrived: Option<(u64, Option<WaiterId>)>,
}

impl BarrierWait<'_> {
    /// Leaves: `true` if its generation had tripped (the wait completed),
    /// else its arrival is withdrawn.
    fn leave(&mut self) -> bool {
        let Some((generation, id)) = self.arrived.take() else {
            return false;
        };
        let mut st = lock(&self.barrier.state);
        if let Some(id) = id {
            st.waiters.remove(id);
        }
        if st.generation != generation {
            return true;
        }
        st.count -= 1;
        false
    }
}

impl Future for BarrierWait<'_> {
    type Output = Result<BarrierWaitResult, Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let p = self.as_mut().poll_waiting(cx);
        if p.is_pending() {
            quell_cancel::rt_internal::wait::record(&BARRIER_WAIT, Some(self.at), 0);
        }
        p
    }
}

/// `Barrier::wait` (a task dump's await point): waits for the others to arrive.
static BARRIER_WAIT: quell_cancel::rt_internal::wait::AwaitPoint =
    quell_cancel::rt_internal::wait::AwaitPoint {
        what: "Barrier::wait",
        describe: None,
    };

impl BarrierWait<'_> {
    /// The poll, without the dump's record.
    #[inline]
    fn poll_waiting(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<BarrierWaitResult, Cancelled>> {
        let this = self.get_mut();
        // Step 1: budget.
        ready!(coop::poll_proceed(cx));
        // Step 2: cancellation first; withdraw unless already tripped.
        if let Some(c) = context::observed() {
            let tripped = this.leave();
            return Poll::Ready(if tripped {
                Ok(BarrierWaitResult(false))
            } else {
                Err(c)
            });
        }
        // Step 3: under the lock.
        let mut st = lock(&this.barrier.state);
        match &mut this.arrived {
            None => {
                st.count += 1;
                if st.count == st.n {
                    st.count = 0;
                    st.generation += 1;
                    let ws = st.waiters.take_unnotified();
                    drop(st);
                    wake_all(ws);
                    return Poll::Ready(Ok(BarrierWaitResult(true)));
                }
                let generation = st.generation;
                let mut id = None;
                st.waiters.park(&mut id, cx.waker());
                this.arrived = Some((generation, id));
                Poll::Pending
            }
            Some((generation, id)) => {
                if st.generation != *generation {
                    if let Some(id) = id.take() {
                        st.waiters.remove(id);
                    }
                    this.arrived = None;
                    return Poll::Ready(Ok(BarrierWaitResult(false)));
                }
                st.waiters.park(id, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        self.leave();
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("arrived", &self.arrived.is_some())
            .finish_non_exhaustive()
    }
}
