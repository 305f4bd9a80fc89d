//! TLS over quell's `TcpStream`: rustls through futures-rustls (quell's
//! streams implement the futures-io traits), client and server both on
//! quell, on loopback, with a self-signed certificate made by the test
//! (rcgen) and rustls's `ring` provider. docs/from-tokio.md ("TLS") shows
//! the same set-up.
#![cfg(not(loom))]

mod support;

use std::sync::Arc;

use futures_rustls::rustls::crypto::ring;
use futures_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use futures_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use quell::cancel::{Cancelled, Cause};
use quell::net::{TcpListener, TcpStream};
use support::*;

/// A server config with a fresh self-signed certificate for `localhost`,
/// and a client config that trusts exactly that certificate.
fn configs() -> (TlsAcceptor, TlsConnector) {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let provider = Arc::new(ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (
        TlsAcceptor::from(Arc::new(server)),
        TlsConnector::from(Arc::new(client)),
    )
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

/// 200 KB: many TLS records (at most 16 KiB of plaintext each), so both
/// directions go through partial reads and writes of the socket.
fn payload() -> Vec<u8> {
    (0..200_000u32).map(|i| (i % 251) as u8).collect()
}

#[test]
fn tls_echo_both_ways_over_quell_tcp() {
    let _dog = watchdog("tls echo");
    let rt = rt(2);
    let (acceptor, connector) = configs();
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = quell::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(tcp).await.unwrap();
            let mut request = vec![0; payload().len()];
            tls.read_exact(&mut request).await.unwrap();
            assert_eq!(request, payload(), "the server read the request whole");
            // Answer with the request reversed: not an echo of bytes the
            // client could have read from its own buffer.
            request.reverse();
            tls.write_all(&request).await.unwrap();
            tls.close().await.unwrap(); // close_notify, then FIN
        });

        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = connector.connect(localhost(), tcp).await.unwrap();
        let (_, session) = tls.get_ref();
        assert!(session.protocol_version().is_some(), "handshake done");
        tls.write_all(&payload()).await.unwrap();
        tls.flush().await.unwrap();
        let mut reply = Vec::new();
        tls.read_to_end(&mut reply).await.unwrap(); // ends at close_notify
        let mut expected = payload();
        expected.reverse();
        assert_eq!(reply, expected);
        server.await.unwrap();
    });
}

#[test]
fn a_cancelled_tls_read_answers_cancelled_and_the_session_stays_usable() {
    let _dog = watchdog("tls cancel");
    let rt = rt(2);
    let (acceptor, connector) = configs();
    let (client, mut server, probe) = rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accept = quell::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            acceptor.accept(tcp).await.unwrap()
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let probe = tcp.waiter_probe();
        let client = connector.connect(localhost(), tcp).await.unwrap();
        (client, accept.await.unwrap(), probe)
    });

    // The client parks in a TLS read; the server stays silent.
    let reader = rt.spawn(async move {
        let mut client = client;
        let mut buf = [0; 64];
        let err = client.read(&mut buf).await.unwrap_err();
        (err, client)
    });
    // Parked in the socket's reader slot: the cancel goes through the
    // runtime's wake of a task parked on I/O, under rustls's poll_read.
    // Wait for the reader task itself to be parked there (the dump): the
    // handshake's last poll can leave a read waiter of its own behind, so
    // "some read waiter" may be seen before the reader first ran.
    let id = reader.id();
    dump_until(rt.handle(), |d| {
        d.task(id)
            .and_then(|t| t.wait.as_ref())
            .is_some_and(|w| w.what == "AsyncRead::poll_read")
    });
    assert!(probe.has_read_waiter());
    reader.cancel(Cause::explicit("tls reader stop"));
    let (err, mut client) = rt.block_on(reader).unwrap();
    let cancelled = Cancelled::from_io(&err).expect("the TLS read answers Cancelled");
    assert_eq!(cancelled.cause().message(), Some("tls reader stop"));
    assert!(!probe.has_read_waiter(), "C7: no waker left behind");

    // quell's read took nothing when it answered Cancelled, and rustls
    // keeps any partial record in its own buffer: the session is intact,
    // both ways, for a task that is not cancelled.
    rt.block_on(async move {
        server.write_all(b"after the cancel").await.unwrap();
        server.flush().await.unwrap();
        let mut buf = [0; 16];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"after the cancel");

        client.write_all(b"still here").await.unwrap();
        client.flush().await.unwrap();
        let mut back = [0; 10];
        server.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"still here");
    });
}
