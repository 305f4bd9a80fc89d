//! Timer entries: a slab of nodes, each on at most one slot list of the
//! wheel, addressed by a [`TimerKey`] = index + generation.
//!
//! # Invariants
//!
//! 1. An entry is *scheduled* iff its `action` is `Some`; then it is linked
//!    into exactly one slot list (`level`, `slot`), and `prev`/`next` are
//!    that list's neighbours (`NIL` at the ends).
//! 2. A vacant entry (`action == None`) is on the free list (`next` links
//!    it) and on no slot list.
//! 3. `generation` changes every time an entry is freed, so a key handed
//!    out for an earlier occupant never matches again: a stale key cannot
//!    remove, fire or update a recycled entry. (The counter is `u32` and
//!    wraps after 2³² reuses of *one* slot while an old key is still held;
//!    that is accepted.)
//!
//! No method runs user code: actions are moved out and returned, to be
//! run or dropped by the caller after it released the wheel's lock.

use std::task::Waker;

use quell_cancel::CancelToken;

/// End of a list.
pub(crate) const NIL: u32 = u32::MAX;

/// What a timer does when it fires.
pub(crate) enum Action {
    /// Wake a task (`Sleep`, `Interval`, `Timeout`).
    Wake(Waker),
    /// Cancel a deadline scope's token with `Cause::deadline_exceeded()`.
    Cancel(CancelToken),
}

/// Identifies a scheduled timer; stale once it fired or was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey {
    index: u32,
    generation: u32,
}

pub(crate) struct Entry {
    generation: u32,
    /// Tick (ms since the wheel's start, rounded up) at which it fires.
    pub(crate) when: u64,
    pub(crate) level: u8,
    pub(crate) slot: u8,
    pub(crate) prev: u32,
    pub(crate) next: u32,
    pub(crate) action: Option<Action>,
}

/// The entries, with a free list threaded through the vacant ones.
pub(crate) struct Slab {
    entries: Vec<Entry>,
    free: u32,
    len: usize,
}

impl Slab {
    pub(crate) fn new() -> Slab {
        Slab {
            entries: Vec::new(),
            free: NIL,
            len: 0,
        }
    }

    /// Number of scheduled entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Allocates a scheduled, unlinked entry. O(1) amortised.
    pub(crate) fn alloc(&mut self, when: u64, action: Action) -> (u32, TimerKey) {
        self.len += 1;
        let index = if self.free != NIL {
            let i = self.free;
            self.free = self.entries[i as usize].next;
            i
        } else {
            assert!(self.entries.len() < NIL as usize, "too many timers");
            self.entries.push(Entry {
                generation: 0,
                when: 0,
                level: 0,
                slot: 0,
                prev: NIL,
                next: NIL,
                action: None,
            });
            (self.entries.len() - 1) as u32
        };
        let e = &mut self.entries[index as usize];
        debug_assert!(e.action.is_none());
        e.when = when;
        e.prev = NIL;
        e.next = NIL;
        e.action = Some(action);
        (
            index,
            TimerKey {
                index,
                generation: e.generation,
            },
        )
    }

    /// Frees a scheduled entry that is already unlinked; returns its action.
    pub(crate) fn free(&mut self, index: u32) -> Action {
        let e = &mut self.entries[index as usize];
        let action = e.action.take().expect("freeing a vacant timer entry");
        e.generation = e.generation.wrapping_add(1); // invariant 3
        e.prev = NIL;
        e.next = self.free;
        self.free = index;
        self.len -= 1;
        action
    }

    /// The index of the scheduled entry `key` names, if it is not stale.
    pub(crate) fn lookup(&self, key: TimerKey) -> Option<u32> {
        let e = self.entries.get(key.index as usize)?;
        (e.generation == key.generation && e.action.is_some()).then_some(key.index)
    }

    pub(crate) fn get(&self, index: u32) -> &Entry {
        &self.entries[index as usize]
    }

    pub(crate) fn get_mut(&mut self, index: u32) -> &mut Entry {
        &mut self.entries[index as usize]
    }
}
