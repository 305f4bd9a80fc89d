//! Interop: a tokio-flavoured future (a tokio timer and a tokio TCP
//! stream, which need a tokio reactor) runs on quell through async-compat,
//! and quell's cancel still reaches it through `cancellable()`.

mod support;

use std::time::Duration;

use async_compat::Compat;
use quell::cancel::{CancellableExt, Cause};
use support::*;

#[test]
fn a_tokio_future_runs_on_quell_through_async_compat() {
    let _dog = watchdog("async-compat");
    let rt = rt(2);
    let echoed = rt.block_on(async {
        let h = quell::spawn(Compat::new(async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            tokio::time::sleep(Duration::from_millis(1)).await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                s.write_all(b"ping").await.unwrap();
                let mut buf = [0; 4];
                s.read_exact(&mut buf).await.unwrap();
                buf
            });
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0; 4];
            conn.read_exact(&mut buf).await.unwrap();
            conn.write_all(&buf).await.unwrap();
            client.await.unwrap()
        }));
        h.await.unwrap()
    });
    assert_eq!(&echoed, b"ping");
}

#[test]
fn a_cancel_reaches_a_tokio_future_under_cancellable() {
    let _dog = watchdog("async-compat cancel");
    let rt = rt(2);
    let (parked_tx, parked_rx) = std::sync::mpsc::channel();
    let h = rt.spawn(
        Compat::new(async move {
            parked_tx.send(()).unwrap();
            tokio::time::sleep(Duration::from_secs(3600)).await;
        })
        .cancellable(),
    );
    recv(&parked_rx);
    h.cancel(Cause::explicit("stop the tokio work"));
    let err = rt.block_on(h).unwrap().unwrap_err();
    assert_eq!(err.cause().message(), Some("stop the tokio work"));
}
