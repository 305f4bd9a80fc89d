//! Shared plumbing of the sync primitives: the waiter list, the
//! poison-tolerant lock and the panic-contained wake.
//!
//! # Waiter list
//!
//! A waiting future (an `mpsc` send on a full channel, a `Notify` waiter)
//! owns an `Option<WaiterId>`; the list maps that id to its waker. Ids are
//! never reused within one list, so a future that is cancelled or dropped
//! removes exactly its own entry and never someone else's.
//!
//! An entry is *notified* when the primitive handed it something (a
//! `notify_one` permit, a freed slot): its waker is taken (to be woken after
//! the lock is released) and the entry stays in the list, marked, until the
//! future polls or goes away. A notified entry that goes away without using
//! what it was handed passes it on (the primitive decides how); that is what
//! makes "a wakeup meant for a cancelled waiter" impossible to lose.
//!
//! # Waking
//!
//! Wakers are user code. They are only woken after the primitive's lock is
//! released (a waker may re-enter the primitive), and a panic in `wake` is
//! caught and discarded ([`wake`]): by then the primitive's state is final,
//! so a panicking waker can neither poison the primitive nor lose a value.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Waker;

use crate::loom::{Mutex, MutexGuard};

/// Identifies one waiting future within one [`WaiterList`].
pub(crate) type WaiterId = u64;

/// Locks `m`, ignoring poisoning.
///
/// Every critical section of the sync primitives leaves the state consistent
/// before it calls anything that may panic (waker clones are made before
/// mutating, user wakers and user destructors run after unlocking), so a
/// poisoned lock still guards a consistent state.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wakes `waker` (if any), containing a panic of the user's waker.
pub(crate) fn wake(waker: Option<Waker>) {
    if let Some(w) = waker {
        // The panic payload is dropped: the wake is best effort, and the
        // primitive's state was made final before this call.
        let _ = catch_unwind(AssertUnwindSafe(move || w.wake()));
    }
}

/// Wakes every waker of `wakers`, containing panics (see [`wake`]).
pub(crate) fn wake_all(wakers: Vec<Waker>) {
    for w in wakers {
        wake(Some(w));
    }
}

#[derive(Debug)]
struct Entry {
    id: WaiterId,
    /// `None` once notified (the waker was taken to be woken).
    waker: Option<Waker>,
    notified: bool,
}

/// FIFO list of parked futures, each known by its [`WaiterId`].
#[derive(Debug, Default)]
pub(crate) struct WaiterList {
    next_id: WaiterId,
    entries: VecDeque<Entry>,
}

impl WaiterList {
    /// An empty list.
    pub(crate) fn new() -> WaiterList {
        WaiterList::default()
    }

    /// Parks the future whose id is `*slot` with `waker`: assigns an id on
    /// first use, (re)inserts the entry at the back if it is not in the list,
    /// and clears its notified mark (the caller looked and found nothing, so
    /// whatever it was handed is gone and it waits anew).
    pub(crate) fn park(&mut self, slot: &mut Option<WaiterId>, waker: &Waker) {
        let id = *slot.get_or_insert_with(|| {
            let id = self.next_id;
            self.next_id += 1;
            id
        });
        match self.entries.iter_mut().find(|e| e.id == id) {
            Some(e) => {
                // Clone (user code, may panic) before mutating the entry.
                if !e.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    let w = waker.clone();
                    e.waker = Some(w);
                }
                e.notified = false;
            }
            None => {
                let w = waker.clone();
                self.entries.push_back(Entry {
                    id,
                    waker: Some(w),
                    notified: false,
                });
            }
        }
    }

    /// Whether `id` is in the list and notified.
    pub(crate) fn is_notified(&self, id: WaiterId) -> bool {
        self.entries.iter().any(|e| e.id == id && e.notified)
    }

    /// Removes `id`'s entry. Returns whether it was notified (an absent
    /// entry was not).
    pub(crate) fn remove(&mut self, id: WaiterId) -> bool {
        match self.entries.iter().position(|e| e.id == id) {
            Some(i) => self.entries.remove(i).is_some_and(|e| e.notified),
            None => false,
        }
    }

    /// Notifies the first entry that is not notified yet and returns its
    /// waker, to be woken once the lock is released. `None`: no such entry.
    pub(crate) fn notify_one(&mut self) -> Option<Waker> {
        let e = self.entries.iter_mut().find(|e| !e.notified)?;
        e.notified = true;
        e.waker.take()
    }

    /// Removes every entry that is not notified and returns their wakers.
    /// Notified entries stay: they still owe a hand-over if they go away.
    pub(crate) fn take_unnotified(&mut self) -> Vec<Waker> {
        let mut out = Vec::new();
        self.entries.retain_mut(|e| {
            if e.notified {
                return true;
            }
            out.extend(e.waker.take());
            false
        });
        out
    }

    /// Number of entries (notified or not).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}
