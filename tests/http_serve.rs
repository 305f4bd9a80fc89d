//! quell-hyper's server driver on real loopback sockets, with hyper
//! clients (HTTP/1 and h2c): routes, a client that goes away mid-request
//! (the request scope is cancelled and the handler's sub-tasks stop), and
//! a per-request deadline while the client trickles the body.
//!
//! The only timers are hang bounds (`support::HANG`) and the deadline
//! under test; no assertion is about how long anything took.

mod support;

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Frame, Incoming};
use quell::cancel::{CancelToken, CancellableExt, Cause, CauseKind};
use quell::task::SpawnBuilder;
use quell_hyper::client::{self, Client, Connector};
use quell_hyper::ServeReport;
use support::{recv, HANG};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = BoxBody<Bytes, BoxError>;

fn full(s: impl Into<Bytes>) -> Body {
    Full::new(s.into()).map_err(|e| match e {}).boxed()
}

fn status(code: StatusCode, s: String) -> Response<Body> {
    let mut r = Response::new(full(s));
    *r.status_mut() = code;
    r
}

#[derive(Clone, Copy, Debug)]
enum Proto {
    H1,
    H2c,
}

fn client<B>(proto: Proto) -> Client<B>
where
    B: hyper::body::Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut b = client::builder();
    if let Proto::H2c = proto {
        b.http2_only(true);
    }
    b.build(Connector::new())
}

/// A running server: its address, the token that stops it, the task.
struct Running {
    addr: SocketAddr,
    stop: CancelToken,
    task: quell::JoinHandle<std::io::Result<ServeReport>>,
}

impl Running {
    async fn stop(self) -> ServeReport {
        self.stop.cancel(Cause::explicit("test over"));
        self.task.await.unwrap().unwrap()
    }
}

async fn start<S>(builder: quell_hyper::Builder, service: S) -> Running
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let listener = quell::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancelToken::new();
    let task = SpawnBuilder::new()
        .name("server")
        .token(stop.clone())
        .spawn(builder.serve(listener, service));
    Running { addr, stop, task }
}

async fn routes(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    Ok(match req.uri().path() {
        "/echo" => Response::new(req.into_body().map_err(BoxError::from).boxed()),
        _ => Response::new(full("hello")),
    })
}

#[test]
fn hello_and_streamed_echo_over_h1_and_h2c() {
    let rt = quell::Runtime::new().unwrap();
    rt.block_on(async {
        let server = start(
            quell_hyper::Builder::new(),
            hyper::service::service_fn(routes),
        )
        .await;
        for proto in [Proto::H1, Proto::H2c] {
            let c = client::<Full<Bytes>>(proto);
            let resp = c
                .get(format!("http://{}/", server.addr).parse().unwrap())
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            let want = match proto {
                Proto::H1 => http::Version::HTTP_11,
                Proto::H2c => http::Version::HTTP_2,
            };
            assert_eq!(resp.version(), want, "{proto:?}");
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&body[..], b"hello");

            let payload: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
            let req = Request::post(format!("http://{}/echo", server.addr))
                .body(Full::new(Bytes::from(payload.clone())))
                .unwrap();
            let resp = c.request(req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body.len(), payload.len(), "{proto:?}");
            assert!(body[..] == payload[..], "{proto:?}: echo differs");
        }
        let report = server.stop().await;
        assert!(report.connections >= 2, "{report}");
    });
}

/// The handler spawns a sub-task (the "work") and waits for it; the test
/// is told (`started`) once both run, then the client goes away. The
/// sub-task must observe the request scope's cancellation with the
/// "request dropped" cause.
fn disconnect_cancels_subtasks(proto: Proto) {
    let rt = quell::Runtime::new().unwrap();
    let (started_tx, started) = mpsc::channel::<()>();
    let (seen_tx, seen) = mpsc::channel::<Option<String>>();
    let service = hyper::service::service_fn(move |_req: Request<Incoming>| {
        let started_tx = started_tx.clone();
        let seen_tx = seen_tx.clone();
        async move {
            let work = quell::spawn(async move {
                let sleep = quell::time::sleep(Duration::from_secs(3600));
                let err = sleep
                    .await
                    .expect_err("the sleep ends only by cancellation");
                let _ = seen_tx.send(err.cause().message().map(str::to_owned));
            });
            started_tx.send(()).unwrap();
            let _ = work.await;
            Ok::<_, Infallible>(Response::new(full("unreachable")))
        }
    });
    rt.block_on(async {
        let server = start(quell_hyper::Builder::new(), service).await;
        match proto {
            Proto::H1 => {
                let addr = server.addr;
                // A raw socket: send the request, wait for the handler to
                // start, close.
                let s = quell::task::spawn_blocking(move || {
                    let mut s = std::net::TcpStream::connect(addr).unwrap();
                    s.write_all(b"GET /work HTTP/1.1\r\nhost: t\r\n\r\n")
                        .unwrap();
                    s
                })
                .await
                .unwrap();
                let started = quell::task::spawn_blocking(move || recv(&started)).await;
                started.unwrap();
                drop(s);
            }
            Proto::H2c => {
                let c = client::<Full<Bytes>>(Proto::H2c);
                let uri: http::Uri = format!("http://{}/work", server.addr).parse().unwrap();
                let req = quell::spawn(async move {
                    let _keep = &c;
                    c.get(uri).await.map(drop)
                });
                quell::task::spawn_blocking(move || recv(&started))
                    .await
                    .unwrap();
                // Dropping the response future resets the stream.
                req.abort();
                assert!(req.await.unwrap_err().is_aborted());
            }
        }
        let seen = quell::task::spawn_blocking(move || seen.recv_timeout(HANG))
            .await
            .unwrap()
            .expect("the handler's sub-task was not cancelled: hang");
        assert_eq!(
            seen.as_deref(),
            Some("request dropped before it finished (client went away)"),
            "{proto:?}"
        );
        server.stop().await;
    });
}

#[test]
fn h1_client_disconnect_cancels_the_handlers_subtasks() {
    disconnect_cancels_subtasks(Proto::H1);
}

#[test]
fn h2c_stream_reset_cancels_the_handlers_subtasks() {
    disconnect_cancels_subtasks(Proto::H2c);
}

/// A request body that sends 3 of its 100 bytes, then nothing.
struct Trickle {
    sent: bool,
}

impl hyper::body::Body for Trickle {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.sent {
            // Never woken: the rest of the body never comes.
            return Poll::Pending;
        }
        self.sent = true;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"abc")))))
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(100)
    }
}

/// The handler reads the whole body; the request's deadline (300 ms)
/// passes while the client trickles it. The handler's body read is a
/// cancel point (`cancellable`), so it answers 503 with the deadline as
/// the cause, and the client gets that answer with its body still unsent.
fn deadline_answers_while_body_trickles(proto: Proto) {
    let rt = quell::Runtime::new().unwrap();
    let service = hyper::service::service_fn(|req: Request<Incoming>| async move {
        Ok::<_, Infallible>(match req.into_body().collect().cancellable().await {
            Ok(Ok(b)) => status(StatusCode::OK, format!("{} bytes", b.to_bytes().len())),
            Ok(Err(e)) => status(StatusCode::BAD_REQUEST, e.to_string()),
            Err(c) => {
                assert_eq!(c.cause().kind(), &CauseKind::DeadlineExceeded);
                status(StatusCode::SERVICE_UNAVAILABLE, c.to_string())
            }
        })
    });
    rt.block_on(async {
        let builder = quell_hyper::Builder::new().request_timeout(Duration::from_millis(300));
        let server = start(builder, service).await;
        let (code, body) = match proto {
            Proto::H1 => {
                let addr = server.addr;
                quell::task::spawn_blocking(move || {
                    let mut s = std::net::TcpStream::connect(addr).unwrap();
                    s.set_read_timeout(Some(HANG)).unwrap();
                    s.write_all(
                        b"POST /upload HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\nabc",
                    )
                    .unwrap();
                    let mut reply = Vec::new();
                    let mut buf = [0; 1024];
                    // hyper answers, then closes: the body was not read.
                    loop {
                        match s.read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => reply.extend_from_slice(&buf[..n]),
                            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                            Err(e) => panic!("reading the reply (hang bound {HANG:?}): {e}"),
                        }
                    }
                    let text = String::from_utf8_lossy(&reply).into_owned();
                    let code = text
                        .split_whitespace()
                        .nth(1)
                        .and_then(|c| c.parse::<u16>().ok())
                        .unwrap_or_else(|| panic!("no status line in {text:?}"));
                    (code, text)
                })
                .await
                .unwrap()
            }
            Proto::H2c => {
                let c = client::<Trickle>(Proto::H2c);
                let req = Request::post(format!("http://{}/upload", server.addr))
                    .header("content-length", "100")
                    .body(Trickle { sent: false })
                    .unwrap();
                let resp = quell::time::timeout(HANG, c.request(req))
                    .await
                    .expect("no answer: hang")
                    .unwrap();
                let code = resp.status().as_u16();
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                (code, String::from_utf8_lossy(&body).into_owned())
            }
        };
        assert_eq!(code, 503, "{proto:?}: {body}");
        assert!(body.contains("deadline exceeded"), "{proto:?}: {body}");
        server.stop().await;
    });
}

#[test]
fn h1_request_deadline_answers_while_the_body_trickles() {
    deadline_answers_while_body_trickles(Proto::H1);
}

#[test]
fn h2c_request_deadline_answers_while_the_body_trickles() {
    deadline_answers_while_body_trickles(Proto::H2c);
}

/// The driver serves a Unix-domain listener too; the client side is
/// hyper's own connection API over `QuellIo<UnixStream>`.
#[test]
fn unix_socket_h1() {
    let rt = quell::Runtime::new().unwrap();
    let dir = std::env::temp_dir().join(format!("quell-hyper-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("http.sock");
    let _ = std::fs::remove_file(&path);
    rt.block_on(async {
        let listener = quell::net::UnixListener::bind(&path).unwrap();
        let stop = CancelToken::new();
        let server = SpawnBuilder::new()
            .token(stop.clone())
            .spawn(quell_hyper::serve(
                listener,
                hyper::service::service_fn(routes),
            ));
        let io =
            quell_hyper::rt::QuellIo::new(quell::net::UnixStream::connect(&path).await.unwrap());
        let (mut send, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(io)
            .await
            .unwrap();
        let conn = quell::spawn(conn);
        let resp = send
            .send_request(
                Request::get("/")
                    .header("host", "unix")
                    .body(Full::default())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"hello");
        drop(send);
        conn.await.unwrap().unwrap();
        stop.cancel(Cause::explicit("test over"));
        let report = server.await.unwrap().unwrap();
        assert_eq!(report.connections, 1);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Drain → cancel → abort inside the driver: a handler that ignores both
/// the drain and the cancel (it awaits something quell does not own) is
/// dropped `cancel_grace` after the cancel, and the report names its
/// connection as cancelled and as aborted; the client sees the connection
/// close without an answer.
#[test]
fn a_handler_that_ignores_the_cancel_is_aborted_after_the_cancel_grace() {
    let rt = quell::Runtime::new().unwrap();
    let (started_tx, started) = mpsc::channel::<()>();
    let dropped = support::DropCount::new();
    let tag_source = dropped.clone();
    let service = hyper::service::service_fn(move |_req: Request<Incoming>| {
        let started_tx = started_tx.clone();
        let tag = tag_source.tag();
        async move {
            let _tag = tag; // dropped with the handler's future
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
            Ok::<_, Infallible>(Response::new(full("unreachable")))
        }
    });
    rt.block_on(async {
        let builder = quell_hyper::Builder::new()
            .drain_grace(Duration::from_millis(50))
            .cancel_grace(Duration::from_millis(100));
        let server = start(builder, service).await;
        let addr = server.addr;
        let client = quell::task::spawn_blocking(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(HANG)).unwrap();
            s.write_all(b"GET /stuck HTTP/1.1\r\nhost: t\r\n\r\n")
                .unwrap();
            let local = s.local_addr().unwrap();
            let mut reply = Vec::new();
            // EOF or a reset once the driver drops the connection.
            let _ = s.read_to_end(&mut reply);
            (local, reply)
        });
        quell::task::spawn_blocking(move || recv(&started))
            .await
            .unwrap();
        server.stop.drain(Cause::explicit("test drains"));
        let report = server.task.await.unwrap().unwrap();
        let (local, reply) = client.await.unwrap();
        assert!(reply.is_empty(), "{}", String::from_utf8_lossy(&reply));
        assert_eq!(report.cancelled, vec![local.to_string()], "{report}");
        assert_eq!(report.aborted, vec![local.to_string()], "{report}");
        assert_eq!(dropped.get(), 1, "the handler's future was dropped");
    });
}

/// The client honours the caller's deadline: the dial (a host name,
/// resolved off the workers) succeeds, the response never comes, and the
/// wait made a cancel point with `cancellable` answers `Cancelled` with
/// the deadline as the cause.
#[test]
fn the_client_honours_the_callers_deadline() {
    let rt = quell::Runtime::new().unwrap();
    let service = hyper::service::service_fn(|_req: Request<Incoming>| async {
        // Answers only when cancelled (the server stops at the end).
        let c = std::future::pending::<()>()
            .cancellable()
            .await
            .unwrap_err();
        Ok::<_, Infallible>(status(StatusCode::SERVICE_UNAVAILABLE, c.to_string()))
    });
    rt.block_on(async {
        let server = start(quell_hyper::Builder::new(), service).await;
        let c = client::<Full<Bytes>>(Proto::H1);
        let uri: http::Uri = format!("http://localhost:{}/slow", server.addr.port())
            .parse()
            .unwrap();
        let r = quell::cancel::with_timeout(Duration::from_millis(200), async {
            c.get(uri).cancellable().await
        })
        .await;
        let cancelled = r
            .expect("the cancellable wait answers before the cut-off")
            .expect_err("no response can have come");
        assert_eq!(cancelled.cause().kind(), &CauseKind::DeadlineExceeded);
        let report = server.stop().await;
        assert_eq!(report.connections, 1, "{report}");
    });
}
