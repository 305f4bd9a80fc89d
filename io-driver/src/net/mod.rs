//! Networking: TCP, UDP and Unix-domain sockets whose every wait is a
//! cancel point.
//!
//! ```text
//! evented.rs           a mio source + its Registration (deregistered on drop),
//!                      the read/write/connect/ready/try_* polls every type shares
//! interest.rs          Interest (what `ready` waits for); `Ready` is the answer
//! partial.rs           Partial: write_all / read_exact stopped after n bytes
//! resolve.rs           ToSocketAddrs, lookup_host: host names resolved off the
//!                      workers (blocking hook), literals in place
//! tcp/listener.rs      TcpListener: bind, accept (EMFILE handed to the caller)
//! tcp/socket.rs        TcpSocket: options, bind, listen, connect
//! tcp/stream.rs        TcpStream: connect, read/write(_vectored), peek, shutdown
//! tcp/split.rs         OwnedReadHalf / OwnedWriteHalf (Arc-shared), reunite
//! tcp/split_borrowed.rs ReadHalf / WriteHalf borrowed from `split(&mut self)`
//! udp.rs               UdpSocket: bind, connect, send(_to), recv(_from), try_*
//! unix/                UnixListener, UnixStream (connect, pair), UnixDatagram
//! tokio_io.rs          (feature `tokio-io`) tokio's AsyncRead / AsyncWrite
//! ```
//!
//! The types are used from quell tasks (or `block_on`): creating one
//! registers it with the current thread's I/O driver, and fails with a
//! clear error outside a runtime. The stream types and halves implement
//! [`futures_io::AsyncRead`] / [`futures_io::AsyncWrite`], so the
//! `futures` ecosystem's adapters (`AsyncReadExt::read_exact`, codecs,
//! TLS wrappers) work on them; `poll_close` is `shutdown(Shutdown::Write)`.
//!
//! # Cancellation at every await point
//!
//! Every wait goes through the registration's `poll_io`, which checks the
//! current task's cancellation (its own, or any ancestor token's) **before**
//! looking at readiness and before any syscall. A cancelled task that is
//! parked on a socket is woken by the executor, and then:
//!
//! | await point | on cancel |
//! |---|---|
//! | `TcpListener::accept`, `UnixListener::accept` | `Err(Cancelled)`; no connection taken; listener open |
//! | `TcpStream::connect`, `UnixStream::connect` | `Err(Cancelled)`; the half-made socket is closed; no other address tried |
//! | `read`, `read_vectored`, `peek`, `recv`, `recv_from`, `peek_from` | `Err(Cancelled)`; **no bytes consumed**; stream open |
//! | `write`, `write_vectored`, `send`, `send_to` | `Err(Cancelled)`; **no bytes sent by that call**; stream open |
//! | `write_all`, `read_exact` | `Err(Partial)` whose `bytes()` is exactly the prefix moved (the peer gets exactly that much), and whose `error()` is the `Cancelled` |
//! | `read_to_end`, `read_buf`, `read_uninit` | `Err(Cancelled)`; what was read before stays in the buffer |
//! | `ready`, `readable`, `writable` | `Err(Cancelled)`; nothing moved; the waker leaves both directions' lists |
//! | `lookup_host`, `connect`/`bind` given a host name | `Err(Cancelled)` at once; the lookup runs on (off the workers) and its result is dropped |
//! | `try_*`, `bind` (IP literal), `shutdown`, `pair`, `from_std`, `TcpSocket` options/`listen`, addresses | never wait; not cancel points |
//!
//! In every case the error is an `io::Error` from which
//! [`Cancelled::from_io`](quell_cancel::Cancelled::from_io) recovers the
//! `Cancelled` and its [`Cause`](quell_cancel::Cause) (its kind is `Other`,
//! never `Interrupted`, so std-style retry loops stop), and the wait's waker
//! has been removed from the socket's registration before the error is
//! returned (contract C7). Each call makes at most one data syscall, after
//! the check: it either moves bytes and returns them, or returns
//! `Cancelled` having moved none, so data is never lost to a cancel.
//!
//! The socket itself is untouched: a [`shield`](quell_cancel::shield)ed
//! cleanup in the cancelled task can still write a goodbye and drain what
//! is left, and the socket can be handed to another task that reads on.
//! Outside a shield the cancellation is sticky: every later wait of the
//! same task answers `Cancelled` at once.
//!
//! # Descriptor exhaustion
//!
//! `accept` returns `EMFILE`/`ENFILE`/`ENOBUFS`/`ENOMEM` to the caller
//! ([`is_resource_exhaustion`] tells them apart) instead of retrying: the
//! connection stays in the backlog and the listener stays usable, but an
//! immediate retry would fail again, so the caller must back off (sleep,
//! or wait for a connection of its own to close). Aborted handshakes
//! (`ECONNABORTED`) are skipped internally.
//!
//! # Concurrency
//!
//! A registration keeps a list of waiters per direction, and readiness
//! wakes them all. Streams take `&mut self` for their waiting reads and
//! writes (use [`TcpStream::into_split`] for two tasks, or
//! [`TcpStream::split`] inside one), and `&self` for
//! `ready`/`readable`/`writable` and the `try_*` calls: a stream shared in
//! an `Arc` is used as in tokio (`readable().await`, then `try_read`,
//! again on `WouldBlock`). Listeners and
//! `UdpSocket` take `&self`: share them in an `Arc` and any number of tasks
//! can accept or receive concurrently (each is woken; one wins each
//! connection or datagram, the others wait again).
//!
//! # Example
//!
//! An echo round trip, driven by hand (inside quell you would just
//! `.await` in a task; see the `quell` crate's `net` docs).
//!
//! ```
//! # use std::future::Future;
//! # use std::task::{Context, Poll, Waker};
//! # fn block_on<F: Future>(f: F) -> F::Output {
//! #     let mut driver = quell_io_driver::rt_internal::Driver::new().unwrap();
//! #     let _enter = quell_io_driver::rt_internal::context::enter(driver.handle().clone());
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = Context::from_waker(Waker::noop());
//! #     loop {
//! #         if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
//! #         driver.park(Some(std::time::Duration::from_millis(10)));
//! #     }
//! # }
//! use quell_io_driver::net::{TcpListener, TcpStream};
//!
//! block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let mut client = TcpStream::connect(listener.local_addr()?).await?;
//!     let (mut server, _) = listener.accept().await?;
//!     client.write_all(b"echo").await?;
//!     let mut buf = [0; 4];
//!     let n = server.read(&mut buf).await?;
//!     server.write_all(&buf[..n]).await?;
//!     let mut back = [0; 4];
//!     let mut got = 0;
//!     while got < n {
//!         got += client.read(&mut back[got..]).await?;
//!     }
//!     assert_eq!(&back, b"echo");
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

/// Implements [`futures_io::AsyncRead`] for `$ty` over the `Evented`
/// stream that `$io` reaches from `$this: &$ty`.
macro_rules! impl_async_read {
    ($ty:ty, |$this:ident| $io:expr) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                $io.poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                $io.poll_read_vectored(cx, bufs)
            }
        }
    };
}

/// Implements [`futures_io::AsyncWrite`] for `$ty` over the `Evented`
/// stream that `$io` reaches from `$this: &$ty`; `poll_close` shuts the
/// write direction down.
macro_rules! impl_async_write {
    ($ty:ty, |$this:ident| $io:expr) => {
        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                $io.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                $io.poll_write_vectored(cx, bufs)
            }

            /// No user-space buffer here: always ready.
            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            /// `shutdown(Shutdown::Write)`: the peer reads EOF.
            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $this = &*self;
                ::std::task::Poll::Ready($io.get_ref().shutdown(::std::net::Shutdown::Write))
            }
        }
    };
}

/// `ready` / `readable` / `writable` / `poll_ready` on `&self`, over
/// the socket's `io: Evented<_>` field: shared by the streams and the
/// datagram sockets.
macro_rules! readiness_methods {
    () => {
        /// Waits until the socket is ready for `interest` (either, if both
        /// are given) and returns the readiness seen. Moves no data: pair it
        /// with a `try_*` call, which may still answer `WouldBlock` (then
        /// wait again). Takes `&self`, so tasks sharing the socket in an
        /// `Arc` can each wait.
        ///
        /// # Errors
        ///
        /// `Cancelled` (a cancel point; the waker is removed from both
        /// directions), or the driver shut down.
        pub async fn ready(
            &self,
            interest: crate::net::Interest,
        ) -> ::std::io::Result<crate::net::Ready> {
            self.io.ready(interest).await
        }

        /// [`ready`](Self::ready) for reading: readable, read-closed, or an
        /// error pending.
        ///
        /// # Errors
        ///
        /// As [`ready`](Self::ready).
        pub async fn readable(&self) -> ::std::io::Result<()> {
            self.io
                .ready(crate::net::Interest::READABLE)
                .await
                .map(drop)
        }

        /// [`ready`](Self::ready) for writing.
        ///
        /// # Errors
        ///
        /// As [`ready`](Self::ready).
        pub async fn writable(&self) -> ::std::io::Result<()> {
            self.io
                .ready(crate::net::Interest::WRITABLE)
                .await
                .map(drop)
        }

        /// The poll form of [`ready`](Self::ready).
        pub fn poll_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
            interest: crate::net::Interest,
        ) -> ::std::task::Poll<::std::io::Result<crate::net::Ready>> {
            self.io.poll_ready_for(cx, interest)
        }
    };
}

/// The `&self` readiness API and the whole-buffer reads and writes that
/// `TcpStream` and `UnixStream` share, as inherent methods over the
/// stream's `io: Evented<_>` field (one implementation, in `evented.rs`).
macro_rules! stream_io_methods {
    () => {
        readiness_methods!();

        /// One `read(2)` now, without waiting: `Ok(0)` is EOF, `WouldBlock`
        /// means no data yet (and clears the readiness, so the next
        /// [`readable`](Self::readable) waits). Not a cancel point.
        ///
        /// # Errors
        ///
        /// `WouldBlock`, or the socket's error.
        pub fn try_read(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
            self.io.try_read(buf)
        }

        /// One `readv(2)` now, without waiting; as [`try_read`](Self::try_read).
        ///
        /// # Errors
        ///
        /// As [`try_read`](Self::try_read).
        pub fn try_read_vectored(
            &self,
            bufs: &mut [::std::io::IoSliceMut<'_>],
        ) -> ::std::io::Result<usize> {
            self.io.try_read_vectored(bufs)
        }

        /// One `write(2)` now, without waiting: `WouldBlock` means the send
        /// buffer is full (and clears the readiness, so the next
        /// [`writable`](Self::writable) waits). Not a cancel point.
        ///
        /// # Errors
        ///
        /// `WouldBlock`, or the socket's error.
        pub fn try_write(&self, buf: &[u8]) -> ::std::io::Result<usize> {
            self.io.try_write(buf)
        }

        /// One `writev(2)` now, without waiting; as [`try_write`](Self::try_write).
        ///
        /// # Errors
        ///
        /// As [`try_write`](Self::try_write).
        pub fn try_write_vectored(
            &self,
            bufs: &[::std::io::IoSlice<'_>],
        ) -> ::std::io::Result<usize> {
            self.io.try_write_vectored(bufs)
        }

        /// Reads until `buf` is full, one `read` at a time.
        ///
        /// # Errors
        ///
        /// A [`Partial`](crate::net::Partial) with the number of bytes
        /// already read into the front of `buf` (and taken off the stream)
        /// and the cause: `UnexpectedEof`, `Cancelled` (the bytes read so
        /// far are kept in `buf`, none are lost), or the socket's error.
        pub async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), crate::net::Partial> {
            self.io.read_exact(buf).await
        }

        /// Appends everything up to EOF to `buf`; returns the bytes added.
        /// Reads straight into `buf`'s spare capacity (no zero-fill).
        ///
        /// # Errors
        ///
        /// `Cancelled` or the socket's error; what was read before it stays
        /// in `buf` (its new length says how much).
        pub async fn read_to_end(&mut self, buf: &mut Vec<u8>) -> ::std::io::Result<usize> {
            self.io.read_to_end(buf).await
        }

        /// One `read(2)` once readable, appended to `buf`'s spare capacity
        /// without zero-filling it (8 KiB are reserved first if `buf` is
        /// full); returns the bytes added, `0` at EOF.
        ///
        /// # Errors
        ///
        /// As [`read`](Self::read) (`Cancelled`: nothing read, `buf`
        /// unchanged).
        pub async fn read_buf(&mut self, buf: &mut Vec<u8>) -> ::std::io::Result<usize> {
            self.io.read_buf(buf).await
        }

        /// One `read(2)` once readable into memory that need not be
        /// initialised; returns the initialised (read) front of `buf`,
        /// empty at EOF.
        ///
        /// # Errors
        ///
        /// As [`read`](Self::read).
        pub async fn read_uninit<'b>(
            &mut self,
            buf: &'b mut [::std::mem::MaybeUninit<u8>],
        ) -> ::std::io::Result<&'b mut [u8]> {
            self.io.read_uninit(buf).await
        }

        /// The poll form of [`read_uninit`](Self::read_uninit), for
        /// adapters that implement a foreign poll-based read trait (such
        /// as `hyper::rt::Read`): one `read(2)` once readable into `buf`,
        /// which need not be initialised. `Ready(Ok(n))` means the first
        /// `n` bytes of `buf` are now initialised (`0`: EOF, or an empty
        /// `buf`). A cancel point, as [`read`](Self::read).
        ///
        /// # Errors
        ///
        /// As [`read`](Self::read).
        pub fn poll_read_uninit(
            &self,
            cx: &mut ::std::task::Context<'_>,
            buf: &mut [::std::mem::MaybeUninit<u8>],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            self.io.poll_read_uninit(cx, buf)
        }

        /// Writes all of `buf`, one `write` at a time.
        ///
        /// # Errors
        ///
        /// A [`Partial`](crate::net::Partial): how many bytes of `buf` had
        /// been sent, and why it stopped (`Cancelled`, `WriteZero`, the
        /// socket's error). A cancelled write moves nothing, so after a
        /// cancel the peer receives exactly `bytes()` bytes; resume with
        /// `&buf[p.bytes()..]`, or wrap the call in a
        /// [`shield`](quell_cancel::shield) to finish a message regardless.
        /// `?` converts it to the inner `io::Error`.
        pub async fn write_all(&mut self, buf: &[u8]) -> Result<(), crate::net::Partial> {
            self.io.write_all(buf).await
        }
    };
}

mod evented;
mod interest;
mod partial;
#[cfg(feature = "test-util")]
mod probe;
mod resolve;
mod tcp;
#[cfg(feature = "tokio-io")]
mod tokio_io;
mod udp;
mod unix;
mod waiting;

#[cfg(test)]
mod tests;

pub use crate::scheduled_io::Ready;
pub use evented::is_resource_exhaustion;
pub use interest::Interest;
pub use partial::Partial;
#[cfg(feature = "test-util")]
pub use probe::IoProbe;
pub use resolve::{lookup_host, ToSocketAddrs};
pub use tcp::{
    OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, TcpListener, TcpSocket, TcpStream,
    WriteHalf,
};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
