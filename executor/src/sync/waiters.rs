//! The sync primitives' waiter bookkeeping, over the runtime's one waiter
//! list (`quell_cancel::rt_internal::waiters`), whose lock and wake helpers are used here
//! too.
//!
//! # Waiter list
//!
//! A waiting future (an `mpsc` send on a full channel, a `Notify` waiter)
//! owns an `Option<WaiterId>`: the key of its entry, which maps to its
//! waker. Keys are never reused within one list, so a future that is
//! cancelled or dropped removes exactly its own entry and never someone
//! else's.
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
//! caught and discarded ([`wake_all`]): by then the primitive's state is
//! final, so a panicking waker can neither poison the primitive nor lose a
//! value. The primitives' locks are taken with [`lock`], which ignores
//! poisoning: every critical section leaves the state consistent before it
//! calls anything that may panic (waker clones are made before mutating,
//! user wakers and user destructors run after unlocking).

use std::task::Waker;

pub(crate) use quell_cancel::rt_internal::waiters::lock;
use quell_cancel::rt_internal::waiters::{wake, Key, WaiterList as List, WakeBatch};

/// Wakes every waker of `wakers` after the primitive's lock is released,
/// containing each one's panic, as one wake batch (`quell_cancel`'s
/// `WakeBatch`): a fan-out (a `watch` send, a `broadcast` value, a
/// `notify_waiters`) from a task queues the woken tasks on its worker in
/// wake order, the first in the LIFO slot, and notifies the other workers
/// once when the batch ends (`worker::wake_batch`) rather than once per
/// wake (a fence each, each wake displacing the previous one from the LIFO
/// slot). None or one waker (most calls: a lock or permit handed on, a
/// broadcast value for the one receiver parked) skips the batch.
pub(crate) fn wake_all(wakers: impl IntoIterator<Item = Waker>) {
    let mut wakers = wakers.into_iter();
    let Some(first) = wakers.next() else {
        return;
    };
    let Some(second) = wakers.next() else {
        wake(first);
        return;
    };
    let mut batch = WakeBatch::new();
    batch.wake(first);
    batch.wake(second);
    batch.wake_all(wakers);
}

/// Wakers taken under a primitive's lock, to be woken after it (with
/// [`wake_all`]). The first is stored inline: handing a lock or a permit to
/// one waiter (the common case) allocates nothing.
#[derive(Debug, Default)]
#[must_use = "taken wakers must be woken"]
pub(crate) struct Wakers {
    head: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakers {
    pub(crate) fn push(&mut self, w: Waker) {
        match self.head {
            None => self.head = Some(w),
            Some(_) => self.rest.push(w),
        }
    }
}

impl Extend<Waker> for Wakers {
    fn extend<I: IntoIterator<Item = Waker>>(&mut self, iter: I) {
        iter.into_iter().for_each(|w| self.push(w));
    }
}

impl IntoIterator for Wakers {
    type Item = Waker;
    type IntoIter = std::iter::Chain<std::option::IntoIter<Waker>, std::vec::IntoIter<Waker>>;

    fn into_iter(self) -> Self::IntoIter {
        self.head.into_iter().chain(self.rest)
    }
}

/// Identifies one waiting future's entry within one [`WaiterList`].
pub(crate) type WaiterId = Key;

#[derive(Debug)]
struct Entry {
    /// `None` once notified (the waker was taken to be woken).
    waker: Option<Waker>,
    notified: bool,
}

/// FIFO list of parked futures, each known by its [`WaiterId`].
#[derive(Debug, Default)]
pub(crate) struct WaiterList {
    entries: List<Entry>,
}

impl WaiterList {
    /// An empty list.
    pub(crate) fn new() -> WaiterList {
        WaiterList::default()
    }

    /// Parks the future whose key is `*slot` with `waker`: if its entry is
    /// in the list, updates it; otherwise inserts one at the back (a new
    /// key, stored in `*slot`). Clears the notified mark either way (the
    /// caller looked and found nothing, so whatever it was handed is gone
    /// and it waits anew).
    pub(crate) fn park(&mut self, slot: &mut Option<WaiterId>, waker: &Waker) {
        if let Some(e) = slot.and_then(|id| self.entries.get_mut(id)) {
            // Clone (user code, may panic) before mutating the entry.
            if !e.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                let w = waker.clone();
                e.waker = Some(w);
            }
            e.notified = false;
            return;
        }
        let w = waker.clone();
        *slot = Some(self.entries.push_back(Entry {
            waker: Some(w),
            notified: false,
        }));
    }

    /// Whether `id` is in the list and notified.
    pub(crate) fn is_notified(&self, id: WaiterId) -> bool {
        self.entries.get(id).is_some_and(|e| e.notified)
    }

    /// Removes `id`'s entry. Returns whether it was notified (an absent
    /// entry was not).
    pub(crate) fn remove(&mut self, id: WaiterId) -> bool {
        self.entries.remove(id).is_some_and(|e| e.notified)
    }

    /// Notifies the first entry that is not notified yet and returns its
    /// waker, to be woken once the lock is released. `None`: no such entry.
    pub(crate) fn notify_one(&mut self) -> Option<Waker> {
        let e = self.entries.find_mut(|e| !e.notified)?;
        e.notified = true;
        e.waker.take()
    }

    /// Removes every entry that is not notified and returns their wakers.
    /// Notified entries stay: they still owe a hand-over if they go away.
    pub(crate) fn take_unnotified(&mut self) -> Wakers {
        let mut ws = Wakers::default();
        // One allocation for a fan-out (a watch or broadcast send wakes
        // every receiver; sized for the whole list, notified entries
        // included), none for a single waiter; the entries are not
        // collected on the way.
        ws.rest.reserve_exact(self.entries.len().saturating_sub(1));
        self.entries.extract_each(
            |e| !e.notified,
            |e| {
                if let Some(w) = e.waker {
                    ws.push(w);
                }
            },
        );
        ws
    }

    /// Number of entries (notified or not).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}
