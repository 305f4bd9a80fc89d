//! The state shared by the halves of every `mpsc` flavour (bounded,
//! rendezvous, unbounded), and the operations on it under its lock.

use std::collections::VecDeque;
use std::task::Waker;

use quell_cancel::waiters::{Key, WaiterList as List};

use crate::loom::{Arc, Mutex};
use crate::sync::waiters::{lock, wake_all, WaiterId, WaiterList, Wakers};

/// `cap` of an unbounded channel: sends never wait.
pub(super) const UNBOUNDED: usize = usize::MAX;

pub(super) struct Chan<T> {
    pub(super) state: Mutex<State<T>>,
}

/// A value offered by a parked `send` on a rendezvous channel.
pub(super) struct Offer<T> {
    /// `None` once a receive took it (the send has completed).
    pub(super) value: Option<T>,
    /// The sender's waker; taken to wake it when the value is taken.
    pub(super) waker: Option<Waker>,
}

pub(super) struct State<T> {
    pub(super) buf: VecDeque<T>,
    /// 0: rendezvous; [`UNBOUNDED`]: never full.
    pub(super) cap: usize,
    /// Slots held by unused `Permit`s (they count against `cap`).
    pub(super) reserved: usize,
    /// Live senders.
    pub(super) senders: usize,
    /// The receiver closed the channel or was dropped.
    pub(super) closed: bool,
    /// The receiver was dropped (a `Permit` then drops its value).
    pub(super) rx_dropped: bool,
    /// The parked receiver, if any.
    pub(super) rx_waker: Option<Waker>,
    /// Senders (and reserves) parked on a full channel.
    pub(super) send_waiters: WaiterList,
    /// Rendezvous only: values offered by parked sends, FIFO.
    pub(super) offers: List<Offer<T>>,
}

impl<T> Chan<T> {
    /// A sender was cloned.
    pub(super) fn add_sender(&self) {
        lock(&self.state).senders += 1;
    }

    /// A sender was dropped: the last one wakes the receiver (it sees
    /// `Closed` once drained).
    pub(super) fn drop_sender(&self) {
        let mut st = lock(&self.state);
        st.senders -= 1;
        let w = if st.senders == 0 {
            st.rx_waker.take()
        } else {
            None
        };
        drop(st);
        wake_all(w);
    }
}

pub(super) fn new<T>(cap: usize) -> Arc<Chan<T>> {
    Arc::new(Chan {
        state: Mutex::new(State {
            buf: VecDeque::with_capacity(cap.min(64)),
            cap,
            reserved: 0,
            senders: 1,
            closed: false,
            rx_dropped: false,
            rx_waker: None,
            send_waiters: WaiterList::new(),
            offers: List::new(),
        }),
    })
}

impl<T> State<T> {
    pub(super) fn is_rendezvous(&self) -> bool {
        self.cap == 0
    }

    /// A slot is free for a send or a reservation (never on a rendezvous
    /// channel: it has no slots).
    pub(super) fn has_room(&self) -> bool {
        self.cap == UNBOUNDED || self.buf.len() + self.reserved < self.cap
    }

    /// Pushes `value` (the caller checked room or holds a reservation) and
    /// takes the receiver's waker.
    pub(super) fn push(&mut self, value: T) -> Option<Waker> {
        self.buf.push_back(value);
        self.rx_waker.take()
    }

    /// Takes the next value: the buffer's front (a slot frees: one parked
    /// sender is notified), or on a rendezvous channel the oldest offered
    /// value (its send completes: its waker is returned).
    pub(super) fn pop(&mut self) -> Option<(T, Option<Waker>)> {
        if let Some(v) = self.buf.pop_front() {
            let w = if self.cap == UNBOUNDED {
                None
            } else {
                self.send_waiters.notify_one()
            };
            return Some((v, w));
        }
        let o = self.offers.find_mut(|o| o.value.is_some())?;
        let v = o.value.take().expect("found by value");
        Some((v, o.waker.take()))
    }

    /// Values waiting to be received (buffered or offered).
    pub(super) fn len(&self) -> usize {
        self.buf.len() + self.offers.iter().filter(|o| o.value.is_some()).count()
    }

    /// Every sender is gone, or the channel was closed.
    pub(super) fn is_done(&self) -> bool {
        self.senders == 0 || self.closed
    }

    /// A parked sender leaves without using its slot: if it had been handed
    /// one that is still free, hand it to the next waiter.
    pub(super) fn leave(&mut self, id: WaiterId) -> Option<Waker> {
        let was_notified = self.send_waiters.remove(id);
        if was_notified && self.has_room() && !self.closed {
            self.send_waiters.notify_one()
        } else {
            None
        }
    }

    /// A slot reserved by a `Permit` is given back unused.
    pub(super) fn unreserve(&mut self) -> Option<Waker> {
        self.reserved -= 1;
        if self.closed {
            None
        } else {
            self.send_waiters.notify_one()
        }
    }

    /// Withdraws the offer under `key`: its value if not taken yet (`None`:
    /// a receive took it, the send completed).
    pub(super) fn withdraw(&mut self, key: Key) -> Option<T> {
        self.offers.remove(key).and_then(|o| o.value)
    }

    /// Closes: sends fail from now on. Returns the wakers of every parked
    /// sender (bounded: those not already handed a slot; rendezvous: every
    /// offering sender, which takes its value back).
    pub(super) fn close(&mut self) -> Wakers {
        self.closed = true;
        let mut ws = self.send_waiters.take_unnotified();
        let _kept = self.offers.extract_if(|o| {
            ws.extend(o.waker.take());
            false
        });
        ws
    }
}
