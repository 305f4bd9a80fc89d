//! A client with a deadline: connect, send a line, read the reply — all
//! within 2 s, as one deadline scope.
//!
//! ```text
//! cargo run --example deadline_client -- 127.0.0.1:7000 hello
//! ```
//!
//! `with_timeout` runs the exchange under a child token whose deadline is
//! min(parent's, 2 s). When it passes, whatever await point the exchange is
//! parked at (connect, write, read) answers `Cancelled` with cause
//! `DeadlineExceeded`.

use std::time::Duration;

use quell::cancel::{self, Cancelled, CauseKind};
use quell::net::TcpStream;

async fn exchange(addr: &str, line: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(format!("{line}\n").as_bytes()).await?;
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).await?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7000".into());
    let line = args.next().unwrap_or_else(|| "hello".into());
    let rt = quell::Runtime::new()?;
    // `Err` from the scope: cut off (the inner future ignored the cancel
    // for longer than the scope's grace); `Ok(Err(..))`: the exchange
    // itself failed, for example a read that answered `Cancelled`.
    let out = rt
        .block_on(cancel::with_timeout(
            Duration::from_secs(2),
            exchange(&addr, &line),
        ))
        .map_err(std::io::Error::from)
        .and_then(|r| r);
    match out {
        Ok(reply) => print!("{reply}"),
        Err(e) => match Cancelled::from_io(&e) {
            Some(c) if c.cause().kind() == &CauseKind::DeadlineExceeded => {
                eprintln!("no reply within the deadline");
            }
            _ => return Err(e),
        },
    }
    Ok(())
}
