//! hyper on quell (quell-hyper) against hyper on tokio (hyper-util's
//! tokio glue), head to head: the same hyper version, the same service
//! code, the same hyper-util connection builder (`auto`: HTTP/1 and h2c),
//! 2 worker threads each, loaded by `wrk` (a separate process) with 50
//! connections.
//!
//! Rows: `hello` (GET /, a 13-byte body) and `echo` (POST /echo with a
//! 1 KiB body, streamed back). The runs alternate — quell, tokio, tokio,
//! quell, … — so drift on a shared machine hits both alike; each cell is
//! the median of the rounds, with every run printed as well.
//!
//! Then the drain: 1000 idle keep-alive connections (each has made one
//! request) to a quell-hyper server, the server's scope told to drain,
//! and the time until `serve` returned (every connection closed, which
//! each client socket confirms by reading EOF).
//!
//! ```text
//! bash ci/bench_http.sh            # installs wrk if missing, then this
//! cargo bench -p quell-hyper --bench http
//! QH_SECS=10 QH_ROUNDS=5 cargo bench -p quell-hyper --bench http
//! QH_SPIN=1 cargo bench -p quell-hyper --bench http   # quell's spin_before_park
//! ```

#[path = "common/servers.rs"]
mod servers;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use quell_cancel::{CancelToken, Cause};
use quell_executor::task::SpawnBuilder;
use servers::{app, Rt, Server, WORKERS};

const CONNECTIONS: usize = 50;
const WRK_THREADS: usize = 2;
const IDLE_CONNECTIONS: usize = 1000;

#[derive(Clone, Copy, Debug)]
enum Route {
    Hello,
    Echo,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::Hello => "hello GET",
            Route::Echo => "echo POST 1 KiB",
        }
    }
}

/// One wrk run's figures.
#[derive(Clone, Copy, Debug)]
struct Run {
    rps: f64,
    /// Server CPU time (this process: user + system, every thread; wrk is
    /// a child, not counted) per request: the figure a loaded machine
    /// disturbs least.
    cpu_us_per_req: f64,
    p50_us: f64,
    p99_us: f64,
}

/// A duration in wrk's notation (`183.00us`, `1.23ms`, `2.00s`) in µs.
fn wrk_micros(s: &str) -> Option<f64> {
    let (num, mul) = if let Some(n) = s.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1e6)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|v| v * mul)
}

fn parse_wrk(out: &str) -> Option<Run> {
    let mut rps = None;
    let (mut p50, mut p99) = (None, None);
    for line in out.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(v)) => rps = v.parse().ok(),
            (Some("50%"), Some(v)) => p50 = wrk_micros(v),
            (Some("99%"), Some(v)) => p99 = wrk_micros(v),
            _ => {}
        }
    }
    Some(Run {
        rps: rps?,
        cpu_us_per_req: 0.0,
        p50_us: p50?,
        p99_us: p99?,
    })
}

fn wrk(addr: SocketAddr, route: Route, secs: u64, lua: &std::path::Path) -> Run {
    let mut cmd = Command::new("wrk");
    cmd.arg(format!("-t{WRK_THREADS}"))
        .arg(format!("-c{CONNECTIONS}"))
        .arg(format!("-d{secs}s"))
        .arg("--latency");
    let url = match route {
        Route::Hello => format!("http://{addr}/"),
        Route::Echo => {
            cmd.arg("-s").arg(lua);
            format!("http://{addr}/echo")
        }
    };
    let out = cmd.arg(url).output().unwrap_or_else(|e| {
        panic!("running wrk: {e} (install it: apt-get install -y wrk, or bash ci/bench_http.sh)")
    });
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        eprintln!("wrk reported errors:\n{text}");
    }
    parse_wrk(&text).unwrap_or_else(|| panic!("could not parse wrk's output:\n{text}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// CPU time (user + system, all threads) this process has used.
fn cpu_time() -> Duration {
    // SAFETY: `getrusage` writes a `rusage` into the zeroed value we own.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Opens `n` keep-alive connections to a quell-hyper server, one request
/// each (so they are idle, not new), drains the server and returns how
/// long `serve` took to return, and the CPU time the process spent
/// meanwhile.
fn drain_idle(n: usize) -> (Duration, Duration) {
    let rt = quell_executor::runtime::Builder::new()
        .worker_threads(WORKERS)
        .build()
        .expect("quell runtime");
    let stop = CancelToken::new();
    let (addr, server) = rt.block_on(async {
        let l = quell_io_driver::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = l.local_addr().unwrap();
        let server = SpawnBuilder::new()
            .token(stop.clone())
            .spawn(quell_hyper::serve(l, hyper::service::service_fn(app)));
        (addr, server)
    });
    let mut clients = Vec::with_capacity(n);
    let mut buf = [0u8; 512];
    for _ in 0..n {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\nhost: bench\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        while !got.ends_with(b"Hello, world!") {
            let k = s.read(&mut buf).expect("response");
            assert!(k > 0, "server closed before answering");
            got.extend_from_slice(&buf[..k]);
        }
        clients.push(s);
    }
    let (start, cpu) = (Instant::now(), cpu_time());
    stop.drain(Cause::explicit("drain"));
    let report = rt.block_on(server).unwrap().expect("serve");
    let took = (start.elapsed(), cpu_time() - cpu);
    assert!(report.is_clean(), "{report}");
    for mut s in clients {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        assert_eq!(s.read(&mut buf).expect("EOF"), 0, "connection not closed");
    }
    rt.shutdown_graceful(Duration::from_secs(2));
    took
}

fn main() {
    // `cargo bench` passes `--bench`; without it (`cargo test --benches`)
    // this is a smoke run: one short round, a small drain, and the wrk
    // rows skipped if wrk is not installed. A filter argument selects rows.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let selected =
        |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let have_wrk = Command::new("wrk").arg("--version").output().is_ok();
    let secs: u64 = std::env::var("QH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke { 1 } else { 5 });
    let rounds: usize = std::env::var("QH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke { 1 } else { 3 });
    // QH_ONLY=quell|tokio: one runtime only (e.g. under `perf stat`).
    let only = std::env::var("QH_ONLY").ok().as_deref().and_then(Rt::parse);
    let (idle, drains) = if smoke {
        (100, 1)
    } else {
        (IDLE_CONNECTIONS, 5)
    };
    if !have_wrk {
        assert!(
            smoke,
            "wrk is not installed: apt-get install -y wrk, or bash ci/bench_http.sh"
        );
        println!("wrk is not installed: skipping the hello and echo rows (smoke run)");
    }

    let lua = std::env::temp_dir().join(format!("quell-hyper-echo-{}.lua", std::process::id()));
    std::fs::write(
        &lua,
        "wrk.method = \"POST\"\nwrk.body = string.rep(\"x\", 1024)\n\
         wrk.headers[\"Content-Type\"] = \"application/octet-stream\"\n",
    )
    .expect("write the wrk script");

    println!(
        "hyper on quell-hyper vs hyper-util's tokio glue: {WORKERS} workers each, wrk -t{WRK_THREADS} -c{CONNECTIONS} -d{secs}s, {rounds} rounds; load average at start {}",
        load_average()
    );
    let mut table = Vec::new();
    for route in [Route::Hello, Route::Echo] {
        if !have_wrk || !selected(route.name()) {
            continue;
        }
        let mut runs: Vec<(Rt, Run)> = Vec::new();
        for round in 0..rounds {
            let order = if round % 2 == 0 {
                [Rt::Quell, Rt::Tokio]
            } else {
                [Rt::Tokio, Rt::Quell]
            };
            for which in order {
                if only.is_some_and(|o| o != which) {
                    continue;
                }
                let (server, addr) = Server::start(which);
                let cpu = cpu_time();
                let mut run = wrk(addr, route, secs, &lua);
                run.cpu_us_per_req =
                    (cpu_time() - cpu).as_secs_f64() * 1e6 / (run.rps * secs as f64);
                drop(server);
                println!(
                    "  {:<16} round {round} {:<5} {:>9.0} req/s  p50 {:>7.0} µs  p99 {:>7.0} µs  CPU {:>5.1} µs/req  (load {})",
                    route.name(),
                    format!("{which:?}"),
                    run.rps,
                    run.p50_us,
                    run.p99_us,
                    run.cpu_us_per_req,
                    load_average()
                );
                runs.push((which, run));
            }
        }
        // One side only (QH_ONLY): no pairs to tabulate.
        if only.is_some() {
            continue;
        }
        let pick = |rt: Rt, f: fn(&Run) -> f64| {
            median(
                runs.iter()
                    .filter(|(w, _)| *w == rt)
                    .map(|(_, r)| f(r))
                    .collect(),
            )
        };
        table.push((
            route,
            [Rt::Quell, Rt::Tokio].map(|rt| {
                (
                    pick(rt, |r| r.rps),
                    pick(rt, |r| r.p50_us),
                    pick(rt, |r| r.p99_us),
                    pick(rt, |r| r.cpu_us_per_req),
                )
            }),
        ));
    }
    let _ = std::fs::remove_file(&lua);

    if !table.is_empty() {
        println!();
        println!("| route | quell req/s | tokio req/s | ratio | quell p50 / p99 (µs) | tokio p50 / p99 (µs) | CPU µs/req quell / tokio |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for (route, [(qr, q50, q99, qc), (tr, t50, t99, tc)]) in &table {
            println!(
                "| {} | {qr:.0} | {tr:.0} | {:.2}× | {q50:.0} / {q99:.0} | {t50:.0} / {t99:.0} | {qc:.1} / {tc:.1} |",
                route.name(),
                qr / tr
            );
        }
    }

    if selected("drain") {
        let runs: Vec<(Duration, Duration)> = (0..drains).map(|_| drain_idle(idle)).collect();
        let ms = |d: &Duration| d.as_secs_f64() * 1e3;
        let wall: Vec<f64> = runs.iter().map(|(w, _)| ms(w)).collect();
        let cpu: Vec<f64> = runs.iter().map(|(_, c)| ms(c)).collect();
        let max = wall.iter().cloned().fold(0.0, f64::max);
        println!();
        println!(
            "drain of {idle} idle keep-alive connections (quell-hyper): median {:.1} ms, max {max:.1} ms wall, median {:.1} ms CPU, over {} runs (load {})",
            median(wall.clone()),
            median(cpu),
            runs.len(),
            load_average()
        );
    }
}
