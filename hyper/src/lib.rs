//! hyper 1.x on quell.
//!
//! ```text
//! rt/executor.rs   QuellExecutor: hyper's Executor (HTTP/2 stream tasks, client
//!                  connection tasks) as quell tasks, in the scope they belong to
//! rt/timer.rs      QuellTimer / QuellSleep: hyper's timers on quell's wheel,
//!                  shielded (a cancelled sleep is not an elapsed one)
//! rt/io.rs         QuellIo: hyper::rt::Read (into uninitialised memory) and
//!                  Write (vectored) over TcpStream / UnixStream
//! server/          serve / Builder: a task per connection, a scope per request,
//!                  drain → cancel → abort; ServeReport
//! client.rs        Connector (tower Service<Uri>) for hyper-util's Client
//! ```
//!
//! The crate depends on quell's component crates (`quell-cancel`,
//! `quell-io-driver`, `quell-executor`), not on the `quell` facade, so the
//! facade's examples and tests can use it.
//!
//! # Example
//!
//! A server and a client on loopback; the server stops when its token
//! is cancelled.
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use hyper::body::Incoming;
//! use quell_cancel::{CancelToken, Cause};
//! use quell_hyper::{client, server};
//!
//! let rt = quell_executor::Runtime::new()?;
//! rt.block_on(async {
//!     let listener = quell_io_driver::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let stop = CancelToken::new();
//!     let hello = hyper::service::service_fn(|req: Request<Incoming>| async move {
//!         Ok::<_, Infallible>(Response::new(format!("hello, {}", req.uri().path())))
//!     });
//!     let server = quell_executor::task::SpawnBuilder::new()
//!         .token(stop.clone())
//!         .spawn(server::serve(listener, hello));
//!
//!     let client = client::new::<String>();
//!     let uri: http::Uri = format!("http://{addr}/world").parse().unwrap();
//!     let resp = client.get(uri).await.unwrap();
//!     assert_eq!(resp.status(), 200);
//!     let body = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap();
//!     assert_eq!(&body.to_bytes()[..], b"hello, /world");
//!
//!     stop.cancel(Cause::explicit("done"));
//!     server.await.unwrap()?;
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod client;
pub mod rt;
pub mod server;

pub use hyper;
pub use server::{serve, Builder, ServeReport};
