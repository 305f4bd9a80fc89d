//! The reactor: a mio `Poll`, the registered sources, and the timer wheel's
//! clock. The only module that imports `mio`.
//!
//! # Who parks where
//!
//! One idle worker at a time parks *in* the driver (`Driver::park`): an
//! epoll wait whose timeout is the earlier of the next timer and the
//! caller's limit. Other idle workers park on their thread. Work for a
//! worker asleep in the driver, or a new timer earlier than the one it
//! sleeps until, interrupts the wait through the mio `Waker`
//! ([`Handle::unpark`]).
//!
//! # Tokens
//!
//! A source's mio token is `slot | generation << 24`. A slot is reused
//! only with a new generation, and dispatch drops events whose generation
//! is not the slot's current one: a stale event never wakes a recycled
//! slot's waiters (C6).

use std::io;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};
use quell_cancel::rt_internal::waiters;

use crate::loom::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::loom::{Arc, Mutex};
use crate::scheduled_io::{Ready, ScheduledIo};
use crate::time;

/// mio types the rest of the crate uses (kept behind this module).
pub(crate) mod sys {
    pub(crate) use mio::event::Source;
    pub(crate) use mio::net;
    pub(crate) use mio::Interest;
}

const WAKE_TOKEN: Token = Token(usize::MAX);
const SLOT_BITS: u32 = 24;
const SLOT_MASK: usize = (1 << SLOT_BITS) - 1;
const GEN_MASK: usize = 0xff;

/// The driver: owned by whichever worker parks in it.
pub struct Driver {
    poll: Poll,
    events: Events,
    /// The wakers one turn takes, woken after the slot lock is released;
    /// kept from turn to turn (empty between turns) so that a turn does not
    /// allocate it anew and grow it event by event.
    wake: Vec<std::task::Waker>,
    handle: Handle,
}

/// A cloneable handle to the driver: registration, timers, unpark.
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    registry: mio::Registry,
    waker: mio::Waker,
    slots: Mutex<Slots>,
    pub(crate) time: time::Wheel,
    /// Number of registered sources, readable without the slot lock.
    live_sources: AtomicUsize,
    /// Driver turns (`Driver::park` calls) and the I/O events they
    /// dispatched: metrics only. Written by whoever owns the driver for the
    /// turn (one thread at a time), read by metrics snapshots.
    turns: AtomicUsize,
    events: AtomicUsize,
}

#[derive(Default)]
struct Slots {
    entries: Vec<Slot>,
    free: Vec<usize>,
    /// Set by `Handle::shutdown` under this lock: a registration checks it
    /// under the same lock, so it is either refused or in the list that
    /// shutdown walks (an atomic flag read before locking let a source
    /// registered during shutdown miss both, and its waits hang).
    shutdown: bool,
}

struct Slot {
    io: Option<Arc<ScheduledIo>>,
    generation: usize,
}

impl Driver {
    /// A new driver and its handle.
    pub fn new() -> io::Result<Driver> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        let registry = poll.registry().try_clone()?;
        Ok(Driver {
            poll,
            events: Events::with_capacity(1024),
            wake: Vec::new(),
            handle: Handle {
                inner: Arc::new(Inner {
                    registry,
                    waker,
                    slots: Mutex::new(Slots::default()),
                    time: time::Wheel::new(),
                    live_sources: AtomicUsize::new(0),
                    turns: AtomicUsize::new(0),
                    events: AtomicUsize::new(0),
                }),
            },
        })
    }

    /// The driver's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Waits for I/O events, an unpark, the next timer, or `limit`
    /// (`Some(ZERO)`: a non-blocking turn), then dispatches: wakes the
    /// tasks whose sources became ready and whose timers expired.
    pub fn park(&mut self, limit: Option<Duration>) {
        let inner = &self.handle.inner;
        // A non-blocking turn skips the wheel's park protocol (wheel.rs):
        // the protocol exists so that a timer inserted meanwhile, due
        // before the wait would end, unparks the wait; a wait that ends at
        // once can miss nothing (with the protocol such an insert would
        // not unpark either: it is never due before now). The wheel stays
        // `Idle`, so no insert sends an unpark for it.
        let blocking = limit != Some(Duration::ZERO);
        let timeout = if blocking {
            let now = Instant::now();
            let timeout = match (inner.time.next_deadline(), limit) {
                (Some(t), Some(l)) => Some(t.saturating_duration_since(now).min(l)),
                (Some(t), None) => Some(t.saturating_duration_since(now)),
                (None, l) => l,
            };
            // Round a sub-millisecond timer wait up, so we don't spin on
            // epoll's millisecond granularity before the timer is due.
            let timeout = timeout.map(|t| {
                if t > Duration::ZERO && t < Duration::from_millis(1) {
                    Duration::from_millis(1)
                } else {
                    t
                }
            });
            inner.time.set_parked_until(timeout.map(|t| now + t));
            timeout
        } else {
            limit
        };
        // A turn that would not wait, with no source registered, can find
        // no I/O event: only the unpark token, which wakes no task (the
        // executor's parker state records the unpark). So it skips the
        // `epoll_wait` and only fires the timers below: the periodic
        // maintenance turn of a busy worker costs no syscall when the
        // runtime does no I/O. Nothing is lost: a source registered
        // meanwhile (the Relaxed count read late) keeps its readiness in
        // the epoll ready list for the next turn that polls, and a pending
        // unpark token makes the next blocking wait return at once, which
        // every caller treats as a possibly spurious return.
        if timeout == Some(Duration::ZERO) && inner.live_sources.load(Relaxed) == 0 {
            self.events.clear();
        } else if let Err(e) = self.poll.poll(&mut self.events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                // epoll_wait fails only on programming errors (EBADF,
                // EFAULT, EINVAL); surface loudly in debug, carry on.
                debug_assert!(false, "epoll_wait failed: {e}");
            }
        }
        if blocking {
            inner.time.set_parked_until(None);
        }
        let mut wake = std::mem::take(&mut self.wake);
        let mut events = 0;
        // A turn that found nothing (a maintenance turn, mostly) skips the
        // slot lock.
        if !self.events.is_empty() {
            let slots = inner.slots.lock().unwrap();
            for ev in self.events.iter() {
                let token = ev.token();
                if token == WAKE_TOKEN {
                    continue;
                }
                events += 1;
                let mut ready = Ready::EMPTY;
                if ev.is_readable() {
                    ready = ready.or(Ready::READABLE);
                }
                if ev.is_writable() {
                    ready = ready.or(Ready::WRITABLE);
                }
                if ev.is_read_closed() {
                    ready = ready.or(Ready::READ_CLOSED);
                }
                if ev.is_write_closed() {
                    ready = ready.or(Ready::WRITE_CLOSED);
                }
                if ev.is_error() {
                    ready = ready.or(Ready::ERROR);
                }
                dispatch(&slots, token.0, ready, &mut wake);
            }
        }
        // Relaxed: counters for metrics, ordered with nothing. A load and a
        // store, not an RMW: this turn (`&mut self`, the one driver of
        // `inner`) is their only writer, so no increment can be lost, and
        // a locked RMW costs about 20 cycles twice per turn.
        inner.turns.store(inner.turns.load(Relaxed) + 1, Relaxed);
        inner
            .events
            .store(inner.events.load(Relaxed) + events, Relaxed);
        // Wake outside the lock; a panicking user waker is contained.
        waiters::wake_all(wake.drain(..));
        self.wake = wake;
        let now = Instant::now();
        // The coarse clock of task dumps (how long a task has been parked).
        quell_cancel::rt_internal::wait::tick(now);
        inner.time.fire_expired(now);
    }
}

/// Delivers one event to the slot named by `token`, unless the slot was
/// recycled since the token was issued (C6: a stale event never wakes a new
/// source's waiters).
fn dispatch(slots: &Slots, token: usize, ready: Ready, wake: &mut Vec<std::task::Waker>) {
    let slot = token & SLOT_MASK;
    let generation = (token >> SLOT_BITS) & GEN_MASK;
    let Some(io) = slots.entries.get(slot).and_then(|s| s.io.as_ref()) else {
        return;
    };
    if io.generation != generation {
        return;
    }
    io.set_readiness(ready, wake);
}

impl Handle {
    /// Interrupts a `Driver::park` in progress (or makes the next return).
    pub fn unpark(&self) {
        let _ = self.inner.waker.wake();
    }

    /// Registers `source` for `interest`; returns its shared state and token.
    pub(crate) fn register(
        &self,
        source: &mut impl sys::Source,
        interest: sys::Interest,
    ) -> io::Result<(Arc<ScheduledIo>, usize)> {
        let (io, token) = {
            let mut slots = self.inner.slots.lock().unwrap();
            if slots.shutdown {
                return Err(io::Error::other(
                    "the quell runtime's I/O driver has shut down",
                ));
            }
            let slot = match slots.free.pop() {
                Some(s) => s,
                None => {
                    if slots.entries.len() > SLOT_MASK {
                        return Err(io::Error::other("too many registered I/O sources"));
                    }
                    slots.entries.push(Slot {
                        io: None,
                        generation: 0,
                    });
                    slots.entries.len() - 1
                }
            };
            let e = &mut slots.entries[slot];
            e.generation = (e.generation + 1) & GEN_MASK;
            let io = Arc::new(ScheduledIo::new(e.generation));
            e.io = Some(io.clone());
            // Relaxed: a hint for `has_sources`.
            self.inner.live_sources.fetch_add(1, Relaxed);
            (io, slot | (e.generation << SLOT_BITS))
        };
        if let Err(e) = self.inner.registry.register(source, Token(token), interest) {
            self.release(token);
            return Err(e);
        }
        Ok((io, token))
    }

    /// Deregisters `source` and frees its slot.
    pub(crate) fn deregister(&self, source: &mut impl sys::Source, token: usize) {
        let _ = self.inner.registry.deregister(source);
        self.release(token);
    }

    fn release(&self, token: usize) {
        let mut slots = self.inner.slots.lock().unwrap();
        let slot = token & SLOT_MASK;
        if let Some(e) = slots.entries.get_mut(slot) {
            if e.io
                .as_ref()
                .is_some_and(|io| io.generation == (token >> SLOT_BITS) & GEN_MASK)
            {
                e.io = None;
                slots.free.push(slot);
                // Relaxed: a hint for `has_sources`; the slots are under the lock.
                self.inner.live_sources.fetch_sub(1, Relaxed);
            }
        }
    }

    /// Shuts the driver down: every registered source's waits error.
    pub fn shutdown(&self) {
        let ios: Vec<_> = {
            let mut slots = self.inner.slots.lock().unwrap();
            slots.shutdown = true;
            slots.entries.iter().filter_map(|s| s.io.clone()).collect()
        };
        for io in ios {
            let (r, w) = io.shutdown();
            waiters::wake_all(r.into_iter().chain(w));
        }
        self.inner.time.shutdown();
    }

    /// Whether any source is registered (a lock-free hint: workers skip
    /// the non-blocking driver turn before searching when there is no I/O).
    pub fn has_sources(&self) -> bool {
        self.inner.live_sources.load(Relaxed) > 0
    }

    /// Number of driver turns so far (each wait for I/O events, blocking
    /// or not; a non-blocking turn with no source registered only fires
    /// timers), for metrics.
    pub fn num_turns(&self) -> usize {
        // Relaxed: a counter (see `Inner::turns`).
        self.inner.turns.load(Relaxed)
    }

    /// Number of I/O readiness events the driver's turns dispatched so far
    /// (unpark wake-ups not counted), for metrics: divided by
    /// [`num_turns`](Self::num_turns) it is the mean events per turn.
    pub fn num_events(&self) -> usize {
        // Relaxed: a counter (see `Inner::turns`).
        self.inner.events.load(Relaxed)
    }

    /// Number of registered sources (introspection, tests).
    pub fn num_sources(&self) -> usize {
        let slots = self.inner.slots.lock().unwrap();
        slots.entries.iter().filter(|s| s.io.is_some()).count()
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("io_driver::Handle").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::scheduled_io::Direction;

    /// C6: an event for a recycled slot's old token never reaches the new
    /// source's waiter.
    #[test]
    fn stale_event_never_wakes_a_recycled_slot() {
        let driver = Driver::new().unwrap();
        let h = driver.handle().clone();
        let (mut a, _a2) = mio::net::UnixStream::pair().unwrap();
        let (io_a, t_a) = h.register(&mut a, mio::Interest::READABLE).unwrap();
        h.deregister(&mut a, t_a);
        drop(io_a);
        let (mut b, _b2) = mio::net::UnixStream::pair().unwrap();
        let (io_b, t_b) = h.register(&mut b, mio::Interest::READABLE).unwrap();
        assert_eq!(t_a & SLOT_MASK, t_b & SLOT_MASK, "the slot was recycled");
        assert_ne!(t_a, t_b, "with a new generation");
        let mut cx = Context::from_waker(Waker::noop());
        assert!(io_b.poll_ready(&mut cx, Direction::Read).is_pending());
        let mut wake = Vec::new();
        dispatch(
            &h.inner.slots.lock().unwrap(),
            t_a,
            Ready::READABLE,
            &mut wake,
        );
        assert!(wake.is_empty(), "stale event dropped");
        assert!(io_b.poll_ready(&mut cx, Direction::Read).is_pending());
        dispatch(
            &h.inner.slots.lock().unwrap(),
            t_b,
            Ready::READABLE,
            &mut wake,
        );
        assert_eq!(wake.len(), 1);
        assert!(matches!(
            io_b.poll_ready(&mut cx, Direction::Read),
            Poll::Ready(Ok(_))
        ));
        h.deregister(&mut b, t_b);
    }

    /// A non-blocking turn with no source registered skips `epoll_wait`
    /// but still fires due timers.
    #[test]
    fn a_turn_without_sources_still_fires_timers() {
        struct Flag(std::sync::atomic::AtomicBool);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Relaxed);
            }
        }
        let mut driver = Driver::new().unwrap();
        let h = driver.handle().clone();
        assert!(!h.has_sources());
        let flag = Arc::new(Flag(std::sync::atomic::AtomicBool::new(false)));
        let start = Instant::now();
        h.wake_at(start + Duration::from_millis(2), Waker::from(flag.clone()))
            .unwrap();
        // Zero turns until the timer is due (a few ms; the bound only keeps
        // a broken skip from hanging the test).
        while !flag.0.load(Relaxed) && start.elapsed() < Duration::from_secs(10) {
            driver.park(Some(Duration::ZERO));
        }
        assert!(flag.0.load(Relaxed), "the timer fired on a skipped turn");
    }

    /// A skipped turn dispatches nothing: the events of the last polled
    /// turn are not delivered again.
    #[test]
    fn a_turn_without_sources_dispatches_no_stale_event() {
        use std::io::Write;
        let mut driver = Driver::new().unwrap();
        let h = driver.handle().clone();
        let (mut a, mut a2) = mio::net::UnixStream::pair().unwrap();
        let (io_a, t_a) = h.register(&mut a, mio::Interest::READABLE).unwrap();
        a2.write_all(b"x").unwrap();
        driver.park(Some(Duration::ZERO));
        assert_eq!(h.num_events(), 1, "the readable event");
        h.deregister(&mut a, t_a);
        drop(io_a);
        assert!(!h.has_sources());
        driver.park(Some(Duration::ZERO));
        assert_eq!(h.num_events(), 1, "nothing dispatched again");
        assert_eq!(h.num_turns(), 2);
    }
}
