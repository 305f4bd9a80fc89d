//! [`Set`]: the members of a group, joined in completion order.
//!
//! Each member's `JoinHandle` is polled with a waker of its own
//! ([`MemberWaker`]). When the member completes, the runtime wakes that
//! waker, which appends the member's slot to the *ready queue* and wakes
//! the group's waiter; `poll_join_next` pops the queue and polls only
//! that handle. So a completion costs O(1) (two short critical sections),
//! whatever the number of members; no handle is polled on a wake that is
//! not its own. A new member starts in the queue, so its first poll
//! registers its waker (before that the runtime has no waker to wake).
//!
//! # Invariants
//!
//! 1. A member is in the ready queue at most once: its `queued` flag is set
//!    when it is pushed and cleared when it is popped, both under the queue
//!    lock (`Relaxed` suffices: the lock orders them).
//! 2. A queue entry carries the slot's generation; a slot reused by a later
//!    member has a new one, so a stale entry (a member removed meanwhile)
//!    is skipped, never polled as someone else.
//! 3. Lost-wakeup freedom: the flag is cleared *before* the handle is
//!    polled. A completion after the clear pushes the member again; one
//!    before it found the flag set, and its unlock happens-before our lock,
//!    so the poll that follows sees the task complete.
//!
//! Lock order: the queue lock is a leaf; no waker is woken under it (the
//! waiter's waker is taken out and woken after the unlock).

use std::collections::VecDeque;
use std::task::{Context, Poll, Wake, Waker};

use crate::loom::atomic::{AtomicBool, Ordering::Relaxed};
use crate::loom::{Arc, Mutex};
use crate::task::{JoinError, JoinHandle};

/// At most this many handles are polled per `poll_join_next` before it
/// yields (a burst of new members must not hog the worker).
const POLLS_PER_CALL: usize = 64;

pub(crate) struct Set<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
    shared: Arc<Shared>,
}

struct Slot<T> {
    generation: u32,
    member: Option<Member<T>>,
}

struct Member<T> {
    handle: JoinHandle<T>,
    waker: Arc<MemberWaker>,
    /// `waker` as a `Waker`, made once: polling the handle borrows it
    /// (no refcount traffic per join).
    as_waker: Waker,
}

/// What member wakers share with the set.
struct Shared {
    queue: Mutex<Queue>,
}

struct Queue {
    ready: VecDeque<(u32, u32)>,
    waiter: Option<Waker>,
}

/// The waker a member's handle is polled with. `std::task::Wake` needs
/// `std::sync::Arc`, which `crate::loom::Arc` is outside loom; this module
/// is compiled out under loom (the group protocol loom checks is the first
/// failure, `failure.rs`).
struct MemberWaker {
    shared: Arc<Shared>,
    index: u32,
    generation: u32,
    queued: AtomicBool,
}

impl Wake for MemberWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waiter = {
            let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
            if self.queued.load(Relaxed) {
                return; // invariant 1
            }
            self.queued.store(true, Relaxed);
            q.ready.push_back((self.index, self.generation));
            q.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

impl<T> Set<T> {
    pub(crate) fn new() -> Set<T> {
        Set {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue {
                    ready: VecDeque::new(),
                    waiter: None,
                }),
            }),
        }
    }

    /// Number of members not yet joined.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds a member (queued, so the next `poll_join_next` registers it)
    /// and wakes a waiting `poll_join_next`.
    pub(crate) fn insert(&mut self, handle: JoinHandle<T>) {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    member: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        let waker = Arc::new(MemberWaker {
            shared: self.shared.clone(),
            index,
            generation: slot.generation,
            queued: AtomicBool::new(false),
        });
        slot.member = Some(Member {
            handle,
            as_waker: Waker::from(waker.clone()),
            waker: waker.clone(),
        });
        self.len += 1;
        waker.wake();
    }

    /// The next member to complete, in completion order; `None` when there
    /// are no members left.
    pub(crate) fn poll_join_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<T, JoinError>>> {
        for _ in 0..POLLS_PER_CALL {
            let index = {
                let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
                let Some((index, generation)) = q.ready.pop_front() else {
                    if self.len == 0 {
                        return Poll::Ready(None);
                    }
                    if !q.waiter.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        q.waiter = Some(cx.waker().clone());
                    }
                    return Poll::Pending;
                };
                let slot = &self.slots[index as usize];
                match &slot.member {
                    // Invariant 2: skip a stale entry.
                    Some(m) if slot.generation == generation => {
                        // Invariant 3: cleared before the poll, under the lock.
                        m.waker.queued.store(false, Relaxed);
                        index
                    }
                    _ => continue,
                }
            };
            let slot = &mut self.slots[index as usize];
            let member = slot.member.as_mut().expect("checked under the lock");
            let mut mcx = Context::from_waker(&member.as_waker);
            if let Poll::Ready(out) = member.handle.poll_completion(&mut mcx) {
                slot.member = None;
                slot.generation = slot.generation.wrapping_add(1);
                self.free.push(index);
                self.len -= 1;
                return Poll::Ready(Some(out));
            }
        }
        cx.waker().wake_by_ref(); // budget used up: come back soon
        Poll::Pending
    }

    /// Every member still in the set (for cancel / abort on drop).
    pub(crate) fn handles(&self) -> impl Iterator<Item = &JoinHandle<T>> {
        self.slots
            .iter()
            .filter_map(|s| s.member.as_ref().map(|m| &m.handle))
    }
}
