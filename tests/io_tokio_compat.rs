//! The `tokio-io` feature: tokio's `AsyncReadExt` / `AsyncWriteExt` over
//! quell streams on the quell runtime (run by ci/test.sh with
//! `--features tokio-io`).
#![cfg(feature = "tokio-io")]

mod support;

use quell::cancel::{Cancelled, Cause};
use quell::net::{TcpListener, TcpStream, UnixStream};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn tokio_io_echo_over_a_quell_tcp_stream() {
    let _dog = watchdog("tokio-io echo");
    let rt = rt(2);
    rt.block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = quell::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0; 100_000];
            AsyncReadExt::read_exact(&mut s, &mut buf).await.unwrap();
            AsyncWriteExt::write_all(&mut s, &buf).await.unwrap();
            AsyncWriteExt::shutdown(&mut s).await.unwrap();
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
        AsyncWriteExt::write_all(&mut c, &data).await.unwrap();
        let mut back = Vec::new();
        AsyncReadExt::read_to_end(&mut c, &mut back).await.unwrap();
        assert_eq!(back, data);
        server.await.unwrap();
    });
}

#[test]
fn tokio_io_split_halves_and_unix_streams() {
    let _dog = watchdog("tokio-io halves");
    let rt = rt(2);
    rt.block_on(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let mut a = a;
        AsyncWriteExt::write_all(&mut a, b"unix").await.unwrap();
        let mut buf = [0; 4];
        AsyncReadExt::read_exact(&mut b, &mut buf).await.unwrap();
        assert_eq!(&buf, b"unix");

        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (mut s, _) = l.accept().await.unwrap();
        let (mut r, mut w) = c.into_split();
        AsyncWriteExt::write_all(&mut w, b"half").await.unwrap();
        let (mut sr, mut sw) = s.split();
        let mut got = [0; 4];
        AsyncReadExt::read_exact(&mut sr, &mut got).await.unwrap();
        AsyncWriteExt::write_all(&mut sw, &got).await.unwrap();
        AsyncReadExt::read_exact(&mut r, &mut got).await.unwrap();
        assert_eq!(&got, b"half");
    });
}

#[test]
fn a_tokio_io_read_is_a_quell_cancel_point() {
    let _dog = watchdog("tokio-io cancel");
    let rt = rt(2);
    let (a, mut b) = rt.block_on(async { UnixStream::pair() }).unwrap();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let reader = rt.spawn(async move {
        let mut a = a;
        ready_tx.send(()).unwrap();
        let mut buf = [0; 4];
        let err = AsyncReadExt::read(&mut a, &mut buf).await.unwrap_err();
        (err, a)
    });
    // The cancel lands before or during the read: either way the read
    // answers `Cancelled` and takes nothing.
    recv(&ready);
    reader.cancel(Cause::explicit("tokio stop"));
    let (err, mut a) = rt.block_on(reader).unwrap();
    assert_eq!(
        Cancelled::from_io(&err).unwrap().cause().message(),
        Some("tokio stop")
    );
    // Nothing was taken: data sent now is read whole by another task.
    rt.block_on(async {
        b.write_all(b"kept").await.unwrap();
        let mut buf = [0; 4];
        AsyncReadExt::read_exact(&mut a, &mut buf).await.unwrap();
        assert_eq!(&buf, b"kept");
    });
}
