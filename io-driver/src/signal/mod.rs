//! Unix signals: [`signal`] streams, [`ctrl_c`], and
//! [`cancel_on`](fn@cancel_on), which turns a signal into a cancellation
//! of a token.
//!
//! ```text
//! kind.rs       SignalKind, and which numbers may be handled
//! pipe.rs       one listener's self-pipe: signal-hook action → socket → driver
//! stream.rs     Signal (recv / poll_recv), signal(), ctrl_c()
//! cancel_on.rs  cancel_on(), drain_on(): a thread that cancels (or first
//!               drains) a token on a signal
//! ```
//!
//! # Delivery
//!
//! A signal handler may only do async-signal-safe things: no locks, no
//! allocation, no waking of tasks. The handlers are therefore
//! [signal-hook]'s, and all they do is write one byte to a socket:
//!
//! ```text
//!  kernel ──SIGTERM──▶ signal-hook's handler (one per signal number, process-wide)
//!                        ├─ action of Signal A: send(A.write, "X")  ─▶ A.read ─▶ A's driver ─▶ wakes A's task
//!                        ├─ action of Signal B: send(B.write, "X")  ─▶ B.read ─▶ B's driver ─▶ wakes B's task
//!                        └─ action of cancel_on: signal-hook's pipe ─▶ quell-signal thread ─▶ token.cancel(signal 15)
//! ```
//!
//! signal-hook keeps the process-global registry: per signal number, one
//! `sigaction` handler and a list of actions. Every [`Signal`] adds its own
//! action and owns its own socket pair, whose read half is registered with
//! the I/O driver current when the `Signal` was created. That makes the
//! broadcast free (each listener has its own pipe, so each sees each
//! delivery), keeps several runtimes independent (each listener wakes
//! through its own runtime's driver), and needs no shared state of ours.
//! Deliveries coalesce: a listener learns "at least once since you last
//! looked", not how many times.
//!
//! # Handlers stay installed
//!
//! Once a signal has been listened for, signal-hook's handler for it stays
//! installed for the rest of the process's life; dropping the last
//! [`Signal`] or [`CancelOnSignal`] removes only its action. The default
//! action is *not* restored: after listening for `SIGINT` or `SIGTERM`
//! once, those signals no longer terminate the process, they are ignored
//! when nobody listens. (This is signal-hook's behaviour, and tokio's.)
//! Programs that want "a second Ctrl-C kills" should keep listening and
//! exit themselves.
//!
//! # Cancellation
//!
//! [`Signal::recv`] is a runtime await point like a socket read: if the
//! current task is cancelled it returns an `io::Error` carrying the
//! [`Cancelled`](quell_cancel::Cancelled) (recover it with
//! [`Cancelled::from_io`](quell_cancel::Cancelled::from_io)), after removing
//! the task's waker from the driver. A delivery that was pending is not
//! consumed by the cancelled wait.
//!
//! The other direction, a signal *causing* a cancellation, is
//! [`cancel_on`](fn@cancel_on): the token is cancelled with
//! [`Cause::signal`](quell_cancel::Cause::signal)`(signo)`, so every task
//! under it sees "cancelled: signal 15" at its next await point. It runs on
//! a dedicated thread (see `cancel_on.rs` for why), so it works however
//! busy the runtime is.
//!
//! [`drain_on`] is the graceful form: the first delivery *drains* the
//! token (an advisory "finish in-flight work", no await point answers
//! `Cancelled`) and a second delivery cancels it.
//!
//! Not compiled under `cfg(loom)`: signal dispositions are process-global
//! and outside what a loom model can explore.
//!
//! [signal-hook]: https://docs.rs/signal-hook

pub(crate) mod cancel_on;
mod kind;
mod pipe;
mod stream;

#[cfg(test)]
mod tests;

pub use cancel_on::{cancel_on, drain_on, CancelOnSignal};
pub use kind::SignalKind;
pub use stream::{ctrl_c, signal, Signal};
