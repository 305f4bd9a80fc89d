//! A runtime-agnostic single-slot channel: `Mutex<(Option<T>, Option<Waker>)>`.
//!
//! Used by `ping_pong` for both runtimes, so only the schedulers differ.
//! One sender and one receiver at a time; a send into a full slot is a bug
//! in the workload (the ping-pong protocol alternates strictly) and panics.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

pub struct Slot<T> {
    inner: Mutex<Inner<T>>,
}

struct Inner<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot::new()
    }
}

impl<T> Slot<T> {
    pub fn new() -> Slot<T> {
        Slot {
            inner: Mutex::new(Inner {
                value: None,
                waker: None,
            }),
        }
    }

    /// Puts `value` in the slot and wakes the receiver, if it is waiting.
    /// The waker is called after the lock is released.
    pub fn send(&self, value: T) {
        let waker = {
            let mut g = self.inner.lock().unwrap();
            assert!(g.value.is_none(), "single-slot channel: slot already full");
            g.value = Some(value);
            g.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Waits for the next value.
    pub fn recv(&self) -> Recv<'_, T> {
        Recv { slot: self }
    }
}

pub struct Recv<'a, T> {
    slot: &'a Slot<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut g = self.slot.inner.lock().unwrap();
        if let Some(v) = g.value.take() {
            return Poll::Ready(v);
        }
        match &mut g.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            w => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}
