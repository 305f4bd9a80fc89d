//! TCP echo over loopback, the same shape for both runtimes.
//!
//! An [`EchoRig`] owns `conns` loopback connections, made once with std
//! sockets (`TCP_NODELAY` on both ends) and handed to the runtime with
//! `from_std`. Per connection, two tasks on the runtime under test:
//!
//! * a server task: `read` up to 4 KiB, `write_all` what it read, until
//!   EOF;
//! * a client task: waits on a [`Slot`] for a command `(n, record)`, then
//!   makes `n` round trips — `write_all` a [`MSG`]-byte message, `read`
//!   until all of it is back — timing each one if `record`, and reports on
//!   a std channel.
//!
//! So client and server share the runtime's 2 workers; the bench thread
//! only hands out commands and waits (with a timeout) for the reports.
//! Connections are reused across runs (no connect/accept, no TIME_WAIT
//! build-up); dropping the rig sends `n = 0`, which closes them.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::rt::{Quell, Rt, Tokio};
use super::scenarios::{Failed, TIMEOUT};
use super::slot::Slot;

/// Bytes per echo message.
pub const MSG: usize = 64;
/// Connections of the throughput row.
pub const CONNS: usize = 50;
/// Round trips per connection per throughput run.
pub const REQS_PER_CONN: usize = 100;

/// The socket operations the echo workloads need.
pub trait NetRt: Rt {
    type Stream: Send + 'static;

    /// Registers a connected std stream (call on the runtime).
    fn from_std(s: TcpStream) -> io::Result<Self::Stream>;

    fn read<'a>(
        s: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;

    fn write_all<'a>(
        s: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
}

impl NetRt for Quell {
    type Stream = quell::net::TcpStream;

    fn from_std(s: TcpStream) -> io::Result<Self::Stream> {
        quell::net::TcpStream::from_std(s)
    }

    fn read<'a>(
        s: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        s.read(buf)
    }

    fn write_all<'a>(
        s: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        let fut = s.write_all(buf);
        async move { Ok(fut.await?) }
    }
}

impl NetRt for Tokio {
    type Stream = tokio::net::TcpStream;

    fn from_std(s: TcpStream) -> io::Result<Self::Stream> {
        s.set_nonblocking(true)?;
        tokio::net::TcpStream::from_std(s)
    }

    fn read<'a>(
        s: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        AsyncReadExt::read(s, buf)
    }

    fn write_all<'a>(
        s: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        AsyncWriteExt::write_all(s, buf)
    }
}

/// A client's report: the round-trip times (empty unless recorded).
type Report = Result<Vec<Duration>, String>;

/// Loopback echo connections with their server and client tasks.
pub struct EchoRig {
    clients: Vec<Arc<Slot<(usize, bool)>>>,
    reports: mpsc::Receiver<Report>,
    /// A run failed: the slots may still be full, so `drop` leaves the
    /// tasks alone (the runtime is leaked anyway).
    failed: Cell<bool>,
}

fn io_failed(what: &str) -> impl Fn(io::Error) -> Failed + '_ {
    move |e| Failed(format!("echo setup ({what}): {e}"))
}

async fn server<R: NetRt>(s: TcpStream) -> io::Result<()> {
    let mut s = R::from_std(s)?;
    let mut buf = [0u8; 4096];
    loop {
        let n = R::read(&mut s, &mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        R::write_all(&mut s, &buf[..n]).await?;
    }
}

async fn round_trips<R: NetRt>(
    c: &mut R::Stream,
    n: usize,
    record: bool,
) -> Result<Vec<Duration>, String> {
    let msg = [0x5au8; MSG];
    let mut buf = [0u8; MSG];
    let mut lat = Vec::with_capacity(if record { n } else { 0 });
    for _ in 0..n {
        let t = Instant::now();
        R::write_all(c, &msg)
            .await
            .map_err(|e| format!("client write: {e}"))?;
        let mut got = 0;
        while got < MSG {
            match R::read(c, &mut buf[got..]).await {
                Ok(0) => return Err("client read: EOF".into()),
                Ok(k) => got += k,
                Err(e) => return Err(format!("client read: {e}")),
            }
        }
        if record {
            lat.push(t.elapsed());
        }
    }
    if buf != msg {
        return Err("echo returned different bytes".into());
    }
    Ok(lat)
}

async fn client<R: NetRt>(
    c: TcpStream,
    cmds: Arc<Slot<(usize, bool)>>,
    reports: mpsc::Sender<Report>,
) {
    let mut c = match R::from_std(c) {
        Ok(c) => c,
        Err(e) => {
            let _ = reports.send(Err(format!("client from_std: {e}")));
            return;
        }
    };
    loop {
        let (n, record) = cmds.recv().await;
        if n == 0 {
            return; // drops the stream: the server reads EOF
        }
        let r = round_trips::<R>(&mut c, n, record).await;
        let failed = r.is_err();
        let _ = reports.send(r);
        if failed {
            return;
        }
    }
}

impl EchoRig {
    /// Makes `conns` loopback connections and spawns their tasks on `rt`.
    pub fn new<R: NetRt>(rt: &R, conns: usize) -> Result<EchoRig, Failed> {
        let l = TcpListener::bind("127.0.0.1:0").map_err(io_failed("bind"))?;
        let addr = l.local_addr().map_err(io_failed("local_addr"))?;
        let (tx, reports) = mpsc::channel();
        let mut clients = Vec::with_capacity(conns);
        for _ in 0..conns {
            let c = TcpStream::connect(addr).map_err(io_failed("connect"))?;
            let (s, _) = l.accept().map_err(io_failed("accept"))?;
            c.set_nodelay(true).map_err(io_failed("nodelay"))?;
            s.set_nodelay(true).map_err(io_failed("nodelay"))?;
            let report = tx.clone();
            drop(rt.spawn_remote(async move {
                if let Err(e) = server::<R>(s).await {
                    let _ = report.send(Err(format!("server: {e}")));
                }
            }));
            let slot = Arc::new(Slot::new());
            drop(rt.spawn_remote(client::<R>(c, slot.clone(), tx.clone())));
            clients.push(slot);
        }
        Ok(EchoRig {
            clients,
            reports,
            failed: Cell::new(false),
        })
    }

    /// Every client makes `n` round trips (concurrently); returns when all
    /// reported, with their round-trip times if `record`.
    pub fn run(&self, n: usize, record: bool) -> Result<Vec<Duration>, Failed> {
        assert!(n > 0);
        for c in &self.clients {
            c.send((n, record));
        }
        let mut all = Vec::new();
        for _ in 0..self.clients.len() {
            let r = match self.reports.recv_timeout(TIMEOUT) {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => return Err(self.fail(e)),
                Err(e) => return Err(self.fail(format!("no report within {TIMEOUT:?} ({e})"))),
            };
            all.extend(r);
        }
        Ok(all)
    }

    fn fail(&self, e: String) -> Failed {
        self.failed.set(true);
        Failed(format!("echo: {e}"))
    }
}

impl Drop for EchoRig {
    fn drop(&mut self) {
        if self.failed.get() {
            return;
        }
        for c in &self.clients {
            c.send((0, false));
        }
    }
}
