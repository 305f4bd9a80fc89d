//! The two HTTP servers the quell-hyper benches run (`http`: wrk against
//! them; `http_count`: a fixed request count, to count instructions and
//! syscalls): the same service, the same hyper-util `auto` builder with a
//! timer on both sides, `TCP_NODELAY`, `WORKERS` workers.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use http::{Request, Response};
use http_body_util::{Either, Full};
use hyper::body::{Bytes, Incoming};
use quell_cancel::{CancelToken, Cause};
use quell_executor::task::SpawnBuilder;

/// Workers of each runtime.
pub const WORKERS: usize = 2;

/// The response body of [`app`].
pub type AppBody = Either<Full<Bytes>, Incoming>;

/// The service both runtimes run: plain hyper code, no runtime in it.
pub async fn app(req: Request<Incoming>) -> Result<Response<AppBody>, Infallible> {
    Ok(match req.uri().path() {
        "/echo" => Response::new(Either::Right(req.into_body())),
        _ => Response::new(Either::Left(Full::new(Bytes::from_static(
            b"Hello, world!",
        )))),
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
/// Which runtime serves.
pub enum Rt {
    /// hyper on quell (quell-hyper).
    Quell,
    /// hyper on tokio (hyper-util's tokio glue).
    Tokio,
}

impl Rt {
    /// `"quell"` or `"tokio"`.
    pub fn parse(s: &str) -> Option<Rt> {
        match s {
            "quell" => Some(Rt::Quell),
            "tokio" => Some(Rt::Tokio),
            _ => None,
        }
    }
}

/// A server on one runtime, stopped (and its runtime shut down) on drop.
pub enum Server {
    /// hyper on quell.
    Quell {
        rt: Option<quell_executor::Runtime>,
        stop: CancelToken,
    },
    /// hyper on tokio.
    Tokio { rt: Option<tokio::runtime::Runtime> },
}

impl Server {
    /// Starts the server on a fresh runtime, listening on a loopback
    /// port; returns it and its address.
    pub fn start(which: Rt) -> (Server, SocketAddr) {
        match which {
            Rt::Quell => {
                let mut b = quell_executor::runtime::Builder::new();
                b.worker_threads(WORKERS);
                // QH_SPIN=N: the quell runtime's `spin_before_park` (to
                // see what the searching spin costs under wrk).
                if let Ok(v) = std::env::var("QH_SPIN") {
                    b.spin_before_park(v.parse().expect("QH_SPIN: a number"));
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
                (Server::Quell { rt: Some(rt), stop }, addr)
            }
            Rt::Tokio => {
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
                    let mut http =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
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
                (Server::Tokio { rt: Some(rt) }, addr)
            }
        }
    }
}

impl Server {
    /// The quell runtime's metrics (`None` for tokio).
    #[allow(dead_code)] // used by http_count only
    pub fn quell_metrics(&self) -> Option<quell_executor::metrics::RuntimeMetrics> {
        match self {
            Server::Quell { rt: Some(rt), .. } => Some(rt.handle().metrics()),
            _ => None,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        match self {
            Server::Quell { rt, stop } => {
                stop.cancel(Cause::explicit("bench run over"));
                if let Some(rt) = rt.take() {
                    rt.shutdown_graceful(Duration::from_secs(2));
                }
            }
            Server::Tokio { rt } => {
                if let Some(rt) = rt.take() {
                    rt.shutdown_timeout(Duration::from_secs(2));
                }
            }
        }
    }
}
