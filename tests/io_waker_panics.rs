//! A `Waker` is user code: its `clone`, `wake` and `drop` may panic. A
//! panicking waker registered on a socket must not poison the I/O driver's
//! locks: the runtime keeps working, the socket stays usable, and dropping
//! the sockets and the runtime does not abort (an abort here kills the test
//! binary, which fails the run).

mod support;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use quell::cancel::{CancelToken, Cause};
use quell::net::{TcpListener, TcpStream};
use quell::task::SpawnBuilder;
use support::*;

/// What the waker does wrong, and how often it was woken.
struct Mode {
    clone_panics: bool,
    wake_panics: bool,
    drop_panics: bool,
    wakes: AtomicUsize,
}

static CLONE_PANICS: Mode = Mode::new(true, false, false);
static WAKE_PANICS: Mode = Mode::new(false, true, false);
static DROP_PANICS: Mode = Mode::new(false, false, true);

impl Mode {
    const fn new(clone_panics: bool, wake_panics: bool, drop_panics: bool) -> Mode {
        Mode {
            clone_panics,
            wake_panics,
            drop_panics,
            wakes: AtomicUsize::new(0),
        }
    }
}

fn mode(p: *const ()) -> &'static Mode {
    // SAFETY: every data pointer of VTABLE is one of the `Mode` statics.
    unsafe { &*(p as *const Mode) }
}

/// # Safety
///
/// `p` must be one of the `Mode` statics (it owns no resources).
unsafe fn clone(p: *const ()) -> RawWaker {
    if mode(p).clone_panics {
        panic!("test waker: clone panics");
    }
    RawWaker::new(p, &VTABLE)
}

/// # Safety
///
/// `p` must be one of the `Mode` statics (it owns no resources).
unsafe fn wake(p: *const ()) {
    let m = mode(p);
    m.wakes.fetch_add(1, SeqCst);
    if m.wake_panics {
        panic!("test waker: wake panics");
    }
}

/// # Safety
///
/// `p` must be one of the `Mode` statics (it owns no resources).
unsafe fn drop_waker(p: *const ()) {
    if mode(p).drop_panics {
        panic!("test waker: drop panics");
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop_waker);

/// A waker for `m`. The test's own copy is leaked (never dropped), so only
/// the copies the runtime makes ever run `drop`.
fn bad_waker(m: &'static Mode) -> std::mem::ManuallyDrop<Waker> {
    // SAFETY: VTABLE's functions accept any `Mode` static as data and
    // uphold the RawWaker contract (they own no resources).
    std::mem::ManuallyDrop::new(unsafe {
        Waker::from_raw(RawWaker::new(m as *const Mode as *const (), &VTABLE))
    })
}

fn poll_once<F: Future>(
    fut: std::pin::Pin<&mut F>,
    w: &Waker,
) -> std::thread::Result<Poll<F::Output>> {
    catch_unwind(AssertUnwindSafe(|| fut.poll(&mut Context::from_waker(w))))
}

async fn pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (server, _) = l.accept().await.unwrap();
    (client, server)
}

/// The socket and the runtime still work: a byte written by the peer is
/// read by an ordinary task; a fresh pair echoes.
async fn still_works(client: &mut TcpStream, server: &mut TcpStream) {
    client.write_all(b"x").await.unwrap();
    let mut buf = [0; 8];
    assert_eq!(server.read(&mut buf).await.unwrap(), 1);
    let (mut a, mut b) = pair().await;
    let echo = quell::spawn(async move {
        let mut buf = [0; 4];
        let n = b.read(&mut buf).await.unwrap();
        b.write_all(&buf[..n]).await.unwrap();
    });
    a.write_all(b"ping").await.unwrap();
    assert_eq!(a.read(&mut buf).await.unwrap(), 4);
    echo.await.unwrap();
}

#[test]
fn a_waker_whose_clone_panics_leaves_the_driver_usable() {
    let _dog = watchdog("clone panics");
    let rt = rt(2);
    rt.block_on(async {
        let (mut client, mut server) = pair().await;
        {
            let mut buf = [0; 8];
            let read = pin!(server.read(&mut buf));
            let r = poll_once(read, &bad_waker(&CLONE_PANICS));
            assert!(r.is_err(), "the clone's panic reaches the poller");
        }
        assert!(!server.has_read_waiter(), "nothing was registered");
        still_works(&mut client, &mut server).await;
    });
    drop(rt);
}

#[test]
fn a_waker_whose_wake_panics_leaves_the_driver_usable() {
    let _dog = watchdog("wake panics");
    let rt = rt(2);
    rt.block_on(async {
        let (mut client, mut server) = pair().await;
        {
            let mut buf = [0; 8];
            let read = pin!(server.read(&mut buf));
            let r = poll_once(read, &bad_waker(&WAKE_PANICS));
            assert!(matches!(r, Ok(Poll::Pending)));
        }
        assert!(server.has_read_waiter());
        // The dispatch of this byte wakes the bad waker, on a worker.
        client.write_all(b"y").await.unwrap();
        wait_until(|| WAKE_PANICS.wakes.load(SeqCst) > 0);
        let mut buf = [0; 8];
        assert_eq!(server.read(&mut buf).await.unwrap(), 1);
        still_works(&mut client, &mut server).await;
    });
    drop(rt);
}

#[test]
fn a_waker_whose_drop_panics_leaves_the_driver_usable() {
    let _dog = watchdog("drop panics");
    let rt = rt(2);
    let (client, server) = rt.block_on(pair());
    // A cancelled wait removes (drops) its own entry: here, the bad waker's
    // stored clone.
    let token = CancelToken::new();
    let t = token.clone();
    let server = rt
        .block_on(SpawnBuilder::new().token(token.clone()).spawn_on(
            async move {
                let mut server = server;
                {
                    let mut buf = [0; 8];
                    let mut read = pin!(server.read(&mut buf));
                    let w = bad_waker(&DROP_PANICS);
                    let r = poll_once(read.as_mut(), &w);
                    assert!(matches!(r, Ok(Poll::Pending)));
                    t.cancel(Cause::explicit("drop the entry"));
                    let r = poll_once(read.as_mut(), &w);
                    assert!(r.is_err(), "the drop's panic reaches the poller");
                }
                assert!(!server.has_read_waiter(), "C7: the entry is gone");
                server
            },
            rt.handle(),
        ))
        .unwrap();
    rt.block_on(async move {
        let (mut client, mut server) = (client, server);
        still_works(&mut client, &mut server).await;
    });
    drop(rt);
}
