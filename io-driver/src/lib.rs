//! quell-io-driver: the reactor (mio), time, signals and net types of quell.
//!
//! Not yet implemented: this crate is the seam the executor parks in (see
//! `quell_executor`'s `Driver` trait). The I/O driver issue fills it in.
#![deny(unsafe_op_in_unsafe_fn)]
