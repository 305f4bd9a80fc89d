//! The task dump (`Handle::dump`): what each task waits on, its cancel
//! state, the cancel tree and its DOT form, on both runtime flavours.

mod support;
use support::dump_until;

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use quell::cancel::{shield, CancelToken, Cause, CauseKind};
use quell::net::{TcpListener, TcpStream};
use quell::runtime::{Builder, CancelState, Dump, Handle, TaskDump, TaskKind, TaskState, Wait};
use quell::task::{Id, SpawnBuilder};

fn entry(d: &Dump, id: Id) -> &TaskDump {
    d.task(id)
        .unwrap_or_else(|| panic!("task {id} missing from\n{d}"))
}

fn parked_in(d: &Dump, id: Id, what: &str) -> bool {
    d.task(id).is_some_and(|t| {
        t.state == TaskState::Parked && t.wait.as_ref().is_some_and(|w| w.what == what)
    })
}

fn cancelled_by_line(t: &TaskDump, line: u32) {
    match &t.cancel {
        CancelState::Cancelled { cause, by, .. } => {
            assert_eq!(cause.kind(), &CauseKind::Explicit, "{t}");
            let by = by.expect("a cancel call site");
            assert_eq!((by.file(), by.line()), (file!(), line), "{t}");
        }
        other => panic!("not cancelled: {other:?}\n{t}"),
    }
}

/// Three tasks that ignore their cancel in different ways: each entry
/// names its wait and shows it cancelled, with the call site.
#[test]
fn three_stragglers_name_their_wait_and_cancel_state() {
    let rt = Builder::new().worker_threads(2).build().unwrap();
    let h = rt.handle().clone();
    let (stream, peer, local_addr) = rt.block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let c = TcpStream::connect(addr).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        (s, c, addr)
    });

    // 1. A foreign future: never observes the cancel.
    let foreign = SpawnBuilder::new()
        .name("foreign")
        .spawn_on(std::future::pending::<()>(), &h);
    // 2. A quell read under a shield: the cancel does not reach it.
    let read_line = line!() + 4;
    let shielded = SpawnBuilder::new().name("shielded-read").spawn_on(
        async move {
            let mut stream = stream;
            let _ = shield(async { stream.read(&mut [0u8; 16]).await }).await;
        },
        &h,
    );
    // 3. A busy loop between awaits: running, never at an await point.
    let stop = Arc::new(AtomicBool::new(false));
    let spinning = Arc::new(AtomicBool::new(false));
    let (st, sp) = (stop.clone(), spinning.clone());
    let busy = SpawnBuilder::new().name("busy").spawn_on(
        async move {
            sp.store(true, SeqCst);
            while !st.load(SeqCst) {
                std::hint::spin_loop();
            }
        },
        &h,
    );
    while !spinning.load(SeqCst) {
        std::thread::yield_now();
    }
    dump_until(&h, |d| {
        parked_in(d, foreign.id(), Wait::FOREIGN) && parked_in(d, shielded.id(), "TcpStream::read")
    });

    let cancel_line = line!() + 1;
    let cancel = |j: &quell::JoinHandle<()>| j.cancel(Cause::explicit("stop"));
    assert!(cancel(&foreign) && cancel(&shielded) && cancel(&busy));

    let d = dump_until(&h, |d| {
        [foreign.id(), shielded.id(), busy.id()]
            .iter()
            .all(|id| d.task(*id).is_some_and(|t| t.cancel.is_cancelled()))
            && parked_in(d, foreign.id(), Wait::FOREIGN)
            && parked_in(d, shielded.id(), "TcpStream::read")
    });
    let text = d.to_string();

    let f = entry(&d, foreign.id());
    assert_eq!(f.name.as_deref(), Some("foreign"));
    assert!(f.wait.as_ref().unwrap().location.is_none());
    cancelled_by_line(f, cancel_line);

    let s = entry(&d, shielded.id());
    let w = s.wait.as_ref().unwrap();
    let at = w.location.expect("the read's call site");
    assert_eq!((at.file(), at.line()), (file!(), read_line), "{s}");
    let detail = w.detail.as_deref().unwrap();
    assert!(detail.contains(&format!("local {local_addr}")), "{detail}");
    assert!(
        detail.contains(&format!("peer {}", peer.local_addr().unwrap())),
        "{detail}"
    );
    cancelled_by_line(s, cancel_line);

    let b = entry(&d, busy.id());
    assert!(
        matches!(b.state, TaskState::Running { worker: Some(_) }),
        "{b}"
    );
    assert!(b.wait.is_none(), "{b}");
    cancelled_by_line(b, cancel_line);

    // The text form names each wait; one entry reads alone.
    assert!(
        text.contains("waits on a future quell does not own"),
        "{text}"
    );
    assert!(text.contains("waits on TcpStream::read"), "{text}");
    assert!(
        b.to_string()
            .starts_with(&format!("task {} \"busy\" [running on worker", b.id)),
        "{b}"
    );

    stop.store(true, SeqCst);
    drop(peer);
    rt.block_on(async { busy.await.unwrap() });
}

/// The listed await points each record themselves with the caller's
/// location and what they wait for.
#[test]
fn await_points_sleep_recv_join_and_lock() {
    let rt = Builder::new().worker_threads(1).build().unwrap();
    let h = rt.handle().clone();
    let sleep_line = line!() + 1;
    let sleeper = h.spawn(async { quell::time::sleep(Duration::from_secs(600)).await });
    let sleeper_id = sleeper.id();
    let (tx, mut rx) = quell::sync::mpsc::channel::<u32>(4);
    let recv_line = line!() + 1;
    let receiver = h.spawn(async move { rx.recv().await.ok() });
    let joiner = h.spawn(async move { sleeper.await.is_ok() });
    let mutex = Arc::new(quell::sync::Mutex::new(0));
    let held = rt.block_on(mutex.clone().lock_owned()).unwrap();
    let m = mutex.clone();
    let lock_line = line!() + 1;
    let locker = h.spawn(async move { *m.lock().await.unwrap() });

    let d = dump_until(&h, |d| {
        parked_in(d, sleeper_id, "sleep")
            && parked_in(d, receiver.id(), "mpsc::Receiver::recv")
            && parked_in(d, joiner.id(), "JoinHandle")
            && parked_in(d, locker.id(), "Mutex::lock")
    });
    let at_line = |id: Id, line: u32| {
        let t = entry(&d, id);
        let at = t.wait.as_ref().unwrap().location.unwrap();
        assert_eq!((at.file(), at.line()), (file!(), line), "{t}");
        t.wait.as_ref().unwrap().detail.clone().unwrap_or_default()
    };
    assert!(at_line(sleeper_id, sleep_line).contains("from now"));
    assert!(at_line(receiver.id(), recv_line).contains("queue length 0"));
    at_line(locker.id(), lock_line);
    let j = entry(&d, joiner.id()).wait.as_ref().unwrap();
    assert_eq!(
        j.detail.as_deref(),
        Some(format!("of task {sleeper_id}").as_str())
    );
    // Spawned from outside any task: no parent.
    assert_eq!(entry(&d, joiner.id()).parent, None);

    drop(held);
    tx.try_send(7).unwrap();
    rt.block_on(async {
        assert_eq!(receiver.await.unwrap(), Some(7));
        assert_eq!(locker.await.unwrap(), 0);
    });
}

/// The tree nests tasks under their scopes: a cancelled scope shows what
/// is still alive beneath it; the DOT output is a well-formed digraph.
#[test]
fn tree_nests_tasks_under_scopes_and_dot_is_a_digraph() {
    let rt = Builder::new().worker_threads(1).build().unwrap();
    let h = rt.handle().clone();
    let scope = CancelToken::new();
    let inner = scope.child();
    let a = SpawnBuilder::new()
        .name("a")
        .token(scope.clone())
        .spawn_on(std::future::pending::<()>(), &h);
    let b = SpawnBuilder::new()
        .name("b")
        .token(inner.clone())
        .spawn_on(std::future::pending::<()>(), &h);
    let cancel_line = line!() + 1;
    scope.cancel(Cause::explicit("scope done"));
    let d = dump_until(&h, |d| {
        parked_in(d, a.id(), Wait::FOREIGN) && parked_in(d, b.id(), Wait::FOREIGN)
    });
    let (ea, eb) = (entry(&d, a.id()), entry(&d, b.id()));
    cancelled_by_line(ea, cancel_line);
    cancelled_by_line(eb, cancel_line);
    let scope_of = |t: &TaskDump| d.scopes.iter().find(|s| Some(s.id) == t.scope).unwrap();
    let (sa, sb) = (scope_of(ea), scope_of(eb));
    assert_eq!(sb.parent, Some(sa.id), "b's scope is a child of a's");
    assert!(sa.cancel.is_cancelled() && sb.cancel.is_cancelled());
    match &sb.cancel {
        CancelState::Cancelled {
            inherited, origin, ..
        } => {
            assert!(inherited);
            assert_eq!(*origin, Some(sa.id));
        }
        _ => unreachable!(),
    }

    // Text: a's scope, then task a and b's scope beneath it (indented
    // deeper), then task b beneath that.
    let tree = d.tree().to_string();
    let line_of = |needle: &str| {
        tree.lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} not in\n{tree}"))
    };
    let indent = |i: usize| {
        tree.lines().nth(i).unwrap().len() - tree.lines().nth(i).unwrap().trim_start().len()
    };
    let (la, lsa) = (
        line_of(&format!("task {} \"a\"", a.id())),
        line_of(&format!("{}:", sa.id)),
    );
    let (lb, lsb) = (
        line_of(&format!("task {} \"b\"", b.id())),
        line_of(&format!("{}:", sb.id)),
    );
    assert!(lsa < la && lsa < lsb && lsb < lb, "{tree}");
    assert!(
        indent(la) > indent(lsa) && indent(lsb) > indent(lsa) && indent(lb) > indent(lsb),
        "{tree}"
    );

    // DOT: a digraph whose edges join declared nodes, a -> its tasks.
    let dot = d.to_dot();
    assert!(
        dot.starts_with("digraph ") && dot.trim_end().ends_with('}'),
        "{dot}"
    );
    assert_eq!(dot.matches('{').count(), dot.matches('}').count(), "{dot}");
    let mut declared = std::collections::HashSet::new();
    let mut edges = Vec::new();
    for l in dot.lines().map(str::trim) {
        if let Some((from, to)) = l.strip_suffix(';').and_then(|l| l.split_once(" -> ")) {
            edges.push((from.to_owned(), to.to_owned()));
        } else if l.starts_with('"') {
            declared.insert(l.split(' ').next().unwrap().to_owned());
        }
    }
    for (from, to) in &edges {
        assert!(
            declared.contains(from) && declared.contains(to),
            "{from} -> {to}\n{dot}"
        );
    }
    let edge = (format!("\"{}\"", sa.id), format!("\"task{}\"", a.id()));
    assert!(edges.contains(&edge), "{dot}");
    assert!(
        edges.contains(&(format!("\"{}\"", sa.id), format!("\"{}\"", sb.id))),
        "{dot}"
    );
    a.abort();
    b.abort();
}

/// Current-thread flavour: tasks and a running blocking task appear, and
/// a task spawned by a task names its parent.
#[test]
fn current_thread_lists_blocking_tasks_and_parents() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let blocking = SpawnBuilder::new().name("blocker").spawn_blocking(move || {
            started_tx.send(()).unwrap();
            go_rx.recv().unwrap();
        });
        let parent = quell::spawn(async {
            let child = quell::spawn(std::future::pending::<()>());
            let id = child.id();
            std::mem::forget(child.cancel_on_drop());
            id
        });
        let parent_id = parent.id();
        let child_id = parent.await.unwrap();
        quell::task::spawn_blocking(move || started_rx.recv().unwrap())
            .await
            .unwrap();
        let d = Handle::current().dump();
        assert_eq!(d.workers, 0);
        let b = entry(&d, blocking.id());
        assert_eq!(
            b.kind,
            TaskKind::Blocking {
                interruptible: false
            }
        );
        assert_eq!(b.state, TaskState::Running { worker: None }, "{b}");
        assert_eq!(entry(&d, child_id).parent, Some(parent_id));
        go_tx.send(()).unwrap();
        blocking.await.unwrap();
    });
}

/// A dump of 100 000 parked tasks completes and lists them all (the timed
/// figure is the `dump_100k` example's).
#[test]
fn dump_of_100k_parked_tasks_completes() {
    let rt = Builder::new().worker_threads(2).build().unwrap();
    let h = rt.handle().clone();
    let handles: Vec<_> = (0..100_000)
        .map(|_| h.spawn(std::future::pending::<()>()))
        .collect();
    let d = dump_until(&h, |d| {
        d.tasks
            .iter()
            .filter(|t| t.state == TaskState::Parked)
            .count()
            == handles.len()
    });
    assert!(d.tasks.len() >= 100_000);
    assert!(d.tasks.iter().all(|t| !t.cancel.is_cancelled()));
    drop(handles);
}
