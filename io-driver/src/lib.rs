//! quell-io-driver: the reactor (mio), time, signals and net types of quell.
//!
//! ```text
//! driver.rs        mio Poll + slots (token = slot | generation), dispatch, unpark
//! scheduled_io.rs  per-source readiness word (bits + tick) and reader/writer waiter lists
//! registration.rs  what a net type holds: poll_ready / poll_io / deregister
//! context.rs       the current thread's driver (set by the executor), the blocking hook
//! coop.rs          the cooperative budget every runtime resource spends
//! rt_internal.rs   the seams the executor needs (not API)
//! time/            the hierarchical timer wheel, sleep / timeout / interval, deadlines
//! net/             TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream
//! signal/          ctrl_c, signal streams, cancel_on
//! ```
//!
//! Cancellation reaches I/O waits through the task binding: a cancelled
//! task is woken by the executor, and every wait here checks the current
//! task's cancellation (`quell_cancel::rt_internal::observed`) before
//! anything else, removes its waker from the registration (C7) and returns
//! the `Cancelled` error inside an `io::Error`. The socket stays open.
//!
//! The public modules are [`net`], [`time`] and [`signal`] (re-exported by
//! the `quell` facade). The driver itself, the per-thread driver context,
//! the blocking hook and the cooperative budget are runtime seams for the
//! executor, under the hidden [`rt_internal`] module, which is not API.
//! With the `test-util` feature the net types gain probes that tests of C7
//! use (is a waker parked on this socket?).
#![deny(unsafe_op_in_unsafe_fn)]
// Under loom the net types are compiled out (a model has no driver), so the
// registration and readiness code they use is unused in a loom library build.
#![cfg_attr(loom, allow(dead_code, unused_imports))]

pub(crate) mod loom;

mod context;
mod coop;
mod driver;
// Net types need a live driver on the thread; loom models never build one.
#[cfg(not(loom))]
pub mod net;
pub(crate) mod registration;
#[doc(hidden)]
pub mod rt_internal;
mod scheduled_io;
#[cfg(not(loom))]
pub mod signal;
pub mod time;

#[cfg(all(test, loom))]
mod tests;
