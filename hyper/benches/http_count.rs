//! A fixed number of HTTP requests against hyper on quell (quell-hyper)
//! or hyper on tokio (hyper-util's tokio glue), from an in-process client:
//! a workload to count, not to time. Run it under
//! `valgrind --tool=callgrind --separate-threads=yes` (instructions per
//! server thread; the client is the main thread, thread 1) or
//! `strace -c -f` (syscalls; the client's own are printed, to subtract).
//!
//! The servers are the ones `benches/http.rs` runs (the same service, the
//! same hyper-util `auto` builder with a timer on both sides,
//! `TCP_NODELAY`, 2 workers). The client drives `CONNS` keep-alive
//! connections from one thread in rounds: it writes one request on every
//! connection, then reads every response, so the server sees many
//! ready sockets at once, as under wrk.
//!
//! ```text
//! cargo bench -p quell-hyper --bench http_count --no-run
//! B=$(ls -t target/release/deps/http_count-* | grep -v '\.d$' | head -1)
//! $B quell hello 200          # side, route, rounds (50 requests each)
//! valgrind --tool=callgrind --separate-threads=yes $B tokio echo 200
//! ```
//!
//! Take the difference of two round counts (e.g. 40 and 120) over the
//! requests between them, so start-up and shutdown cancel out.
//! `QH_SPIN=N` sets the quell runtime's `spin_before_park` (to see what
//! the searching workers' spin costs); docs/benchmarks.md has the figures.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use http::{Request, Response};
use http_body_util::{Either, Full};
use hyper::body::{Bytes, Incoming};
use quell_cancel::{CancelToken, Cause};
use quell_executor::task::SpawnBuilder;

const WORKERS: usize = 2;
const CONNS: usize = 50;

type AppBody = Either<Full<Bytes>, Incoming>;

/// The service both runtimes run (as in `benches/http.rs`).
async fn app(req: Request<Incoming>) -> Result<Response<AppBody>, Infallible> {
    Ok(match req.uri().path() {
        "/echo" => Response::new(Either::Right(req.into_body())),
        _ => Response::new(Either::Left(Full::new(Bytes::from_static(
            b"Hello, world!",
        )))),
    })
}

/// A server on one runtime, stopped on drop.
enum Server {
    Quell {
        _rt: quell_executor::Runtime,
        stop: CancelToken,
    },
    Tokio {
        _rt: tokio::runtime::Runtime,
    },
}

fn start(side: &str) -> (Server, SocketAddr) {
    match side {
        "quell" => {
            let mut b = quell_executor::runtime::Builder::new();
            b.worker_threads(WORKERS);
            if let Ok(v) = std::env::var("QH_SPIN") {
                b.spin_before_park(v.parse().unwrap());
            }
            let rt = b.build().expect("quell runtime");
            let stop = CancelToken::new();
            let addr = rt.block_on(async {
                let l = quell_io_driver::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let addr = l.local_addr().unwrap();
                drop(
                    SpawnBuilder::new()
                        .token(stop.clone())
                        .spawn(quell_hyper::serve(l, hyper::service::service_fn(app))),
                );
                addr
            });
            (Server::Quell { _rt: rt, stop }, addr)
        }
        "tokio" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .enable_all()
                .build()
                .expect("tokio runtime");
            let std_l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            std_l.set_nonblocking(true).unwrap();
            let addr = std_l.local_addr().unwrap();
            rt.spawn(async move {
                use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
                let l = tokio::net::TcpListener::from_std(std_l).unwrap();
                let mut http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                http.http1().timer(TokioTimer::new());
                http.http2().timer(TokioTimer::new());
                let http = std::sync::Arc::new(http);
                loop {
                    let Ok((s, _)) = l.accept().await else {
                        continue;
                    };
                    let _ = s.set_nodelay(true);
                    let http = http.clone();
                    tokio::spawn(async move {
                        let _ = http
                            .serve_connection_with_upgrades(
                                TokioIo::new(s),
                                hyper::service::service_fn(app),
                            )
                            .await;
                    });
                }
            });
            (Server::Tokio { _rt: rt }, addr)
        }
        other => panic!("side {other:?}: quell or tokio"),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Server::Quell { stop, .. } = self {
            stop.cancel(Cause::explicit("count run over"));
        }
    }
}

/// One keep-alive connection of the client.
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

/// The client's own syscalls (to subtract from `strace -c -f`).
#[derive(Default)]
struct ClientCalls {
    writes: u64,
    reads: u64,
}

impl Conn {
    /// Reads one response: the head, then a `content-length` body (what
    /// hyper sends for both routes: the echo's request body has an exact
    /// length).
    fn read_response(&mut self, calls: &mut ClientCalls) {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).expect("ascii head");
                assert!(head.starts_with("HTTP/1.1 200"), "response: {head}");
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .expect("content-length");
                if self.buf.len() >= end + 4 + len {
                    self.buf.drain(..end + 4 + len);
                    return;
                }
            }
            let k = self.s.read(&mut chunk).expect("read");
            calls.reads += 1;
            assert!(k > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..k]);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    // Without arguments (`cargo test --benches`, `cargo bench`): a smoke
    // run of both sides and routes.
    let runs: Vec<(String, String, usize)> = match args.as_slice() {
        [side, route, rounds] => {
            vec![(side.clone(), route.clone(), rounds.parse().expect("rounds"))]
        }
        [] => ["quell", "tokio"]
            .iter()
            .flat_map(|s| ["hello", "echo"].map(|r| (s.to_string(), r.to_string(), 4)))
            .collect(),
        _ => panic!("usage: http_count quell|tokio hello|echo ROUNDS"),
    };
    for (side, route, rounds) in runs {
        let request: Vec<u8> = match route.as_str() {
            "hello" => b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n".to_vec(),
            "echo" => {
                let mut r = b"POST /echo HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\nContent-Length: 1024\r\n\r\n".to_vec();
                r.extend_from_slice(&[b'x'; 1024]);
                r
            }
            other => panic!("route {other:?}: hello or echo"),
        };
        let (server, addr) = start(&side);
        let mut conns: Vec<Conn> = (0..CONNS)
            .map(|_| {
                let s = TcpStream::connect(addr).expect("connect");
                s.set_nodelay(true).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                Conn { s, buf: Vec::new() }
            })
            .collect();
        let mut calls = ClientCalls::default();
        for _ in 0..rounds {
            for c in &mut conns {
                c.s.write_all(&request).expect("write");
                calls.writes += 1;
            }
            for c in &mut conns {
                c.read_response(&mut calls);
            }
        }
        drop(conns);
        drop(server);
        println!(
            "{side} {route}: {} requests on {CONNS} connections; client made {} writes, {} reads, {CONNS} connects",
            rounds * CONNS,
            calls.writes,
            calls.reads
        );
    }
}
