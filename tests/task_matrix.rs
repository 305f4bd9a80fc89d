//! The handle matrix: join / drop / abort × before / during / after poll ×
//! the task panics or not. Every cell checks what the join reports and that
//! the future and its output are dropped exactly once.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};

use support::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum When {
    BeforePoll,
    DuringPoll,
    AfterPoll,
    AfterComplete,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Act {
    Join,
    Drop,
    Abort,
}

/// First poll: reports in, waits for the go-ahead, then returns Pending
/// (parking; its waker is sent out) — or panics / completes, per `mode`.
struct Subject {
    mode: Mode,
    polls: usize,
    entered: mpsc::Sender<Option<Waker>>,
    go: Option<mpsc::Receiver<()>>,
    _tag: Tag,
    out_tag: Option<Tag>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Pending on the first poll, Ready on the second.
    PendingThenReady,
    /// Ready on the first poll.
    Ready,
    /// Panics on the first poll.
    Panic,
}

impl Future for Subject {
    type Output = Tag;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Tag> {
        self.polls += 1;
        if self.polls == 1 {
            let _ = self.entered.send(None);
            if let Some(go) = self.go.take() {
                let _ = go.recv_timeout(HANG);
            }
            match self.mode {
                Mode::Panic => panic!("subject panics"),
                Mode::Ready => return Poll::Ready(self.out_tag.take().unwrap()),
                Mode::PendingThenReady => {
                    let _ = self.entered.send(Some(cx.waker().clone()));
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(self.out_tag.take().unwrap())
    }
}

fn cell(when: When, act: Act, mode: Mode) {
    let ctx = format!("{when:?} × {act:?} × {mode:?}");
    let _dog = watchdog(&ctx);
    let rt = rt(1);
    let fut_drops = DropCount::new();
    let out_drops = DropCount::new();
    let (entered_tx, entered_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel();
    let (gate_tx, gate_rx) = mpsc::channel::<()>();

    if when == When::BeforePoll {
        // Occupy the only worker so the subject stays queued.
        let (busy_tx, busy_rx) = mpsc::channel();
        rt.spawn(async move {
            busy_tx.send(()).unwrap();
            let _ = gate_rx.recv_timeout(HANG);
        });
        recv(&busy_rx);
    } else {
        drop(gate_rx);
    }

    let subject = Subject {
        mode,
        polls: 0,
        entered: entered_tx,
        go: Some(go_rx),
        _tag: fut_drops.tag(),
        out_tag: Some(out_drops.tag()),
    };
    let handle = rt.spawn(subject);
    let mut waker = None;

    match when {
        When::BeforePoll => {}
        When::DuringPoll => assert!(recv(&entered_rx).is_none(), "{ctx}"),
        When::AfterPoll | When::AfterComplete => {
            assert!(recv(&entered_rx).is_none(), "{ctx}");
            go_tx.send(()).unwrap();
            if mode == Mode::PendingThenReady {
                waker = recv(&entered_rx);
                assert!(waker.is_some(), "{ctx}");
            }
            if when == When::AfterComplete {
                if let Some(w) = waker.take() {
                    w.wake();
                }
                wait_until(|| handle.is_finished());
            }
        }
    }

    // The action under test.
    let handle = match act {
        Act::Join => Some(handle),
        Act::Drop => {
            drop(handle);
            None
        }
        Act::Abort => {
            handle.abort();
            Some(handle)
        }
    };

    // Let the subject go on; wake it whenever it parks (a wake after an
    // abort is harmless), until its future is gone (the channel closes).
    let _ = gate_tx.send(());
    let _ = go_tx.send(());
    if let Some(w) = waker.take() {
        w.wake();
    }
    let pump = std::thread::spawn(move || {
        while let Ok(w) = entered_rx.recv() {
            if let Some(w) = w {
                w.wake();
            }
        }
    });

    let aborted = act == Act::Abort
        && match when {
            When::BeforePoll => true,
            When::DuringPoll | When::AfterPoll => mode == Mode::PendingThenReady,
            When::AfterComplete => false,
        };
    if let Some(h) = handle {
        let res = rt.block_on(h);
        match res {
            Err(e) if aborted => assert!(e.is_aborted() && !e.is_shutdown(), "{ctx}: {e}"),
            Err(e) if mode == Mode::Panic => {
                assert!(e.is_panic(), "{ctx}: {e}");
                let p = e.into_panic();
                assert_eq!(p.downcast_ref::<&str>(), Some(&"subject panics"), "{ctx}");
            }
            Ok(tag) => {
                assert!(!aborted && mode != Mode::Panic, "{ctx}: unexpected Ok");
                drop(tag);
            }
            Err(e) => panic!("{ctx}: unexpected {e}"),
        }
    }
    drop(rt);
    pump.join().unwrap();
    assert_eq!(fut_drops.get(), 1, "{ctx}: future dropped exactly once");
    assert_eq!(out_drops.get(), 1, "{ctx}: output dropped exactly once");
}

#[test]
fn handle_matrix() {
    for when in [
        When::BeforePoll,
        When::DuringPoll,
        When::AfterPoll,
        When::AfterComplete,
    ] {
        for act in [Act::Join, Act::Drop, Act::Abort] {
            for mode in [Mode::PendingThenReady, Mode::Ready, Mode::Panic] {
                cell(when, act, mode);
            }
        }
    }
}
