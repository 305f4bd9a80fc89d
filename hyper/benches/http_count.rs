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
//! the searching workers' spin costs); `QH_METRICS=1` prints the quell
//! runtime's polls, parks, steals and driver turns per request;
//! docs/benchmarks.md has the figures.

#[path = "common/servers.rs"]
mod servers;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use servers::{Rt, Server};

const CONNS: usize = 50;

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
        let which = Rt::parse(&side).unwrap_or_else(|| panic!("side {side:?}: quell or tokio"));
        let (server, addr) = Server::start(which);
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
        // QH_METRICS=1: the quell runtime's scheduler counters per request
        // (how often a worker ran dry and parked; how many driver turns).
        if std::env::var_os("QH_METRICS").is_some() {
            if let Some(m) = server.quell_metrics() {
                let per = |n: u64| n as f64 / (rounds * CONNS) as f64;
                let sum = |f: fn(&quell_executor::metrics::WorkerMetrics) -> u64| {
                    m.worker.iter().map(f).sum::<u64>()
                };
                println!(
                    "quell per request: polls {:.3}, parks {:.3}, steals {:.3}, driver turns {:.3}, events {:.3}",
                    per(sum(|w| w.polls)),
                    per(sum(|w| w.parks)),
                    per(sum(|w| w.steals)),
                    per(m.io_driver_turns),
                    per(m.io_events)
                );
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
