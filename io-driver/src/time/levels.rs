//! The hierarchical wheel proper: 6 levels × 64 slots of intrusive
//! doubly linked lists over the entry [`Slab`], single-threaded (the
//! shared [`Wheel`](super::wheel::Wheel) wraps it in a mutex).
//!
//! Time is counted in *ticks* of 1 ms since the wheel's start. Level `L`
//! has 64 slots of `64^L` ticks each, so it spans `64^(L+1)` ticks:
//!
//! ```text
//! level 0: 64 × 1 ms        =  64 ms
//! level 1: 64 × 64 ms       ≈  4.1 s
//! level 2: 64 × 4.1 s       ≈  4.4 min
//! level 3: 64 × 4.4 min     ≈  4.7 h
//! level 4: 64 × 4.7 h       ≈ 12.4 days
//! level 5: 64 × 12.4 days   ≈  2.2 years  (a ring: later timers wrap here)
//! ```
//!
//! # Placement
//!
//! An entry due at tick `when` goes to the level of the highest 6-bit
//! group in which `when` and `elapsed` (the last tick processed) differ,
//! at slot `(when >> 6·L) & 63`. So level 0 only holds ticks of the
//! current 64-tick block, level 1 ticks of the current 4096-tick block
//! outside it, and so on: a lower level's slots are always due before any
//! slot of a higher level (the search for the next expiration stops at
//! the first non-empty level). Entries further than 2³⁶ ticks away go to
//! level 5 and simply come round again (they are re-placed, never fired
//! early).
//!
//! # Processing
//!
//! `poll(now)` repeatedly takes the earliest non-empty slot whose start is
//! `<= now`, sets `elapsed` to that start, fires the entries whose `when`
//! has come and re-places the others (they cascade to a lower level).
//! Each entry is re-placed at most once per level: processing is
//! amortised O(1) per timer. Insert and remove are O(1): a push at a list
//! tail and an unlink, plus a bit in the level's `occupied` word.
//! Lists are FIFO and re-placement keeps their order, so timers due on the
//! same tick fire in insertion order.

use super::entry::{Action, Slab, TimerKey, NIL};

pub(crate) const NUM_LEVELS: usize = 6;
const SLOT_BITS: u32 = 6;
const NUM_SLOTS: usize = 1 << SLOT_BITS;
const SLOT_MASK: u64 = NUM_SLOTS as u64 - 1;
/// Ticks spanned by the whole wheel (2³⁶ ms ≈ 2.2 years).
const MAX_SPAN: u64 = 1 << (SLOT_BITS as u64 * NUM_LEVELS as u64);

#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List {
    head: NIL,
    tail: NIL,
};

struct Level {
    /// Bit `s` set iff slot `s` is non-empty.
    occupied: u64,
    slots: [List; NUM_SLOTS],
}

/// The earliest non-empty slot: which one and when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expiration {
    level: usize,
    slot: usize,
    deadline: u64,
}

/// The timer data structure (no locking, no user code).
pub(crate) struct Levels {
    slab: Slab,
    levels: [Level; NUM_LEVELS],
    /// The last tick processed; only grows.
    elapsed: u64,
}

/// Ticks covered by one slot of `level`.
fn slot_range(level: usize) -> u64 {
    1 << (SLOT_BITS as usize * level)
}

/// Ticks covered by all of `level`.
fn level_range(level: usize) -> u64 {
    1 << (SLOT_BITS as usize * (level + 1))
}

/// The level for an entry due at `when`, seen from `elapsed < when`.
fn level_for(elapsed: u64, when: u64) -> usize {
    // The `| SLOT_MASK` caps the answer below at level 0's group.
    let mut masked = (elapsed ^ when) | SLOT_MASK;
    if masked >= MAX_SPAN {
        masked = MAX_SPAN - 1; // too far: park it in the top level's ring
    }
    let significant = 63 - masked.leading_zeros() as usize;
    significant / SLOT_BITS as usize
}

fn slot_for(when: u64, level: usize) -> usize {
    ((when >> (SLOT_BITS as usize * level)) & SLOT_MASK) as usize
}

impl Levels {
    pub(crate) fn new() -> Levels {
        Levels {
            slab: Slab::new(),
            levels: std::array::from_fn(|_| Level {
                occupied: 0,
                slots: [EMPTY; NUM_SLOTS],
            }),
            elapsed: 0,
        }
    }

    /// Number of scheduled timers.
    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    /// Schedules `action` at tick `when`. `Err(action)` if that tick has
    /// already been processed (the caller treats the timer as expired).
    pub(crate) fn insert(&mut self, when: u64, action: Action) -> Result<TimerKey, Action> {
        if when <= self.elapsed {
            return Err(action);
        }
        let (index, key) = self.slab.alloc(when, action);
        self.link(index);
        Ok(key)
    }

    /// Unschedules `key`; its action if it was still scheduled. O(1).
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<Action> {
        let index = self.slab.lookup(key)?;
        self.unlink(index);
        Some(self.slab.free(index))
    }

    /// The scheduled action of `key`, if the key is not stale.
    pub(crate) fn action_mut(&mut self, key: TimerKey) -> Option<&mut Action> {
        let index = self.slab.lookup(key)?;
        self.slab.get_mut(index).action.as_mut()
    }

    /// Moves `key` to tick `when`. `Err(action)` (the entry removed) if
    /// `when` was already processed; `Ok(false)` if the key is stale.
    pub(crate) fn reset(&mut self, key: TimerKey, when: u64) -> Result<bool, Action> {
        let Some(index) = self.slab.lookup(key) else {
            return Ok(false);
        };
        self.unlink(index);
        if when <= self.elapsed {
            return Err(self.slab.free(index));
        }
        self.slab.get_mut(index).when = when;
        self.link(index);
        Ok(true)
    }

    /// The first tick at which something is due, if anything is scheduled.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        // An empty wheel (every driver turn of a runtime without timers)
        // skips the scan of the levels.
        if self.slab.len() == 0 {
            return None;
        }
        self.next_slot().map(|e| e.deadline)
    }

    /// Processes every tick up to `now`: moves the actions of the entries
    /// due into `fired` (in due order, FIFO within a tick) and frees them.
    pub(crate) fn poll(&mut self, now: u64, fired: &mut Vec<Action>) {
        while let Some(exp) = self.next_slot() {
            if exp.deadline > now {
                break;
            }
            let list = std::mem::replace(&mut self.levels[exp.level].slots[exp.slot], EMPTY);
            self.levels[exp.level].occupied &= !(1 << exp.slot);
            debug_assert!(exp.deadline >= self.elapsed);
            self.elapsed = exp.deadline;
            let mut cur = list.head;
            while cur != NIL {
                let next = self.slab.get(cur).next;
                if self.slab.get(cur).when <= self.elapsed {
                    fired.push(self.slab.free(cur));
                } else {
                    self.link(cur); // cascade to a lower level
                }
                cur = next;
            }
        }
        // Nothing else is due by `now`: every entry left is in a slot that
        // starts after `now`, so jumping `elapsed` keeps placement valid.
        self.elapsed = self.elapsed.max(now);
    }

    /// Removes every entry; their actions go to `out`.
    pub(crate) fn drain(&mut self, out: &mut Vec<Action>) {
        for level in 0..NUM_LEVELS {
            while self.levels[level].occupied != 0 {
                let slot = self.levels[level].occupied.trailing_zeros() as usize;
                let list = std::mem::replace(&mut self.levels[level].slots[slot], EMPTY);
                self.levels[level].occupied &= !(1 << slot);
                let mut cur = list.head;
                while cur != NIL {
                    let next = self.slab.get(cur).next;
                    out.push(self.slab.free(cur));
                    cur = next;
                }
            }
        }
    }

    fn next_slot(&self) -> Option<Expiration> {
        // Lower levels are always due first (see "Placement").
        (0..NUM_LEVELS).find_map(|level| self.level_next(level))
    }

    fn level_next(&self, level: usize) -> Option<Expiration> {
        let occupied = self.levels[level].occupied;
        if occupied == 0 {
            return None;
        }
        let now_slot = ((self.elapsed / slot_range(level)) % NUM_SLOTS as u64) as u32;
        // The first occupied slot *after* the current one, cyclically, the
        // current one last: below the top level it is always empty (its
        // entries would be due already), and at the top level it can only
        // hold timers of a later rotation.
        let from = (now_slot + 1) % NUM_SLOTS as u32;
        let zeros = occupied.rotate_right(from).trailing_zeros();
        let slot = ((zeros + from) % NUM_SLOTS as u32) as usize;
        let level_start = self.elapsed & !(level_range(level) - 1);
        let mut deadline = level_start + slot as u64 * slot_range(level);
        if deadline <= self.elapsed {
            // Only the top level wraps: a slot "before" the current one
            // holds timers of the next rotation.
            debug_assert_eq!(level, NUM_LEVELS - 1);
            deadline += level_range(level);
        }
        Some(Expiration {
            level,
            slot,
            deadline,
        })
    }

    /// Links the unlinked, scheduled entry `index` at the tail of its slot.
    fn link(&mut self, index: u32) {
        let when = self.slab.get(index).when;
        debug_assert!(when > self.elapsed);
        let level = level_for(self.elapsed, when);
        let slot = slot_for(when, level);
        let list = &mut self.levels[level].slots[slot];
        let tail = list.tail;
        if tail == NIL {
            list.head = index;
        } else {
            self.slab.get_mut(tail).next = index;
        }
        list.tail = index;
        self.levels[level].occupied |= 1 << slot;
        let e = self.slab.get_mut(index);
        e.level = level as u8;
        e.slot = slot as u8;
        e.prev = tail;
        e.next = NIL;
    }

    /// Unlinks the scheduled entry `index` from its slot list. O(1).
    fn unlink(&mut self, index: u32) {
        let (level, slot, prev, next) = {
            let e = self.slab.get(index);
            (e.level as usize, e.slot as usize, e.prev, e.next)
        };
        if prev == NIL {
            self.levels[level].slots[slot].head = next;
        } else {
            self.slab.get_mut(prev).next = next;
        }
        if next == NIL {
            self.levels[level].slots[slot].tail = prev;
        } else {
            self.slab.get_mut(next).prev = prev;
        }
        if self.levels[level].slots[slot].head == NIL {
            self.levels[level].occupied &= !(1 << slot);
        }
        let e = self.slab.get_mut(index);
        e.prev = NIL;
        e.next = NIL;
    }
}
