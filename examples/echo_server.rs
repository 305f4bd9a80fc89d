//! An echo server that shuts down on SIGTERM / Ctrl-C.
//!
//! ```text
//! cargo run --example echo_server -- 127.0.0.1:7000 &
//! cargo run --example deadline_client -- 127.0.0.1:7000 hello
//! kill -TERM %1
//! ```
//!
//! Every connection task runs under the server's token. On SIGTERM,
//! `cancel_on` cancels that token with cause `signal(15)`: the accept loop
//! and every connection parked in `read` are woken and get the `Cancelled`
//! error — no `select!` anywhere — and each connection says goodbye on its
//! still-open socket inside a shield. Then the runtime shuts down
//! gracefully and reports anything it had to force.

use std::time::Duration;

use quell::cancel::{self, CancelToken, Cancelled};
use quell::net::{TcpListener, TcpStream};
use quell::signal::{self, SignalKind};

async fn serve(mut stream: TcpStream) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 4096];
    let mut echoed = 0u64;
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => return Ok(echoed),
            Ok(n) => {
                stream.write_all(&buf[..n]).await?;
                echoed += n as u64;
            }
            Err(e) => {
                if let Some(c) = Cancelled::from_io(&e) {
                    let msg = format!("server shutting down ({})\n", c.cause());
                    // The socket is still open: say goodbye, uninterrupted.
                    let _ = cancel::shield(stream.write_all(msg.as_bytes())).await;
                    return Ok(echoed);
                }
                return Err(e);
            }
        }
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into());
    let rt = quell::Runtime::new()?;
    let server_token = CancelToken::new();
    let _on_signal = signal::cancel_on(
        [SignalKind::terminate(), SignalKind::interrupt()],
        &server_token,
    )?;

    let acceptor = quell::task::SpawnBuilder::new()
        .name("acceptor")
        .token(server_token.clone())
        .spawn_on(
            async move {
                let listener = TcpListener::bind(addr.as_str()).await?;
                println!("echo server on {}", listener.local_addr()?);
                loop {
                    match listener.accept().await {
                        Ok((stream, peer)) => {
                            // Inherits the acceptor's token (the server token).
                            quell::spawn(async move {
                                match serve(stream).await {
                                    Ok(n) => println!("{peer}: closed after {n} bytes"),
                                    Err(e) => println!("{peer}: {e}"),
                                }
                            });
                        }
                        Err(e) if Cancelled::from_io(&e).is_some() => {
                            println!("acceptor: {e}");
                            return Ok::<(), std::io::Error>(());
                        }
                        Err(e) => {
                            // e.g. EMFILE: back off instead of spinning.
                            eprintln!("accept: {e}");
                            let _ = quell::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            },
            rt.handle(),
        );
    rt.block_on(acceptor).expect("acceptor panicked")?;
    let report = rt.shutdown_graceful(Duration::from_secs(2));
    print!("{report}");
    Ok(())
}
