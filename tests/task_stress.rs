//! Bounded release-mode stress of wake / abort / join-drop races (in
//! addition to the loom models, which explore the same races exhaustively
//! at small scale).

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll, Waker};

use support::*;

const ITERS: usize = 20_000;

/// Pending until woken once, then Ready.
struct Once {
    slot: Arc<Mutex<(bool, Option<Waker>)>>,
    _tag: Tag,
}

impl Future for Once {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.slot.lock().unwrap();
        if s.0 {
            return Poll::Ready(());
        }
        s.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn wake_abort_join_races() {
    let _dog = watchdog("wake/abort stress");
    let rt = rt(2);
    let drops = DropCount::new();
    let mut completed = 0;
    let mut aborted = 0;
    for i in 0..ITERS {
        let slot = Arc::new(Mutex::new((false, None::<Waker>)));
        let h = rt.spawn(Once {
            slot: slot.clone(),
            _tag: drops.tag(),
        });
        let barrier = Arc::new(Barrier::new(2));
        let b = barrier.clone();
        let s = slot.clone();
        let waker_thread = std::thread::spawn(move || {
            b.wait();
            let w = {
                let mut g = s.lock().unwrap();
                g.0 = true;
                g.1.take()
            };
            if let Some(w) = w {
                w.wake();
            }
        });
        barrier.wait();
        // i % 3: 0 = abort then join, 1 = abort then drop the handle,
        // 2 = join only (the wake must not be lost).
        if i % 3 != 2 {
            h.abort();
        }
        if i % 3 == 1 {
            drop(h);
        } else {
            match rt.block_on(h) {
                Ok(_) => completed += 1,
                Err(e) => {
                    assert!(e.is_aborted(), "{e}");
                    aborted += 1;
                }
            }
        }
        waker_thread.join().unwrap();
    }
    drop(rt);
    assert_eq!(drops.get(), ITERS, "every future dropped exactly once");
    let joined = (0..ITERS).filter(|i| i % 3 != 1).count();
    assert_eq!(completed + aborted, joined);
    assert!(
        completed >= joined / 2,
        "every join-only iteration completed"
    );
}
