//! A quell program that runs until `SIGTERM` or `SIGINT` (Ctrl-C), then
//! shuts down gracefully and prints why.
//!
//! ```text
//! cargo run --example signal_shutdown &
//! kill -TERM $!        # or press Ctrl-C when run in the foreground
//! ```
//!
//! `cancel_on` cancels the program's root token from its own thread when a
//! signal arrives; every task bound to that token (or below it) then gets
//! the `Cancelled` error at its next await point, with the signal as the
//! cause, and runs its cleanup inside a shield.

use quell::cancel::{self, CancelToken, CancellableExt};
use quell::signal::{self, SignalKind};
use quell::task::SpawnBuilder;

fn main() -> std::io::Result<()> {
    let rt = quell::Runtime::new()?;
    let root = CancelToken::new();
    // Keep the guard for the life of the program.
    let _on_signal = signal::cancel_on([SignalKind::terminate(), SignalKind::interrupt()], &root)?;

    let workers: Vec<_> = (0..4)
        .map(|i| {
            SpawnBuilder::new().token(root.child()).spawn_on(
                async move {
                    // The "work": wait for a job that never comes.
                    let stopped = std::future::pending::<()>().cancellable().await;
                    let why = stopped.expect_err("pending() only ends by cancellation");
                    // Cleanup that must not itself be cancelled.
                    cancel::shield(async move {
                        println!("worker {i}: cleaning up ({})", why.cause());
                    })
                    .await;
                },
                rt.handle(),
            )
        })
        .collect();

    println!(
        "running as pid {}; send SIGTERM or press Ctrl-C to stop",
        std::process::id()
    );
    rt.block_on(async {
        for w in workers {
            w.await.expect("worker panicked");
        }
    });
    println!(
        "shut down: {}",
        root.cause()
            .expect("the workers end only once root is cancelled")
    );
    Ok(())
}
