//! A tiny slab (vector of slots plus a free list) for a node's children and
//! waiters. Not concurrent: always used under the node's lock.

/// Slots addressed by index; freed slots are reused.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    entries: Vec<Option<T>>,
    free: Vec<usize>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Stores `value`, returning its slot.
    pub(crate) fn insert(&mut self, value: T) -> usize {
        self.len += 1;
        match self.free.pop() {
            Some(i) => {
                self.entries[i] = Some(value);
                i
            }
            None => {
                self.entries.push(Some(value));
                self.entries.len() - 1
            }
        }
    }

    /// The slot the next [`Slab::insert`] will use.
    pub(crate) fn vacant_slot(&self) -> usize {
        self.free.last().copied().unwrap_or(self.entries.len())
    }

    /// The value in `slot`, if occupied (out-of-range slots are empty).
    pub(crate) fn get_mut(&mut self, slot: usize) -> Option<&mut T> {
        self.entries.get_mut(slot).and_then(Option::as_mut)
    }

    /// Empties `slot`, returning what it held (out-of-range slots are empty).
    pub(crate) fn remove(&mut self, slot: usize) -> Option<T> {
        let v = self.entries.get_mut(slot)?.take()?;
        self.free.push(slot);
        self.len -= 1;
        Some(v)
    }

    /// Number of occupied slots.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Takes every value out, leaving the slab empty (and its slot numbers
    /// unallocated, so stale slots read as empty).
    pub(crate) fn drain_all(&mut self) -> impl Iterator<Item = T> {
        let entries = std::mem::take(&mut self.entries);
        self.free.clear();
        self.len = 0;
        entries.into_iter().flatten()
    }
}
