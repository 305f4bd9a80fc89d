//! **Runtime-internal, not API** (hidden from the docs; may change at any
//! time): the one waiter list and the one "wake a user waker" helper of
//! every quell crate. quell-cancel holds them because every other crate
//! depends on it; the token tree, the I/O driver's registrations and the
//! executor's sync primitives all use these.
//!
//! # The waiter list
//!
//! [`WaiterList`] is a slab (slots plus a free list) threaded with a
//! doubly linked list in insertion order: insert, remove by key and lookup
//! are O(1), iteration is FIFO. A [`Key`] carries a generation unique
//! within its list, so a key whose entry is gone never matches a later
//! entry that reuses the slot: whoever removes by key removes exactly its
//! own entry, never someone else's. The list is plain data, used under its
//! owner's lock.
//!
//! # Waking user wakers
//!
//! A `Waker` is user code: its `clone`, `wake` and `drop` may panic or
//! re-enter the runtime. The rule for every caller: clone before taking a
//! runtime lock (or under a lock whose state is consistent at that point
//! and that tolerates poisoning, see [`lock`]); take wakers out of the list
//! under the lock and wake or drop them only after releasing it, through
//! [`wake`] / [`wake_all`], which contain a panic so that it can neither
//! poison a lock nor stop the caller from waking the others.
//!
//! # Wake batches
//!
//! A cancel that reaches N parked tasks wakes N wakers back to back. A
//! [`WakeBatch`] tells the runtime so (through the [`BatchHook`] the
//! executor registers): from the batch's first wake when it is known to
//! hold two or more ([`WakeBatch::wake_all`] of a list of that size), else
//! from its second, the runtime queues the woken tasks in wake order and
//! decides once, when the batch ends, whether to notify its other workers,
//! rather than treating each wake as a message for the task to run next
//! (each one displacing the previous from the worker's LIFO slot, each with
//! its own notification check). A batch of one wake never calls the hook.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use std::task::Waker;
use std::{iter, option, vec};

use crate::loom::{Mutex, MutexGuard};

const NIL: usize = usize::MAX;

/// Identifies one entry of one [`WaiterList`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    index: usize,
    generation: u64,
}

impl Key {
    /// The slot index (stable while the entry is in the list).
    pub fn index(self) -> usize {
        self.index
    }

    /// The generation: unique per insert within one list.
    pub fn generation(self) -> u64 {
        self.generation
    }

    /// Rebuilds a key from its parts (for a key stored in another form).
    pub fn from_parts(index: usize, generation: u64) -> Key {
        Key { index, generation }
    }
}

#[derive(Debug)]
struct Slot<T> {
    value: Option<T>,
    generation: u64,
    prev: usize,
    next: usize,
}

/// A keyed FIFO of waiters (see the module docs).
#[derive(Debug)]
pub struct WaiterList<T> {
    slots: Vec<Slot<T>>,
    free: Vec<usize>,
    head: usize,
    tail: usize,
    len: usize,
    next_generation: u64,
}

impl<T> Default for WaiterList<T> {
    fn default() -> Self {
        WaiterList::new()
    }
}

impl<T> WaiterList<T> {
    /// An empty list (allocates nothing).
    pub const fn new() -> WaiterList<T> {
        WaiterList {
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            len: 0,
            next_generation: 0,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The key the next [`push_back`](Self::push_back) will return.
    pub fn vacant_key(&self) -> Key {
        Key {
            index: self.free.last().copied().unwrap_or(self.slots.len()),
            generation: self.next_generation,
        }
    }

    /// Appends `value`; returns its key.
    pub fn push_back(&mut self, value: T) -> Key {
        let key = self.vacant_key();
        self.next_generation += 1;
        let slot = Slot {
            value: Some(value),
            generation: key.generation,
            prev: self.tail,
            next: NIL,
        };
        match self.free.pop() {
            Some(i) => self.slots[i] = slot,
            None => self.slots.push(slot),
        }
        match self.tail {
            NIL => self.head = key.index,
            t => self.slots[t].next = key.index,
        }
        self.tail = key.index;
        self.len += 1;
        key
    }

    fn live(&self, key: Key) -> bool {
        self.slots
            .get(key.index)
            .is_some_and(|s| s.generation == key.generation && s.value.is_some())
    }

    /// The entry under `key`, if it is still in the list.
    pub fn get(&self, key: Key) -> Option<&T> {
        if !self.live(key) {
            return None;
        }
        self.slots[key.index].value.as_ref()
    }

    /// The entry under `key`, if it is still in the list.
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        if !self.live(key) {
            return None;
        }
        self.slots[key.index].value.as_mut()
    }

    /// Removes the entry under `key`; `None` if it is gone already.
    pub fn remove(&mut self, key: Key) -> Option<T> {
        if !self.live(key) {
            return None;
        }
        Some(self.unlink(key.index))
    }

    fn unlink(&mut self, i: usize) -> T {
        let (prev, next) = (self.slots[i].prev, self.slots[i].next);
        match prev {
            NIL => self.head = next,
            p => self.slots[p].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.slots[n].prev = prev,
        }
        self.free.push(i);
        self.len -= 1;
        self.slots[i]
            .value
            .take()
            .expect("linked slot holds a value")
    }

    /// The entries, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        let mut i = self.head;
        iter::from_fn(move || {
            let s = self.slots.get(i)?;
            i = s.next;
            s.value.as_ref()
        })
    }

    /// The oldest entry for which `pred` holds.
    pub fn find_mut(&mut self, mut pred: impl FnMut(&T) -> bool) -> Option<&mut T> {
        let mut i = self.head;
        while i != NIL {
            let s = &self.slots[i];
            if s.value.as_ref().is_some_and(&mut pred) {
                return self.slots[i].value.as_mut();
            }
            i = s.next;
        }
        None
    }

    /// Removes every entry for which `pred` holds (`pred` may update the
    /// entries it keeps); returns the removed ones, oldest first.
    pub fn extract_if(&mut self, pred: impl FnMut(&mut T) -> bool) -> Taken<T> {
        let mut out = Taken::default();
        self.extract_each(pred, |v| out.push(v));
        out
    }

    /// [`extract_if`](Self::extract_if) handing each removed entry to `f`
    /// as it goes (oldest first) instead of collecting them: a caller that
    /// keeps only part of each entry (a waker) fills its own collection,
    /// sized once. The list is consistent between calls of `pred` and `f`.
    pub fn extract_each(&mut self, mut pred: impl FnMut(&mut T) -> bool, mut f: impl FnMut(T)) {
        let mut i = self.head;
        while i != NIL {
            let next = self.slots[i].next;
            if self.slots[i].value.as_mut().is_some_and(&mut pred) {
                f(self.unlink(i));
            }
            i = next;
        }
    }

    /// Removes every entry; returns them, oldest first. Capacity is kept, and
    /// the keys of the removed entries never match again (the generation
    /// counter is not reset).
    pub fn take_all(&mut self) -> Taken<T> {
        let mut out = Taken::default();
        self.take_each(|v| out.push(v));
        out
    }

    /// [`take_all`](Self::take_all) handing each entry to `f` (oldest
    /// first) instead of collecting them, so that a caller gathering the
    /// entries of several lists (the I/O driver's wakers of one turn) fills
    /// one collection. An empty list returns without touching its slab.
    pub fn take_each(&mut self, mut f: impl FnMut(T)) {
        if self.slots.is_empty() {
            return;
        }
        let mut i = self.head;
        while i != NIL {
            let s = &mut self.slots[i];
            i = s.next;
            if let Some(v) = s.value.take() {
                f(v);
            }
        }
        // No slot is live any more: start the slab over (no free-list
        // pushes, which would allocate).
        self.slots.clear();
        self.free.clear();
        self.head = NIL;
        self.tail = NIL;
        self.len = 0;
    }
}

/// Entries taken out of a [`WaiterList`], to be woken or dropped after the
/// lock is released. The first is stored inline: taking a single waiter
/// (the common case) allocates nothing.
#[derive(Debug)]
#[must_use = "taken waiters must be handled (woken, for wakers)"]
pub struct Taken<T> {
    head: Option<T>,
    rest: Vec<T>,
}

impl<T> Default for Taken<T> {
    fn default() -> Self {
        Taken {
            head: None,
            rest: Vec::new(),
        }
    }
}

impl<T> Taken<T> {
    fn push(&mut self, v: T) {
        match self.head {
            None => self.head = Some(v),
            Some(_) => self.rest.push(v),
        }
    }

    /// How many entries were taken.
    pub fn len(&self) -> usize {
        usize::from(self.head.is_some()) + self.rest.len()
    }

    /// Whether nothing was taken.
    pub fn is_empty(&self) -> bool {
        self.head.is_none()
    }
}

impl<T> IntoIterator for Taken<T> {
    type Item = T;
    type IntoIter = iter::Chain<option::IntoIter<T>, vec::IntoIter<T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.head.into_iter().chain(self.rest)
    }
}

/// Wakes a user waker, containing its panic. Call with no runtime lock
/// held. A panic's payload is dropped: a wake is best effort, and the
/// caller's state was final before the call.
pub fn wake(waker: Waker) {
    let _ = catch_unwind(AssertUnwindSafe(move || waker.wake()));
}

/// Wakes a user waker by reference (the caller keeps it), containing its
/// panic; see [`wake`].
pub fn wake_by_ref(waker: &Waker) {
    let _ = catch_unwind(AssertUnwindSafe(|| waker.wake_by_ref()));
}

/// Wakes every waker of `wakers` (an `Option`, a `Vec`, a [`Taken`], …),
/// each through [`wake`]: one panicking waker does not stop the others.
pub fn wake_all(wakers: impl IntoIterator<Item = Waker>) {
    wakers.into_iter().for_each(wake);
}

/// Called with `true` before the first batched wake of a [`WakeBatch`]
/// (its first or its second, see "Wake batches" above) and with
/// `false` once the batch is over; returns (for `true`) whether the
/// runtime opened a batch on this thread, so that only an opened batch is
/// closed. Registered by the executor ([`set_batch_hook`]).
pub type BatchHook = fn(bool) -> bool;

/// The process's wake-batch hook, registered by the executor.
static BATCH_HOOK: OnceLock<BatchHook> = OnceLock::new();

/// Registers the executor's wake-batch hook (the first registration of the
/// process stays; later calls are a no-op). The hook looks up the worker
/// current on the calling thread, so one registration serves every runtime.
pub fn set_batch_hook(hook: BatchHook) {
    let _ = BATCH_HOOK.set(hook);
}

/// A run of wakes that one event causes (a cancel walk), woken through
/// [`WakeBatch::wake`] with no lock held; see "Wake batches" above. Closes
/// the batch it opened when dropped.
#[derive(Debug, Default)]
#[must_use = "a batch is closed when dropped"]
pub struct WakeBatch {
    woken: usize,
    /// The hook opened a batch (closed on drop).
    open: Option<BatchHook>,
}

impl WakeBatch {
    /// An empty batch.
    pub fn new() -> WakeBatch {
        WakeBatch::default()
    }

    /// Wakes `waker` as [`wake`] does; before the second wake of the
    /// batch, opens the runtime's batch.
    pub fn wake(&mut self, waker: Waker) {
        if self.woken == 1 {
            self.open();
        }
        self.woken += 1;
        wake(waker);
    }

    /// Wakes every waker of `wakers` (see [`WakeBatch::wake`]). If these
    /// are the batch's first wakes and there are at least two of them (by
    /// the iterator's size hint), the runtime's batch opens before the
    /// first: none of them is a message for one task to run next.
    pub fn wake_all(&mut self, wakers: impl IntoIterator<Item = Waker>) {
        let wakers = wakers.into_iter();
        if self.woken == 0 && wakers.size_hint().0 >= 2 {
            self.open();
            // Past the count at which `wake` opens.
            self.woken = 2;
        }
        wakers.for_each(|w| self.wake(w));
    }

    fn open(&mut self) {
        if let Some(&hook) = BATCH_HOOK.get() {
            self.open = hook(true).then_some(hook);
        }
    }
}

impl Drop for WakeBatch {
    fn drop(&mut self) {
        if let Some(hook) = self.open.take() {
            hook(false);
        }
    }
}

/// Locks `m`, ignoring poisoning. For locks whose every critical section
/// leaves the state consistent before anything that may panic (user code
/// runs before locking or after unlocking, per the module rule), so a
/// poisoned lock still guards a consistent state.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_keys_and_stale_keys() {
        let mut l = WaiterList::new();
        let a = l.push_back('a');
        let b = l.push_back('b');
        let c = l.push_back('c');
        assert_eq!(l.iter().copied().collect::<String>(), "abc");
        assert_eq!(l.remove(b), Some('b'));
        assert_eq!(l.remove(b), None, "a key removes once");
        // The freed slot is reused with a new generation: the old key
        // does not see the new entry.
        let d = l.push_back('d');
        assert_eq!(d.index(), b.index());
        assert_eq!(l.get(b), None);
        assert_eq!(l.get(d), Some(&'d'));
        assert_eq!(l.iter().copied().collect::<String>(), "acd");
        *l.find_mut(|&v| v == 'c').unwrap() = 'C';
        let out: String = l.extract_if(|v| *v != 'a').into_iter().collect();
        assert_eq!(out, "Cd");
        assert_eq!((l.len(), l.get(a)), (1, Some(&'a')));
        let vacant = l.vacant_key();
        assert_eq!(l.push_back('e'), vacant);
        let all = l.take_all();
        assert_eq!(all.len(), 2);
        assert_eq!(all.into_iter().collect::<String>(), "ae");
        assert!(l.is_empty() && l.get(a).is_none() && l.get(c).is_none());
        assert_eq!(l.iter().count(), 0);
    }

    std::thread_local! {
        /// What this thread's batch hook and test wakers saw, in order.
        static SEEN: std::cell::RefCell<Vec<&'static str>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }

    fn seen() -> Vec<&'static str> {
        SEEN.with(|s| s.borrow_mut().drain(..).collect())
    }

    fn recording_hook(open: bool) -> bool {
        SEEN.with(|s| s.borrow_mut().push(if open { "open" } else { "close" }));
        true
    }

    #[test]
    fn a_batch_opens_before_its_first_batched_wake_and_closes_when_dropped() {
        struct Rec;
        impl std::task::Wake for Rec {
            fn wake(self: std::sync::Arc<Self>) {
                SEEN.with(|s| s.borrow_mut().push("wake"));
            }
        }
        // The process's hook (other tests of this binary may run with it:
        // it records per thread, and opens and closes in pairs).
        set_batch_hook(recording_hook);
        let w = Waker::from(std::sync::Arc::new(Rec));
        seen();
        {
            let mut one = WakeBatch::new();
            one.wake(w.clone());
        }
        assert_eq!(seen(), ["wake"], "a batch of one never calls the hook");
        {
            let mut b = WakeBatch::new();
            b.wake(w.clone());
            b.wake_all([w.clone(), w.clone()]);
            assert_eq!(seen(), ["wake", "open", "wake", "wake"]);
        }
        assert_eq!(seen(), ["close"], "closed once, when dropped");
        {
            let mut b = WakeBatch::new();
            b.wake_all([w.clone(), w.clone(), w.clone()]);
            assert_eq!(
                seen(),
                ["open", "wake", "wake", "wake"],
                "a known burst opens before its first wake"
            );
            b.wake(w.clone());
            assert_eq!(seen(), ["wake"], "opened once");
        }
        assert_eq!(seen(), ["close"]);
        {
            let mut b = WakeBatch::new();
            b.wake_all([w.clone()]);
            assert_eq!(seen(), ["wake"], "one wake is not a burst");
        }
        assert_eq!(seen(), Vec::<&str>::new());
    }

    #[test]
    fn extract_each_hands_over_oldest_first_and_keeps_the_rest_linked() {
        let mut l = WaiterList::new();
        let keys: Vec<Key> = (1..=6).map(|v| l.push_back(v)).collect();
        let mut out = Vec::new();
        l.extract_each(|v| *v % 2 == 0, |v| out.push(v));
        assert_eq!(out, [2, 4, 6]);
        assert_eq!(l.iter().copied().collect::<Vec<_>>(), [1, 3, 5]);
        assert_eq!(l.len(), 3);
        assert_eq!(l.get(keys[1]), None, "a handed-over entry's key is gone");
        assert_eq!(l.get(keys[2]), Some(&3));
        // Taking the rest empties the list; it is usable afterwards.
        l.extract_each(|_| true, |v| out.push(v));
        assert_eq!(out, [2, 4, 6, 1, 3, 5]);
        assert!(l.is_empty() && l.iter().next().is_none());
        let k = l.push_back(7);
        assert_eq!(l.iter().copied().collect::<Vec<_>>(), [7]);
        assert_eq!(l.remove(k), Some(7));
    }

    #[test]
    fn a_panicking_waker_is_contained() {
        struct Bomb;
        impl std::task::Wake for Bomb {
            fn wake(self: std::sync::Arc<Self>) {
                panic!("bomb");
            }
        }
        // Each returns: the panic does not escape.
        let w = Waker::from(std::sync::Arc::new(Bomb));
        wake_by_ref(&w);
        wake(w.clone());
        wake_all([w.clone(), Waker::noop().clone()]);
        let m = Mutex::new(1);
        let _ = std::panic::catch_unwind(|| {
            let _g = m.lock().unwrap();
            panic!("poison");
        });
        assert_eq!(*lock(&m), 1, "poisoning is ignored");
    }
}
