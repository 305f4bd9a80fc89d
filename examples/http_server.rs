//! A small HTTP service on hyper + quell (quell-hyper), with a graceful
//! shutdown that drains before it cancels.
//!
//! ```text
//! cargo run --release --example http_server -- --addr 127.0.0.1:8080
//! curl localhost:8080/                      # hello
//! curl --data-binary @file localhost:8080/echo   # the body, streamed back
//! curl 'localhost:8080/work?ms=300'         # answers after 300 ms
//! curl 'localhost:8080/downstream?ms=300'   # calls /work?ms=300 on the downstream
//! curl localhost:8080/debug/tasks           # the task dump (text)
//! curl 'localhost:8080/debug/tasks?dot'     # the cancel tree as Graphviz DOT
//! curl localhost:8080/debug/metrics         # the metrics snapshot (Prometheus text)
//! kill -QUIT <pid>                          # the task dump on stderr; carries on
//! kill -TERM <pid>                          # drain, then exit 0
//! ```
//!
//! Flags: `--addr ADDR` (default `127.0.0.1:8080`; port 0 picks one),
//! `--workers N` (default 2), `--grace-ms MS` (drain grace, and again the
//! cancel grace; default 5000), `--deadline-ms MS` (every request's
//! deadline, the downstream call's included; default 10000),
//! `--downstream URL` (default: this server itself), `--leak-ms MS` (the
//! leak watchdog: report on stderr every task still alive MS after its
//! cancel; default off), `--histograms` (record the metrics histograms:
//! poll time, schedule and cancel latency, shown by `/debug/metrics`).
//!
//! `/debug/tasks` and `/debug/metrics` are what docs/observability.md
//! explains; SIGQUIT writes the same dump to stderr without stopping the
//! server (so Ctrl-\ no longer kills it: use SIGTERM or SIGINT).
//!
//! The first line on stdout is `listening on ADDR`. On SIGTERM (or
//! SIGINT) the server drains: it stops accepting (new connections are
//! refused), closes idle keep-alive connections at once and lets in-flight
//! requests finish. Requests still running `--grace-ms` later are
//! cancelled: `/work` sees `Cancelled` and answers 503. Connections still
//! open a further `--grace-ms` later are dropped. What had to be cancelled
//! or forced goes to stderr, and the process exits 0.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response, StatusCode, Uri};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use quell::cancel::{with_timeout, CancellableExt};
use quell::runtime::ShutdownPolicy;
use quell::signal::{self, SignalKind};
use quell::task::SpawnBuilder;
use quell_hyper::client::{self, Client};

type BoxError = Box<dyn StdError + Send + Sync>;
type Body = BoxBody<Bytes, BoxError>;

struct Config {
    addr: String,
    workers: usize,
    grace: Duration,
    deadline: Duration,
    downstream: Option<String>,
    leak: Option<Duration>,
    histograms: bool,
}

fn parse_args() -> Result<Config, String> {
    let mut c = Config {
        addr: "127.0.0.1:8080".into(),
        workers: 2,
        grace: Duration::from_millis(5000),
        deadline: Duration::from_millis(10_000),
        downstream: None,
        leak: None,
        histograms: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let ms = |v: String| -> Result<Duration, String> {
            v.parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|e| format!("{flag}: {e}"))
        };
        match flag.as_str() {
            "--addr" => c.addr = value()?,
            "--workers" => {
                c.workers = value()?.parse().map_err(|e| format!("--workers: {e}"))?;
                if c.workers == 0 {
                    return Err("--workers must be at least 1".into());
                }
            }
            "--grace-ms" => c.grace = ms(value()?)?,
            "--deadline-ms" => c.deadline = ms(value()?)?,
            "--downstream" => c.downstream = Some(value()?),
            "--leak-ms" => c.leak = Some(ms(value()?)?),
            "--histograms" => c.histograms = true,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(c)
}

/// What every request handler shares.
struct App {
    /// The runtime, for the debug endpoints.
    rt: quell::Handle,
    client: Client<Empty<Bytes>>,
    downstream: String,
    deadline: Duration,
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed());
    *r.status_mut() = status;
    r
}

/// The `ms` query parameter.
fn millis(req: &Request<Incoming>) -> Option<u64> {
    req.uri()
        .query()?
        .split('&')
        .find_map(|kv| kv.strip_prefix("ms="))?
        .parse()
        .ok()
}

async fn route(app: Arc<App>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    Ok(match req.uri().path() {
        "/" => text(StatusCode::OK, "hello\n".into()),
        // Streams: each body frame goes back as it arrives.
        "/echo" => Response::new(req.into_body().map_err(BoxError::from).boxed()),
        "/work" => match millis(&req) {
            Some(ms) => {
                // Lets a client (the tests) know the handler is running.
                eprintln!("/work?ms={ms}: started");
                work(ms).await
            }
            None => text(StatusCode::BAD_REQUEST, "/work?ms=N\n".into()),
        },
        "/downstream" => match millis(&req) {
            Some(ms) => downstream(&app, ms).await,
            None => text(StatusCode::BAD_REQUEST, "/downstream?ms=N\n".into()),
        },
        "/debug/tasks" => {
            let dot = req.uri().query() == Some("dot");
            let rt = app.rt.clone();
            // On the blocking pool: a dump of many tasks takes a while,
            // and the workers keep running meanwhile.
            let dump = quell::task::spawn_blocking(move || {
                let d = rt.dump();
                if dot {
                    d.to_dot()
                } else {
                    d.to_string()
                }
            });
            match dump.await {
                Ok(body) => text(StatusCode::OK, body),
                Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
            }
        }
        "/debug/metrics" => text(StatusCode::OK, metrics_text(&app.rt.metrics())),
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    })
}

/// The metrics snapshot in Prometheus' text format: one `quell_*` line
/// per number, per-worker counters labelled by worker, the histograms as
/// quantiles when recorded.
fn metrics_text(m: &quell::metrics::RuntimeMetrics) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let mut line = |name: &str, labels: &str, v: f64| {
        let _ = writeln!(s, "quell_{name}{labels} {v}");
    };
    line("workers", "", m.workers as f64);
    line("alive_tasks", "", m.alive_tasks as f64);
    line("global_queue_depth", "", m.global_queue_depth as f64);
    line("remote_schedules_total", "", m.remote_schedules as f64);
    line("blocking_threads", "", m.blocking_threads as f64);
    line("blocking_idle_threads", "", m.blocking_idle_threads as f64);
    line("blocking_queue_depth", "", m.blocking_queue_depth as f64);
    line("io_sources", "", m.io_sources as f64);
    line("io_driver_turns_total", "", m.io_driver_turns as f64);
    line("io_events_total", "", m.io_events as f64);
    line("active_timers", "", m.active_timers as f64);
    for (i, w) in m.worker.iter().enumerate() {
        let l = format!("{{worker=\"{i}\"}}");
        line("worker_polls_total", &l, w.polls as f64);
        line("worker_parks_total", &l, w.parks as f64);
        line("worker_unparks_total", &l, w.unparks as f64);
        line("worker_steals_total", &l, w.steals as f64);
        line("worker_lifo_hits_total", &l, w.lifo_hits as f64);
        line("worker_local_schedules_total", &l, w.local_schedules as f64);
        line("worker_forced_yields_total", &l, w.forced_yields as f64);
        line("worker_busy_seconds_total", &l, w.busy.as_secs_f64());
        line("worker_local_queue_depth", &l, w.local_queue_depth as f64);
    }
    if let Some(h) = &m.histograms {
        for (name, hist) in [
            ("poll_time", &h.poll_time),
            ("schedule_latency", &h.schedule_latency),
            ("cancel_latency", &h.cancel_latency),
        ] {
            for q in [0.5, 0.9, 0.99] {
                if let Some(d) = hist.percentile(q) {
                    let l = format!("{{quantile=\"{q}\"}}");
                    line(&format!("{name}_seconds"), &l, d.as_secs_f64());
                }
            }
            line(&format!("{name}_seconds_count"), "", hist.count() as f64);
        }
    }
    s
}

/// Waits `ms`, then answers; cancelled meanwhile (the cancel phase of a
/// shutdown, or the request's deadline), answers 503 with the cause.
async fn work(ms: u64) -> Response<Body> {
    match quell::time::sleep(Duration::from_millis(ms)).await {
        Ok(()) => text(StatusCode::OK, format!("worked {ms} ms\n")),
        Err(cancelled) => {
            eprintln!("/work?ms={ms}: {cancelled}");
            text(StatusCode::SERVICE_UNAVAILABLE, format!("{cancelled}\n"))
        }
    }
}

/// `GET {downstream}/work?ms=N` under the per-request deadline.
async fn downstream(app: &App, ms: u64) -> Response<Body> {
    let uri: Uri = match format!("{}/work?ms={ms}", app.downstream).parse() {
        Ok(u) => u,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    };
    let call = async {
        // The response wait is hyper's channel: make it a cancel point.
        let resp = app.client.get(uri).cancellable().await??;
        let status = resp.status();
        let body = resp.into_body().collect().cancellable().await??.to_bytes();
        Ok::<_, BoxError>((status, body))
    };
    match with_timeout(app.deadline, call).await {
        Ok(Ok((status, body))) => text(
            status,
            format!("downstream said: {}", String::from_utf8_lossy(&body)),
        ),
        Ok(Err(e)) => text(StatusCode::BAD_GATEWAY, format!("downstream failed: {e}\n")),
        Err(cut) => text(StatusCode::GATEWAY_TIMEOUT, format!("{cut}\n")),
    }
}

fn main() {
    let config = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("http_server: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(config) {
        eprintln!("http_server: {e}");
        std::process::exit(1);
    }
}

fn run(config: Config) -> std::io::Result<()> {
    let mut builder = quell::runtime::Builder::new();
    builder
        .worker_threads(config.workers)
        // `kill -QUIT <pid>`: the task dump on stderr.
        .dump_on_signal(SignalKind::quit());
    if let Some(threshold) = config.leak {
        builder.leak_watchdog(threshold);
    }
    if config.histograms {
        builder.enable_metrics_histograms();
    }
    let rt = builder.build()?;
    // The first SIGTERM/SIGINT drains the root token (the server's scope
    // is under it); a second one cancels it.
    let root = rt.handle().root_token().clone();
    let _on_signal = signal::drain_on([SignalKind::terminate(), SignalKind::interrupt()], &root)?;
    let server = rt.block_on(async {
        let listener = quell::net::TcpListener::bind(config.addr.as_str()).await?;
        let addr = listener.local_addr()?;
        println!("listening on {addr}");
        use std::io::Write as _;
        std::io::stdout().flush()?;
        let app = Arc::new(App {
            rt: quell::Handle::current(),
            client: client::new(),
            downstream: config
                .downstream
                .unwrap_or_else(|| format!("http://{addr}")),
            deadline: config.deadline,
        });
        let service = hyper::service::service_fn(move |req| route(app.clone(), req));
        let builder = quell_hyper::Builder::new()
            .drain_grace(config.grace)
            .cancel_grace(config.grace)
            .request_timeout(config.deadline);
        Ok::<_, std::io::Error>(
            SpawnBuilder::new()
                .name("http server")
                .spawn(builder.serve(listener, service)),
        )
    })?;
    // `serve` returns once the drain (and, past the grace, the cancel) has
    // closed every connection; its report names what had to be cancelled
    // or aborted.
    match rt.block_on(server) {
        Ok(Ok(report)) => eprintln!("{report}"),
        Ok(Err(e)) => eprintln!("server failed: {e}"),
        Err(e) => eprintln!("server task: {e}"),
    }
    // Whatever else is left (client connections, stray tasks) gets the
    // same phases; the runtime's report names what it forced.
    let report = rt.shutdown_with(ShutdownPolicy::new(config.grace, config.grace));
    eprint!("{report}");
    Ok(())
}
