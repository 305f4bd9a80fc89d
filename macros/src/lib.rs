//! quell-macros: `#[quell::main]` and `#[quell::test]`.
//!
//! Use them through the facade (`quell::main`, `quell::test`); the
//! expansion names only `::quell` (its hidden `__private` module), so a
//! user depends on `quell` alone, under that name. Both
//! turn an `async fn` into a plain `fn` that builds a fresh multi-thread
//! runtime and blocks on the body:
//!
//! ```text
//! #[quell::main(worker_threads = 2)]     fn main() -> R {
//! async fn main() -> R { body }    =>       async fn __quell_body() -> R { body }
//!                                           ::quell::__private::block_on(Some(2), __quell_body())
//!                                       }
//! ```
//!
//! The body becomes an inner `async fn` with the declared return type, so
//! `?` and `return` in it infer exactly as in the written function.
//! `#[quell::test]` adds `#[test]`; every test gets its own runtime, dropped
//! (shut down) when the test returns.
//!
//! Arguments: `worker_threads = N` (N ≥ 1; default: the runtime's default)
//! and `flavor = "multi_thread"` (the default) or `flavor =
//! "current_thread"` (no worker threads: the function's own thread runs
//! every task, and `spawn_local` works; `worker_threads` is refused with
//! it). Any other argument is refused by name. The function must be an `async fn` without generics
//! or parameters; anything else is a `compile_error!` pointing at it.
//!
//! The token stream is parsed by hand (no `syn`/`quote`): the accepted
//! shape is small, and the crate then builds in a blink.

use proc_macro::TokenStream;

mod expand;
mod parse;

/// Runs an `async fn main` on a fresh quell runtime (multi-thread;
/// `worker_threads = N` sets its worker count; `flavor =
/// "current_thread"` runs it on a current-thread runtime instead). The runtime is
/// shut down when `main` returns. See the facade's `quell::main` for
/// examples.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(expand::Kind::Main, args, item)
}

/// Runs an `async fn` test on its own fresh quell runtime; the test may
/// return `Result` like any `#[test]`. Takes the same arguments as
/// `#[quell::main]`. See the facade's `quell::test` for examples.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(expand::Kind::Test, args, item)
}
