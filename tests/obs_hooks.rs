//! Runtime hooks: thread start/stop, task spawn/terminate (id, name, spawn
//! site), before/after poll; a panicking hook is contained.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use quell::runtime::Builder;
use quell::task::{yield_now, Id, SpawnBuilder};

#[test]
fn thread_start_and_stop_on_workers_and_blocking_threads() {
    let started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let (s, t) = (started.clone(), stopped.clone());
    let rt = Builder::new()
        .worker_threads(2)
        .on_thread_start(move || {
            s.fetch_add(1, SeqCst);
        })
        .on_thread_stop(move || {
            t.fetch_add(1, SeqCst);
        })
        .build()
        .unwrap();
    // A blocking-pool thread runs the hook before its first closure.
    let n = rt.block_on(async { quell::task::spawn_blocking(|| 1).await.unwrap() });
    assert_eq!(n, 1);
    // Two workers (which may still be starting) and one blocking thread.
    drop(rt);
    assert_eq!(started.load(SeqCst), 3);
    assert_eq!(stopped.load(SeqCst), 3);
}

#[derive(Debug, Clone, PartialEq)]
struct Seen {
    id: Id,
    name: Option<String>,
    file: &'static str,
    line: u32,
}

#[test]
fn task_spawn_and_terminate_carry_id_name_and_site() {
    let spawned = Arc::new(Mutex::new(Vec::new()));
    let terminated = Arc::new(Mutex::new(Vec::new()));
    let (s, t) = (spawned.clone(), terminated.clone());
    let seen = |m: &quell::runtime::TaskMeta<'_>| Seen {
        id: m.id(),
        name: m.name().map(str::to_owned),
        file: m.location().file(),
        line: m.location().line(),
    };
    let rt = Builder::new()
        .worker_threads(1)
        .on_task_spawn(move |m| s.lock().unwrap().push(seen(m)))
        .on_task_terminate(move |m| t.lock().unwrap().push(seen(m)))
        .build()
        .unwrap();
    let b = SpawnBuilder::new().name("worker-job");
    let line = line!() + 1;
    let h = b.spawn_on(async { 7 }, rt.handle());
    let id = h.id();
    assert_eq!(rt.block_on(h).unwrap(), 7);
    let expected = Seen {
        id,
        name: Some("worker-job".into()),
        file: file!(),
        line,
    };
    assert_eq!(*spawned.lock().unwrap(), vec![expected.clone()]);
    // Terminate runs before the join can see the output.
    assert_eq!(*terminated.lock().unwrap(), vec![expected]);
}

#[test]
fn terminate_runs_for_aborted_and_panicked_tasks() {
    let terminated = Arc::new(Mutex::new(Vec::new()));
    let t = terminated.clone();
    let rt = Builder::new()
        .worker_threads(1)
        .on_task_terminate(move |m| t.lock().unwrap().push(m.id()))
        .build()
        .unwrap();
    rt.block_on(async {
        let p = quell::spawn(async { panic!("boom") });
        let pid = p.id();
        assert!(p.await.unwrap_err().is_panic());
        let a = quell::spawn(std::future::pending::<()>());
        let aid = a.id();
        a.abort();
        assert!(a.await.unwrap_err().is_aborted());
        assert_eq!(*terminated.lock().unwrap(), vec![pid, aid]);
    });
}

#[test]
fn before_and_after_poll_bracket_every_poll() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (b, a) = (log.clone(), log.clone());
    let rt = Builder::new()
        .worker_threads(1)
        .before_poll(move |id| b.lock().unwrap().push(("before", id)))
        .after_poll(move |id| a.lock().unwrap().push(("after", id)))
        .build()
        .unwrap();
    let h = rt.spawn(async {
        yield_now().await;
        yield_now().await;
    });
    let id = h.id();
    rt.block_on(async move {
        h.await.unwrap();
        // `after_poll` runs after the poll that completed the task, which
        // may be after its join returned: a later task on the only worker
        // is polled after it.
        quell::spawn(async {}).await.unwrap();
    });
    let log = log.lock().unwrap();
    let mine: Vec<_> = log
        .iter()
        .filter(|(_, i)| *i == id)
        .map(|(w, _)| *w)
        .collect();
    // Three polls (two yields), each bracketed.
    assert_eq!(
        mine,
        ["before", "after", "before", "after", "before", "after"]
    );
}

#[test]
fn panicking_hooks_are_contained_and_keep_being_called() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let rt = Builder::new()
        .worker_threads(2)
        .before_poll(move |_| {
            c.fetch_add(1, SeqCst);
            panic!("hook bug");
        })
        .on_task_spawn(|_| panic!("spawn hook bug"))
        .on_task_terminate(|_| panic!("terminate hook bug"))
        .build()
        .unwrap();
    let total = rt.block_on(async {
        let hs: Vec<_> = (0..10u32)
            .map(|i| {
                quell::spawn(async move {
                    yield_now().await;
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(total, 45, "tasks run to completion despite the hooks");
    // 10 tasks × 2 polls at least: the hook was not switched off.
    assert!(calls.load(SeqCst) >= 20);
    // The runtime is not poisoned: it still runs work and shuts down.
    assert_eq!(
        rt.block_on(async { quell::spawn(async { 1 }).await.unwrap() }),
        1
    );
    drop(rt);
}

#[test]
fn spawn_hook_runs_on_the_spawning_thread() {
    let threads = Arc::new(Mutex::new(HashMap::new()));
    let t = threads.clone();
    let rt = Builder::new()
        .worker_threads(1)
        .on_task_spawn(move |m| {
            t.lock()
                .unwrap()
                .insert(m.id(), std::thread::current().id());
        })
        .build()
        .unwrap();
    let h = rt.spawn(async {});
    assert_eq!(
        threads.lock().unwrap().get(&h.id()),
        Some(&std::thread::current().id())
    );
    rt.block_on(h).unwrap();
}
