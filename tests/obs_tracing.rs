//! Carrying a `tracing` span into spawned tasks with the runtime hooks:
//! the example of docs/observability.md, tested. The spawn hook captures
//! the spawner's current span; before/after-poll enter and exit it on the
//! worker; terminate forgets it. Events logged inside the task then belong
//! to the spawner's span although they happen on another thread.
//!
//! A minimal subscriber (below) records which span was current at each
//! event; it is the process-wide default (set once, this binary's only
//! test), because the events happen on worker threads.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};

use quell::runtime::Builder;
use quell::task::Id as TaskId;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Span, Subscriber};
use tracing_core::span::Current;

// ---- the pattern (what docs/observability.md shows) ----

std::thread_local! {
    /// The span the current poll entered (polls do not nest on a worker).
    static ENTERED: RefCell<Option<Span>> = const { RefCell::new(None) };
}

/// Spans of live tasks, captured at spawn.
#[derive(Clone, Default)]
struct TaskSpans(Arc<Mutex<HashMap<TaskId, Span>>>);

impl TaskSpans {
    fn install(&self, b: &mut Builder) {
        let (spawn, before, end) = (self.clone(), self.clone(), self.clone());
        b.on_task_spawn(move |t| {
            let span = Span::current();
            if !span.is_none() {
                spawn.0.lock().unwrap().insert(t.id(), span);
            }
        })
        .before_poll(move |id| {
            let span = before.0.lock().unwrap().get(&id).cloned();
            if let Some(span_id) = span.as_ref().and_then(Span::id) {
                tracing::dispatcher::get_default(|d| d.enter(&span_id));
            }
            ENTERED.with(|e| *e.borrow_mut() = span);
        })
        .after_poll(move |_| {
            // Exit what `before_poll` entered: the task may have terminated
            // in this poll, and its terminate hook (which runs inside the
            // poll) already took its span out of the map.
            if let Some(span) = ENTERED.with(|e| e.borrow_mut().take()) {
                if let Some(span_id) = span.id() {
                    tracing::dispatcher::get_default(|d| d.exit(&span_id));
                }
            }
        })
        .on_task_terminate(move |t| {
            end.0.lock().unwrap().remove(&t.id());
        });
    }
}

// ---- a minimal recording subscriber ----

#[derive(Default)]
struct Recorder {
    next: AtomicU64,
    spans: Mutex<HashMap<u64, &'static Metadata<'static>>>,
    /// (event message, current span name) for every event.
    events: Mutex<Vec<(String, Option<&'static str>)>>,
}

std::thread_local! {
    /// The spans entered on this thread, innermost last.
    static STACK: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

impl Recorder {
    fn current(&self) -> Option<(u64, &'static Metadata<'static>)> {
        let id = STACK.with(|s| s.borrow().last().copied())?;
        Some((id, *self.spans.lock().unwrap().get(&id)?))
    }
}

impl Subscriber for &'static Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Relaxed) + 1;
        self.spans.lock().unwrap().insert(id, span.metadata());
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        struct Msg(String);
        impl tracing::field::Visit for Msg {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" {
                    self.0 = format!("{v:?}");
                }
            }
        }
        let mut msg = Msg(String::new());
        event.record(&mut msg);
        let span = self.current().map(|(_, m)| m.name());
        self.events.lock().unwrap().push((msg.0, span));
    }
    fn enter(&self, span: &Id) {
        STACK.with(|s| s.borrow_mut().push(span.into_u64()));
    }
    fn exit(&self, span: &Id) {
        STACK.with(|s| {
            let mut s = s.borrow_mut();
            if let Some(i) = s.iter().rposition(|&x| x == span.into_u64()) {
                s.remove(i);
            }
        });
    }
    fn current_span(&self) -> Current {
        match self.current() {
            Some((id, meta)) => Current::new(Id::from_u64(id), meta),
            None => Current::none(),
        }
    }
}

fn recorder() -> &'static Recorder {
    static R: OnceLock<&'static Recorder> = OnceLock::new();
    R.get_or_init(|| {
        let r: &'static Recorder = Box::leak(Box::default());
        tracing::subscriber::set_global_default(r).expect("the only test of this binary");
        r
    })
}

#[test]
fn a_span_follows_the_task_onto_the_workers() {
    let rec = recorder();
    let spans = TaskSpans::default();
    let mut b = Builder::new();
    b.worker_threads(2);
    spans.install(&mut b);
    let rt = b.build().unwrap();

    rt.block_on(async {
        let traced = {
            let span = tracing::info_span!("request");
            let _g = span.enter();
            quell::spawn(async {
                tracing::info!("first poll");
                quell::task::yield_now().await;
                tracing::info!("after a yield");
                // A task spawned from inside the span inherits it too.
                quell::spawn(async { tracing::info!("grandchild") })
                    .await
                    .unwrap();
            })
        };
        let plain = quell::spawn(async { tracing::info!("no span") });
        traced.await.unwrap();
        plain.await.unwrap();
    });

    let events = rec.events.lock().unwrap().clone();
    let span_of = |msg: &str| {
        events
            .iter()
            .find(|(m, _)| m == msg)
            .unwrap_or_else(|| panic!("no event {msg:?} in {events:?}"))
            .1
    };
    assert_eq!(span_of("first poll"), Some("request"));
    assert_eq!(span_of("after a yield"), Some("request"));
    assert_eq!(span_of("grandchild"), Some("request"));
    assert_eq!(span_of("no span"), None);
    // Terminated tasks let go of their spans.
    assert!(spans.0.lock().unwrap().is_empty());
}
