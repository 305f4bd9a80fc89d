//! Loom models of the timer wheel's concurrency protocol.
//!
//! * `loom_fire_vs_cancel`: the driver fires an expired timer while its
//!   owner cancels it. The entry is fired once or cancelled, never both,
//!   never leaked; if the cancel reported success the waker is never
//!   woken (in particular not after the cancel returned).
//! * `loom_fire_vs_update_waker`: a re-poll swaps the waker while the
//!   driver fires: exactly one of the two wakers is woken, once, and a
//!   failed update means the timer fired.
//! * `loom_insert_while_parking`: a timer inserted concurrently with the
//!   driver preparing its park is either seen by the park or makes the
//!   inserter unpark the driver (no timer is slept through).
//! * `loom_deadline_scope_end_vs_fire`: a deadline scope ends while its
//!   deadline fires: a task still holding the scope's token is cancelled
//!   at the deadline; with no holder the timer is removed or fired.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=2
//! cargo test --release -p quell-io-driver --lib loom -- --test-threads=2`.

use std::sync::Arc as StdArc;
use std::task::{Wake, Waker};
use std::time::Duration;

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

use super::entry::Action;
use super::wheel::{Insert, Wheel};
use crate::loom::Arc;

struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: StdArc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counter() -> (StdArc<Counter>, Waker) {
    let c = StdArc::new(Counter(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

fn wakes(c: &Counter) -> usize {
    c.0.load(SeqCst)
}

#[test]
fn loom_fire_vs_cancel() {
    loom::model(|| {
        let wheel = Arc::new(Wheel::new());
        let (count, waker) = counter();
        let due = wheel.start() + Duration::from_millis(1);
        let Insert::Armed { key, .. } = wheel.insert(due, Action::Wake(waker)) else {
            panic!("not armed");
        };
        let driver = {
            let wheel = wheel.clone();
            thread::spawn(move || wheel.fire_expired(due + Duration::from_millis(5)))
        };
        let cancelled = wheel.remove(key);
        // Once `remove` says "cancelled", the waker must never run: check
        // right after it returned, and again after the driver finished.
        if cancelled {
            assert_eq!(wakes(&count), 0, "woken after a successful cancel");
        }
        driver.join().unwrap();
        let n = wakes(&count);
        if cancelled {
            assert_eq!(n, 0, "both cancelled and fired");
        } else {
            assert_eq!(n, 1, "neither cancelled nor fired exactly once");
        }
        assert_eq!(wheel.len(), 0, "entry leaked");
        assert!(!wheel.remove(key), "removed twice");
    });
}

#[test]
fn loom_fire_vs_update_waker() {
    loom::model(|| {
        let wheel = Arc::new(Wheel::new());
        let (c1, w1) = counter();
        let (c2, w2) = counter();
        let due = wheel.start() + Duration::from_millis(1);
        let Insert::Armed { key, .. } = wheel.insert(due, Action::Wake(w1)) else {
            panic!("not armed");
        };
        let driver = {
            let wheel = wheel.clone();
            thread::spawn(move || wheel.fire_expired(due + Duration::from_millis(5)))
        };
        let updated = wheel.update_waker(key, &w2);
        driver.join().unwrap();
        let (n1, n2) = (wakes(&c1), wakes(&c2));
        assert_eq!(n1 + n2, 1, "exactly one wake");
        if updated {
            assert_eq!(n2, 1, "the new waker is the one woken");
        } else {
            assert_eq!(n1, 1, "a failed update means it fired first");
        }
        assert_eq!(wheel.len(), 0);
    });
}

#[test]
fn loom_insert_while_parking() {
    loom::model(|| {
        let wheel = Arc::new(Wheel::new());
        let early = wheel.start() + Duration::from_millis(2);
        let (_c, waker) = counter();
        // The driver (`Driver::park`, steps 1-2) with nothing scheduled yet:
        // an unbounded wait (`set_parked_until(None)` right after step 1).
        let driver = {
            let wheel = wheel.clone();
            thread::spawn(move || {
                let limit = wheel.next_deadline();
                wheel.set_parked_until(limit);
                limit
            })
        };
        let unpark = match wheel.insert(early, Action::Wake(waker)) {
            Insert::Armed { unpark, .. } => unpark,
            _ => panic!("not armed"),
        };
        let limit = driver.join().unwrap();
        let seen_by_park = limit.is_some_and(|l| l <= early);
        assert!(
            seen_by_park || unpark,
            "the driver would sleep through the timer: limit {limit:?}, no unpark"
        );
    });
}

/// C11: a deadline scope ends (`release_deadline`) while the driver fires
/// its deadline. A task spawned inside that still holds the scope's token
/// is cancelled at the deadline whichever comes first; with no holder
/// left, the timer is removed or fired, never leaked (loom's leak check:
/// the token's `Arc`s are all freed).
#[test]
fn loom_deadline_scope_end_vs_fire() {
    use quell_cancel::{CancelToken, CauseKind};

    use super::deadline::release_deadline;

    for holder in [true, false] {
        loom::model(move || {
            let wheel = Arc::new(Wheel::new());
            let token = CancelToken::new();
            let due = wheel.start() + Duration::from_millis(1);
            let Insert::Armed { key, .. } = wheel.insert(due, Action::Cancel(token.clone())) else {
                panic!("not armed");
            };
            // A task spawned inside the scope holds a clone of its token.
            let held = holder.then(|| token.clone());
            let driver = {
                let wheel = wheel.clone();
                thread::spawn(move || wheel.fire_expired(due + Duration::from_millis(5)))
            };
            let left_armed = release_deadline(&wheel, key, &token);
            drop(token);
            driver.join().unwrap();
            if let Some(held) = held {
                // The deadline passed (the driver fired at due + 5 ms): the
                // holder must be cancelled, with the deadline's cause.
                assert!(held.is_cancelled(), "a holder outlived the deadline");
                assert_eq!(held.cause().unwrap().kind(), &CauseKind::DeadlineExceeded);
            } else {
                assert!(!left_armed, "no holder: the timer is not kept");
            }
            assert_eq!(wheel.len(), 0, "the deadline timer leaked");
        });
    }
}
