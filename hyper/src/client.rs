//! The client side: [`Connector`] for hyper-util's legacy `Client`, and
//! [`builder`] / [`new`] to make one that runs on quell.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Uri;
use hyper::body::Body;
use hyper_util::client::legacy;
use quell_io_driver::net::TcpStream;

use crate::rt::{QuellExecutor, QuellIo, QuellTimer};

/// hyper-util's pooling client over [`Connector`].
pub type Client<B> = legacy::Client<Connector, B>;

/// A `Client` builder on quell: connection tasks spawned with a
/// [`QuellExecutor`] under the token current here (so pooled connections
/// outlive the request that dialled them, and stop when this scope is
/// cancelled), hyper's timers and the pool's idle timer on quell's wheel.
///
/// Call it inside a runtime, from the scope the client should live in
/// (e.g. at start-up, not inside one request's handler).
pub fn builder() -> legacy::Builder {
    let mut b = legacy::Client::builder(
        QuellExecutor::with_token(quell_cancel::current()).name("quell-hyper client connection"),
    );
    b.timer(QuellTimer).pool_timer(QuellTimer);
    b
}

/// A client with the defaults of [`builder`] (HTTP/1; for HTTP/2 prior
/// knowledge, `builder().http2_only(true).build(Connector::new())`).
pub fn new<B>() -> Client<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
{
    builder().build(Connector::new())
}

/// Dials `http://` URIs over quell's [`TcpStream`] (a `tower`
/// `Service<Uri>`, which is what hyper-util's client takes).
///
/// Host names are resolved off the workers, on the runtime's blocking
/// pool ([`lookup_host`](quell_io_driver::net::lookup_host)); IP literals
/// in place. The dial runs in the caller's scope: a deadline or cancel of
/// the request that is dialling (a
/// [`with_timeout`](quell_io_driver::time::with_timeout) around
/// `client.request(..)`) stops the lookup and the connect at once, and
/// the request fails with a connect error whose source is the
/// [`Cancelled`](quell_cancel::Cancelled) (`io::Error`). Waiting for the
/// response is hyper's (a channel from the connection task, not a quell
/// await point): make it one with
/// [`CancellableExt::cancellable`](quell_cancel::CancellableExt::cancellable),
/// as in `client.request(req).cancellable().await`.
///
/// The connections it makes are [`QuellIo::new`] (cancel-aware): they run
/// in the client's connection tasks, and end when the client's scope is
/// cancelled. `TCP_NODELAY` is on by default.
#[derive(Clone, Debug)]
pub struct Connector {
    nodelay: bool,
}

impl Default for Connector {
    fn default() -> Connector {
        Connector::new()
    }
}

impl Connector {
    /// A connector with `TCP_NODELAY` on.
    pub fn new() -> Connector {
        Connector { nodelay: true }
    }

    /// Sets `TCP_NODELAY` on the connections it makes.
    pub fn set_nodelay(&mut self, nodelay: bool) -> &mut Self {
        self.nodelay = nodelay;
        self
    }
}

/// The host and port to dial for `uri`.
fn destination(uri: &Uri) -> io::Result<(String, u16)> {
    match uri.scheme_str() {
        Some("http") | None => {}
        Some(other) => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("quell-hyper Connector dials http:// only, not {other}://"),
            ))
        }
    }
    let host = uri.host().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("URI without a host: {uri}"),
        )
    })?;
    // `[::1]` → `::1`: the resolver takes the bare literal.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_owned(), uri.port_u16().unwrap_or(80)))
}

impl tower_service::Service<Uri> for Connector {
    type Response = QuellIo<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<QuellIo<TcpStream>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let nodelay = self.nodelay;
        Box::pin(async move {
            let addr = destination(&uri)?;
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(nodelay)?;
            Ok(QuellIo::new(stream))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::destination;

    #[test]
    fn destinations() {
        let d = |s: &str| destination(&s.parse().unwrap());
        assert_eq!(
            d("http://example.com/x").unwrap(),
            ("example.com".into(), 80)
        );
        assert_eq!(
            d("http://127.0.0.1:8080").unwrap(),
            ("127.0.0.1".into(), 8080)
        );
        assert_eq!(d("http://[::1]:9/").unwrap(), ("::1".into(), 9));
        let e = d("https://example.com").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::Unsupported);
        assert!(d("/relative").is_err());
    }
}
