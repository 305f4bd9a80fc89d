//! The io-driver's blocking hook, served by this runtime's blocking pool:
//! name lookups (`quell::net::lookup_host`, `TcpStream::connect("host:port")`)
//! run there instead of on a worker. Registered whenever a runtime enters
//! its context on a thread (`context::enter`); the hook looks up the
//! runtime current on the calling thread, so one registration serves all.

use quell_io_driver::rt_internal::context::BlockingJob;

/// Registers [`run_on_pool`] as the io-driver's blocking hook (the first
/// registration of the process stays; later calls are a no-op).
pub(crate) fn register() {
    quell_io_driver::rt_internal::context::set_blocking_hook(run_on_pool);
}

/// Spawns `job` on the current runtime's blocking pool (detached: the job
/// reports through its own channel); hands it back if no runtime is
/// current on this thread.
fn run_on_pool(job: BlockingJob) -> Result<(), BlockingJob> {
    super::context::with_current(move |h| match h {
        Some(h) => {
            drop(h.spawn_blocking(job));
            Ok(())
        }
        None => Err(job),
    })
}
