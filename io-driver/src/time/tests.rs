//! Unit tests of the wheel with explicit ticks (no clock), and of the
//! driver protocol.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

use quell_cancel::{CancelToken, CauseKind};

use super::entry::{Action, TimerKey};
use super::levels::Levels;
use super::wheel::{Insert, Wheel};

/// A waker that counts its wakes and carries an id.
struct Probe {
    id: u64,
    wakes: AtomicUsize,
}

impl Wake for Probe {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
}

fn probe(id: u64) -> (Arc<Probe>, Waker) {
    let p = Arc::new(Probe {
        id,
        wakes: AtomicUsize::new(0),
    });
    (p.clone(), Waker::from(p))
}

/// The ids of fired `Wake` actions, in firing order.
fn ids(fired: Vec<Action>, probes: &BTreeMap<u64, Arc<Probe>>) -> Vec<u64> {
    // By data pointer: `will_wake` may see two copies of one vtable.
    let by_ptr: BTreeMap<usize, u64> = probes
        .values()
        .map(|p| (Arc::as_ptr(p) as usize, p.id))
        .collect();
    fired
        .into_iter()
        .map(|a| match a {
            Action::Wake(w) => *by_ptr.get(&(w.data() as usize)).expect("unknown waker"),
            Action::Cancel(_) => u64::MAX,
        })
        .collect()
}

#[test]
fn fires_exactly_at_its_tick_across_every_level() {
    let spans = [
        1u64,
        2,
        63,
        64,
        65,
        127,
        4095,
        4096,
        4097,
        262_143,
        262_144,
        1 << 24,
        (1 << 30) + 7,
        (1 << 36) - 1,
        (1 << 36) + 5,
        (1 << 40) + 3,
    ];
    for start in [0u64, 5, 63, 64, 4000, (1 << 30) - 3] {
        for &span in &spans {
            let mut l = Levels::new();
            l.poll(start, &mut Vec::new());
            let (p, w) = probe(1);
            let when = start + span;
            l.insert(when, Action::Wake(w)).ok().unwrap();
            // Walk from one expiration to the next: never past `when`
            // without firing, never before it.
            let mut now = start;
            loop {
                let next = l.next_expiration().expect("scheduled");
                assert!(next > now && next <= when, "start {start} span {span}");
                let mut fired = Vec::new();
                l.poll(next - 1, &mut fired);
                assert!(fired.is_empty(), "fired early: start {start} span {span}");
                l.poll(next, &mut fired);
                now = next;
                if !fired.is_empty() {
                    assert_eq!(next, when, "start {start} span {span}");
                    fired.into_iter().for_each(drop);
                    break;
                }
            }
            assert_eq!(l.len(), 0);
            assert_eq!(l.next_expiration(), None);
            drop(p);
        }
    }
}

#[test]
fn a_big_jump_fires_everything_due_in_order() {
    let mut l = Levels::new();
    let mut probes = BTreeMap::new();
    for (id, when) in [(1u64, 70u64), (2, 3), (3, 5000), (4, 3), (5, 64)] {
        let (p, w) = probe(id);
        probes.insert(id, p);
        l.insert(when, Action::Wake(w)).ok().unwrap();
    }
    let mut fired = Vec::new();
    l.poll(10_000, &mut fired);
    // Due order; FIFO within tick 3.
    assert_eq!(ids(fired, &probes), vec![2, 4, 5, 1, 3]);
    assert_eq!(l.len(), 0);
}

#[test]
fn same_tick_keeps_insertion_order_through_cascades() {
    let mut l = Levels::new();
    let mut probes = BTreeMap::new();
    let when = 100_000;
    // Inserted at different `elapsed`: different levels, one list at the end.
    for id in 0..6u64 {
        let (p, w) = probe(id);
        probes.insert(id, p);
        l.insert(when, Action::Wake(w)).ok().unwrap();
        let mut fired = Vec::new();
        l.poll(when - 50_000 / (id + 1), &mut fired);
        assert!(fired.is_empty());
    }
    let mut fired = Vec::new();
    l.poll(when, &mut fired);
    assert_eq!(ids(fired, &probes), vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn a_stale_key_cannot_touch_a_recycled_entry() {
    let mut l = Levels::new();
    let (_p1, w1) = probe(1);
    let k1 = l.insert(10, Action::Wake(w1)).ok().unwrap();
    assert!(l.remove(k1).is_some());
    assert!(l.remove(k1).is_none(), "removed twice");
    let (_p2, w2) = probe(2);
    let k2: TimerKey = l.insert(20, Action::Wake(w2)).ok().unwrap();
    assert_ne!(k1, k2, "same slot, new generation");
    assert!(l.remove(k1).is_none(), "stale key removed a recycled entry");
    assert!(l.action_mut(k1).is_none());
    assert_eq!(l.len(), 1);
    let mut fired = Vec::new();
    l.poll(20, &mut fired);
    assert_eq!(fired.len(), 1);
    assert!(l.remove(k2).is_none(), "a fired key is stale");
}

#[test]
fn insert_at_or_before_elapsed_is_refused() {
    let mut l = Levels::new();
    l.poll(50, &mut Vec::new());
    let (_p, w) = probe(1);
    assert!(l.insert(50, Action::Wake(w.clone())).is_err());
    assert!(l.insert(3, Action::Wake(w.clone())).is_err());
    assert!(l.insert(51, Action::Wake(w)).is_ok());
}

#[test]
fn reset_moves_an_entry_both_ways() {
    let mut l = Levels::new();
    let (_p, w) = probe(1);
    let k = l.insert(10_000, Action::Wake(w)).ok().unwrap();
    assert!(matches!(l.reset(k, 5), Ok(true)));
    assert_eq!(l.next_expiration(), Some(5));
    assert!(matches!(l.reset(k, 300_000), Ok(true)));
    let mut fired = Vec::new();
    l.poll(299_999, &mut fired);
    assert!(fired.is_empty());
    l.poll(300_000, &mut fired);
    assert_eq!(fired.len(), 1);
    assert!(matches!(l.reset(k, 400_000), Ok(false)), "stale");
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn randomised_against_a_sorted_map() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut l = Levels::new();
    // Reference: (when, seq) -> id, plus id -> key.
    let mut reference: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    let mut keys: BTreeMap<u64, (TimerKey, u64, u64)> = BTreeMap::new();
    let mut probes = BTreeMap::new();
    let mut now = 0u64;
    let mut seq = 0u64;
    for round in 0..20_000u64 {
        match rng.below(10) {
            0..=4 => {
                let span = match rng.below(4) {
                    0 => 1 + rng.below(64),
                    1 => 1 + rng.below(5000),
                    2 => 1 + rng.below(1 << 20),
                    _ => 1 + rng.below(1 << 38),
                };
                let id = round;
                let (p, w) = probe(id);
                probes.insert(id, p);
                let key = l.insert(now + span, Action::Wake(w)).ok().unwrap();
                seq += 1;
                reference.insert((now + span, seq), id);
                keys.insert(id, (key, now + span, seq));
            }
            5..=6 if !keys.is_empty() => {
                let nth = rng.below(keys.len() as u64) as usize;
                let (&id, &(key, when, s)) = keys.iter().nth(nth).unwrap();
                assert!(l.remove(key).is_some());
                reference.remove(&(when, s));
                keys.remove(&id);
                probes.remove(&id);
            }
            _ => {
                let step = match rng.below(3) {
                    0 => rng.below(64),
                    1 => rng.below(100_000),
                    _ => rng.below(1 << 37),
                };
                now += step;
                let mut fired = Vec::new();
                l.poll(now, &mut fired);
                let got = ids(fired, &probes);
                let due: Vec<(u64, u64)> =
                    reference.range(..(now + 1, 0)).map(|(k, _)| *k).collect();
                let want: Vec<u64> = due.iter().map(|k| reference[k]).collect();
                assert_eq!(got, want, "round {round}, now {now}");
                for k in due {
                    let id = reference.remove(&k).unwrap();
                    keys.remove(&id);
                    probes.remove(&id);
                }
            }
        }
        assert_eq!(l.len(), reference.len());
        // Never later than the earliest reference deadline.
        if let Some((&(first, _), _)) = reference.iter().next() {
            let next = l.next_expiration().unwrap();
            assert!(
                next > now && next <= first,
                "round {round}: now {now} next {next} first {first}"
            );
        }
    }
}

#[test]
fn churn_leaves_the_wheel_empty() {
    let mut l = Levels::new();
    let (_p, w) = probe(1);
    for i in 0..200_000u64 {
        let k = l
            .insert(1 + i % 100_000, Action::Wake(w.clone()))
            .ok()
            .unwrap();
        assert!(l.remove(k).is_some());
    }
    assert_eq!(l.len(), 0);
    assert_eq!(l.next_expiration(), None);
}

// ----- the shared wheel -----

#[test]
fn next_deadline_rounds_up_and_fire_wakes_once() {
    let wheel = Wheel::new();
    let (p, w) = probe(1);
    let deadline = Instant::now() + Duration::from_micros(2500);
    let Insert::Armed { key, .. } = wheel.insert(deadline, Action::Wake(w)) else {
        panic!("not armed")
    };
    let next = wheel.next_deadline().unwrap();
    assert!(next >= deadline && next < deadline + Duration::from_millis(1));
    wheel.set_parked_until(None);
    wheel.fire_expired(deadline - Duration::from_micros(1));
    assert_eq!(p.wakes.load(SeqCst), 0);
    wheel.fire_expired(next);
    assert_eq!(p.wakes.load(SeqCst), 1);
    assert!(!wheel.remove(key), "fired: cannot be removed");
    wheel.fire_expired(next + Duration::from_secs(1));
    assert_eq!(p.wakes.load(SeqCst), 1);
    assert_eq!(wheel.len(), 0);
}

#[test]
fn unpark_only_when_earlier_than_the_park() {
    let wheel = Wheel::new();
    let now = Instant::now();
    let (_p, w) = probe(1);
    let armed = |i: Insert| match i {
        Insert::Armed { key, unpark } => (key, unpark),
        _ => panic!("not armed"),
    };
    // Nobody parked or parking: no unpark.
    let (k, u) = armed(wheel.insert(now + Duration::from_secs(1), Action::Wake(w.clone())));
    assert!(!u);
    // Parking is being prepared (step 1) with that 1 s limit.
    assert!(wheel.next_deadline().is_some());
    let (_, u) = armed(wheel.insert(now + Duration::from_secs(2), Action::Wake(w.clone())));
    assert!(!u, "later than the limit");
    let (_, u) = armed(wheel.insert(now + Duration::from_millis(10), Action::Wake(w.clone())));
    assert!(u, "earlier than the limit read in step 1");
    // Parked until 5 ms.
    wheel.set_parked_until(Some(now + Duration::from_millis(5)));
    let (_, u) = armed(wheel.insert(now + Duration::from_millis(20), Action::Wake(w.clone())));
    assert!(!u);
    let (_, u) = armed(wheel.insert(now + Duration::from_millis(2), Action::Wake(w.clone())));
    assert!(u);
    wheel.set_parked_until(None);
    let (_, u) = armed(wheel.insert(now + Duration::from_millis(1), Action::Wake(w)));
    assert!(!u, "not parked any more");
    assert!(wheel.remove(k));
}

#[test]
fn an_unbounded_park_is_unparked_by_any_insert() {
    let wheel = Wheel::new();
    let (_p, w) = probe(1);
    let far = Instant::now() + Duration::from_secs(3600);
    // Steps 1-2 with nothing scheduled: `set_parked_until(None)` right
    // after `next_deadline()` is an unbounded wait.
    assert_eq!(wheel.next_deadline(), None);
    wheel.set_parked_until(None);
    assert!(matches!(
        wheel.insert(far, Action::Wake(w.clone())),
        Insert::Armed { unpark: true, .. }
    ));
    // Step 4: the wait is over.
    wheel.set_parked_until(None);
    assert!(matches!(
        wheel.insert(far, Action::Wake(w)),
        Insert::Armed { unpark: false, .. }
    ));
}

#[test]
fn shutdown_wakes_everyone_and_refuses_inserts() {
    let wheel = Wheel::new();
    let (p, w) = probe(1);
    let token = CancelToken::new();
    let far = Instant::now() + Duration::from_secs(100);
    assert!(matches!(
        wheel.insert(far, Action::Wake(w.clone())),
        Insert::Armed { .. }
    ));
    assert!(matches!(
        wheel.insert(far, Action::Cancel(token.clone())),
        Insert::Armed { .. }
    ));
    wheel.shutdown();
    assert_eq!(p.wakes.load(SeqCst), 1);
    assert!(
        !token.is_cancelled(),
        "shutdown drops scope timers, no cancel"
    );
    assert!(wheel.is_shutdown());
    assert_eq!(wheel.len(), 0);
    assert!(matches!(
        wheel.insert(far, Action::Wake(w)),
        Insert::Shutdown(_)
    ));
}

#[test]
fn a_cancel_action_cancels_with_deadline_exceeded() {
    let wheel = Wheel::new();
    let token = CancelToken::new();
    let at = Instant::now() + Duration::from_millis(3);
    assert!(matches!(
        wheel.insert(at, Action::Cancel(token.clone())),
        Insert::Armed { .. }
    ));
    wheel.fire_expired(at + Duration::from_millis(1));
    assert_eq!(token.cause().unwrap().kind(), &CauseKind::DeadlineExceeded);
}

#[test]
fn a_panicking_waker_is_contained() {
    struct Bomb;
    impl Wake for Bomb {
        fn wake(self: Arc<Self>) {
            panic!("user waker panics");
        }
    }
    let wheel = Wheel::new();
    let (p, w) = probe(1);
    let at = Instant::now() + Duration::from_millis(1);
    let _ = wheel.insert(at, Action::Wake(Waker::from(Arc::new(Bomb))));
    let _ = wheel.insert(at, Action::Wake(w));
    wheel.fire_expired(at + Duration::from_millis(1));
    assert_eq!(p.wakes.load(SeqCst), 1, "the next waker still ran");
}

#[test]
fn sleep_driven_by_hand_and_cancelled_by_drop() {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::Context;

    let mut driver = crate::driver::Driver::new().unwrap();
    let _enter = crate::context::enter(driver.handle().clone());
    let mut cx = Context::from_waker(Waker::noop());
    let mut long = super::sleep(Duration::from_secs(60));
    assert!(Pin::new(&mut long).poll(&mut cx).is_pending());
    assert_eq!(driver.handle().num_timers(), 1);
    drop(long);
    assert_eq!(driver.handle().num_timers(), 0);

    let start = Instant::now();
    let mut short = super::sleep(Duration::from_millis(3));
    while Pin::new(&mut short).poll(&mut cx).is_pending() {
        driver.park(None);
    }
    assert!(start.elapsed() >= Duration::from_millis(3));
    assert_eq!(driver.handle().num_timers(), 0);
}
