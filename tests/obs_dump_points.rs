//! Every quell await point names itself in a task dump: one task parked
//! on each, and each entry's wait says which call it is parked in and
//! where in this file that call is.

mod support;
use support::dump_until;

use std::time::{Duration, Instant};

use quell::cancel::{with_deadline, with_timeout};
use quell::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};
use quell::runtime::{Builder, TaskState};
use quell::sync::{broadcast, mpsc, oneshot, watch, Barrier, Notify, RwLock, Semaphore};
use quell::task::{SpawnBuilder, TaskGroup};
use quell::time::{interval, timeout};
use quell::JoinHandle;

/// One parked task: the await point it must show, the line of the call
/// (None: an `.await` on the value itself, which has no caller location).
struct Parked {
    what: &'static str,
    line: Option<u32>,
    task: JoinHandle<()>,
}

/// A connected TCP pair (and its listener, kept open).
async fn tcp_pair() -> (TcpStream, TcpStream, TcpListener) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    (s, c, l)
}

#[test]
fn every_await_point_names_itself_in_the_dump() {
    let rt = Builder::new().worker_threads(2).build().unwrap();
    let h = rt.handle().clone();
    let dir = std::env::temp_dir().join(format!("quell-dump-points-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let listener_path = dir.join("listener.sock");
    let mut parked = Vec::new();
    // `park!(what, line of the call, body)`: spawns `body` (which parks).
    macro_rules! park {
        ($what:literal, $line:expr, $body:expr) => {
            parked.push(Parked {
                what: $what,
                line: $line,
                task: SpawnBuilder::new().name($what).spawn_on(
                    async move {
                        let _ = $body.await;
                    },
                    &h,
                ),
            })
        };
    }

    park!("UdpSocket::recv", Some(line!() + 3), async {
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0u8; 8];
        s.recv(&mut buf).await.map(drop)
    });
    park!("UdpSocket::recv_from", Some(line!() + 3), async {
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0u8; 8];
        s.recv_from(&mut buf).await.map(drop)
    });
    park!("UdpSocket::peek_from", Some(line!() + 3), async {
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0u8; 8];
        s.peek_from(&mut buf).await.map(drop)
    });
    park!("UnixStream::read", Some(line!() + 3), async {
        let (mut a, _b) = UnixStream::pair().unwrap();
        let mut buf = [0u8; 8];
        a.read(&mut buf).await.map(drop)
    });
    park!("UnixListener::accept", Some(line!() + 2), async move {
        let l = UnixListener::bind(&listener_path).unwrap();
        l.accept().await.map(drop)
    });
    park!("UnixDatagram::recv", Some(line!() + 3), async {
        let (a, _b) = UnixDatagram::pair().unwrap();
        let mut buf = [0u8; 8];
        a.recv(&mut buf).await.map(drop)
    });
    park!("UnixDatagram::recv_from", Some(line!() + 3), async {
        let (a, _b) = UnixDatagram::pair().unwrap();
        let mut buf = [0u8; 8];
        a.recv_from(&mut buf).await.map(drop)
    });
    park!("Notify::notified", Some(line!() + 2), async {
        let n = Notify::new();
        n.notified().await
    });
    park!("Semaphore::acquire", Some(line!() + 2), async {
        let s = Semaphore::new(0);
        s.acquire().await.map(drop)
    });
    park!("Semaphore::acquire", Some(line!() + 2), async {
        let s = std::sync::Arc::new(Semaphore::new(0));
        s.acquire_owned().await.map(drop)
    });
    park!("Mutex::lock", Some(line!() + 3), async {
        let m = std::sync::Arc::new(quell::sync::Mutex::new(()));
        let _g = m.try_lock().unwrap();
        m.clone().lock_owned().await.map(drop)
    });
    park!("RwLock::read", Some(line!() + 3), async {
        let l = RwLock::new(());
        let _w = l.try_write().unwrap();
        l.read().await.map(drop)
    });
    park!("RwLock::write", Some(line!() + 3), async {
        let l = RwLock::new(());
        let _r = l.try_read().unwrap();
        l.write().await.map(drop)
    });
    park!("Barrier::wait", Some(line!() + 2), async {
        let b = Barrier::new(2);
        b.wait().await.map(drop)
    });
    park!("mpsc::Sender::send", Some(line!() + 3), async {
        let (tx, _rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        tx.send(2).await.map_err(drop)
    });
    park!("mpsc::Sender::reserve", Some(line!() + 3), async {
        let (tx, _rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        tx.reserve().await.map(drop).map_err(drop)
    });
    park!("mpsc::Receiver::recv", Some(line!() + 2), async {
        let (_tx, mut rx) = mpsc::unbounded_channel::<u8>();
        rx.recv().await.map(drop)
    });
    park!("broadcast::Receiver::recv", Some(line!() + 2), async {
        let (_tx, mut rx) = broadcast::channel::<u8>(4);
        rx.recv().await.map(drop)
    });
    park!("watch::Receiver::changed", Some(line!() + 2), async {
        let (_tx, mut rx) = watch::channel(0u8);
        rx.changed().await
    });
    park!("oneshot::Receiver", None, async {
        let (_tx, rx) = oneshot::channel::<u8>();
        rx.await.map(drop)
    });

    // Poll methods reached through a trait (hyper's adapter, futures-io):
    // recorded on the socket, with no caller location.
    park!("AsyncRead::poll_read", None, async {
        let (mut s, _peer, _l) = tcp_pair().await;
        let mut buf = [0u8; 8];
        std::future::poll_fn(|cx| {
            futures_util::io::AsyncRead::poll_read(std::pin::Pin::new(&mut s), cx, &mut buf)
        })
        .await
        .map(drop)
    });
    park!("TcpListener::accept", None, async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        std::future::poll_fn(|cx| l.poll_accept(cx)).await.map(drop)
    });
    park!("TcpStream::readable", Some(line!() + 2), async {
        let (s, _peer, _l) = tcp_pair().await;
        s.readable().await
    });
    park!("TcpStream::read_exact", Some(line!() + 3), async {
        let (mut s, _peer, _l) = tcp_pair().await;
        let mut buf = [0u8; 8];
        s.read_exact(&mut buf).await.map_err(drop)
    });
    park!("TcpStream::read_to_end", Some(line!() + 3), async {
        let (mut s, _peer, _l) = tcp_pair().await;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.map(drop)
    });
    park!("OwnedReadHalf::read", Some(line!() + 3), async {
        let (s, _peer, _l) = tcp_pair().await;
        let (mut r, _w) = s.into_split();
        r.read(&mut [0u8; 8]).await.map(drop)
    });
    park!("UnixStream::read_exact", Some(line!() + 3), async {
        let (mut a, _b) = UnixStream::pair().unwrap();
        let mut buf = [0u8; 8];
        a.read_exact(&mut buf).await.map_err(drop)
    });
    park!("Interval::tick", Some(line!() + 3), async {
        let mut i = interval(Duration::from_secs(3600));
        i.tick().await.unwrap(); // the first tick is immediate
        i.tick().await.map(drop)
    });
    park!("timeout", Some(line!() + 1), async {
        timeout(Duration::from_secs(3600), std::future::pending::<()>()).await
    });
    park!("with_deadline", Some(line!() + 1), async {
        with_timeout(Duration::from_secs(3600), std::future::pending::<()>()).await
    });
    park!("with_deadline", Some(line!() + 2), async {
        let at = Instant::now() + Duration::from_secs(3600);
        with_deadline(at, std::future::pending::<()>()).await
    });
    park!("TaskGroup::join_next", Some(line!() + 3), async {
        let mut g = TaskGroup::<()>::new();
        g.spawn(std::future::pending());
        g.join_next().await.map(drop)
    });
    park!("TaskGroup::join_all", Some(line!() + 3), async {
        let mut g = TaskGroup::<()>::new();
        g.spawn(std::future::pending());
        g.join_all().await
    });

    let d = dump_until(&h, |d| {
        parked.iter().all(|p| {
            d.task(p.task.id()).is_some_and(|t| {
                t.state == TaskState::Parked && t.wait.as_ref().is_some_and(|w| w.what == p.what)
            })
        })
    });
    for p in &parked {
        let t = d.task(p.task.id()).unwrap();
        let w = t.wait.as_ref().unwrap();
        assert_eq!(w.what, p.what, "{t}");
        match p.line {
            Some(line) => {
                let at = w.location.unwrap_or_else(|| panic!("no call site: {t}"));
                assert_eq!((at.file(), at.line()), (file!(), line), "{t}");
            }
            None => assert!(w.location.is_none(), "{t}"),
        }
        if ["Udp", "Unix", "Tcp", "Owned"]
            .iter()
            .any(|k| p.what.starts_with(k))
        {
            let detail = w.detail.as_deref().unwrap_or_default();
            assert!(detail.starts_with("fd "), "{t}");
        }
    }
    for p in &parked {
        p.task.abort();
    }
    drop(rt);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A deadline's cancel names the `with_timeout` caller as its call site
/// (not the timer wheel that fires it).
#[test]
fn a_deadline_cancel_names_the_with_timeout_caller() {
    let rt = Builder::new().worker_threads(1).build().unwrap();
    let line = line!() + 2;
    let by = rt.block_on(async {
        with_timeout(Duration::from_millis(1), async {
            let _ = quell::time::sleep(Duration::from_secs(3600)).await;
            quell::cancel::current().cancelled_by()
        })
        .await
        .unwrap()
    });
    let by = by.expect("a cancel call site");
    assert_eq!((by.file(), by.line()), (file!(), line));
}
