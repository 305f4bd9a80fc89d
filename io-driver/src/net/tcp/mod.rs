//! TCP: [`TcpListener`], [`TcpSocket`] (the builder), [`TcpStream`], its
//! owned halves and its borrowed halves.

/// The read methods every half of a `TcpStream` has, over
/// `self.inner.io` (`inner` derefs to the `TcpStream`).
macro_rules! read_half_methods {
    ($ty:ident) => {
        /// Reads into `buf` once readable; see [`TcpStream::read`](crate::net::TcpStream::read).
        ///
        /// # Errors
        ///
        /// As `TcpStream::read`.
        #[track_caller]
        pub fn read<'a>(
            &'a mut self,
            buf: &'a mut [u8],
        ) -> impl ::std::future::Future<Output = ::std::io::Result<usize>> + 'a {
            let io = &self.inner.io;
            socket_await!(&*self.inner, $ty, "read", async move { io.read(buf).await })
        }

        /// Scatter read; see [`TcpStream::read_vectored`](crate::net::TcpStream::read_vectored).
        ///
        /// # Errors
        ///
        /// As `TcpStream::read`.
        pub async fn read_vectored(
            &mut self,
            bufs: &mut [::std::io::IoSliceMut<'_>],
        ) -> ::std::io::Result<usize> {
            self.inner.io.read_vectored(bufs).await
        }

        /// Reads without consuming; see [`TcpStream::peek`](crate::net::TcpStream::peek).
        ///
        /// # Errors
        ///
        /// As `TcpStream::read`.
        #[track_caller]
        pub fn peek<'a>(
            &'a mut self,
            buf: &'a mut [u8],
        ) -> impl ::std::future::Future<Output = ::std::io::Result<usize>> + 'a {
            let io = &self.inner.io;
            socket_await!(&*self.inner, $ty, "peek", async move {
                io.read_with(buf, crate::driver::sys::net::TcpStream::peek)
                    .await
            })
        }

        /// Fills `buf`; see [`TcpStream::read_exact`](crate::net::TcpStream::read_exact).
        ///
        /// # Errors
        ///
        /// A [`Partial`](crate::net::Partial) with the bytes read so far.
        #[track_caller]
        pub fn read_exact<'a>(
            &'a mut self,
            buf: &'a mut [u8],
        ) -> impl ::std::future::Future<Output = Result<(), crate::net::Partial>> + 'a {
            let io = &self.inner.io;
            socket_await!(&*self.inner, $ty, "read_exact", async move {
                io.read_exact(buf).await
            })
        }

        /// Appends up to EOF; see [`TcpStream::read_to_end`](crate::net::TcpStream::read_to_end).
        ///
        /// # Errors
        ///
        /// As `TcpStream::read_to_end`.
        #[track_caller]
        pub fn read_to_end<'a>(
            &'a mut self,
            buf: &'a mut Vec<u8>,
        ) -> impl ::std::future::Future<Output = ::std::io::Result<usize>> + 'a {
            let io = &self.inner.io;
            socket_await!(&*self.inner, $ty, "read_to_end", async move {
                io.read_to_end(buf).await
            })
        }

        /// One read into spare capacity; see [`TcpStream::read_buf`](crate::net::TcpStream::read_buf).
        ///
        /// # Errors
        ///
        /// As `TcpStream::read`.
        #[track_caller]
        pub fn read_buf<'a>(
            &'a mut self,
            buf: &'a mut Vec<u8>,
        ) -> impl ::std::future::Future<Output = ::std::io::Result<usize>> + 'a {
            let io = &self.inner.io;
            socket_await!(&*self.inner, $ty, "read_buf", async move {
                io.read_buf(buf).await
            })
        }

        /// Waits until readable; see [`TcpStream::readable`](crate::net::TcpStream::readable).
        ///
        /// # Errors
        ///
        /// As `TcpStream::ready`.
        #[track_caller]
        pub fn readable(&self) -> impl ::std::future::Future<Output = ::std::io::Result<()>> + '_ {
            let io = &self.inner.io;
            socket_await!(&*self.inner, $ty, "readable", async move {
                io.ready(crate::net::Interest::READABLE).await.map(drop)
            })
        }

        /// One read now; see [`TcpStream::try_read`](crate::net::TcpStream::try_read).
        ///
        /// # Errors
        ///
        /// As `TcpStream::try_read`.
        pub fn try_read(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
            self.inner.try_read(buf)
        }

        /// The local address of the connection.
        pub fn local_addr(&self) -> ::std::io::Result<::std::net::SocketAddr> {
            self.inner.local_addr()
        }

        /// The remote address of the connection.
        pub fn peer_addr(&self) -> ::std::io::Result<::std::net::SocketAddr> {
            self.inner.peer_addr()
        }
    };
}

/// The write methods every half of a `TcpStream` has.
macro_rules! write_half_methods {
    ($ty:ident) => {
        /// Writes from `buf` once writable; see [`TcpStream::write`](crate::net::TcpStream::write).
        ///
        /// # Errors
        ///
        /// As `TcpStream::write`.
        #[track_caller]
        pub fn write<'a>(
            &'a mut self,
            buf: &'a [u8],
        ) -> impl ::std::future::Future<Output = ::std::io::Result<usize>> + 'a {
            let io = &self.inner.io;
            socket_await!(
                &*self.inner,
                $ty,
                "write",
                async move { io.write(buf).await }
            )
        }

        /// Gather write; see [`TcpStream::write_vectored`](crate::net::TcpStream::write_vectored).
        ///
        /// # Errors
        ///
        /// As `TcpStream::write`.
        pub async fn write_vectored(
            &mut self,
            bufs: &[::std::io::IoSlice<'_>],
        ) -> ::std::io::Result<usize> {
            self.inner.io.write_vectored(bufs).await
        }

        /// Writes all of `buf`; see [`TcpStream::write_all`](crate::net::TcpStream::write_all).
        ///
        /// # Errors
        ///
        /// A [`Partial`](crate::net::Partial) with the bytes sent.
        #[track_caller]
        pub fn write_all<'a>(
            &'a mut self,
            buf: &'a [u8],
        ) -> impl ::std::future::Future<Output = Result<(), crate::net::Partial>> + 'a {
            let io = &self.inner.io;
            socket_await!(&*self.inner, $ty, "write_all", async move {
                io.write_all(buf).await
            })
        }

        /// Waits until writable; see [`TcpStream::writable`](crate::net::TcpStream::writable).
        ///
        /// # Errors
        ///
        /// As `TcpStream::ready`.
        #[track_caller]
        pub fn writable(&self) -> impl ::std::future::Future<Output = ::std::io::Result<()>> + '_ {
            let io = &self.inner.io;
            socket_await!(&*self.inner, $ty, "writable", async move {
                io.ready(crate::net::Interest::WRITABLE).await.map(drop)
            })
        }

        /// One write now; see [`TcpStream::try_write`](crate::net::TcpStream::try_write).
        ///
        /// # Errors
        ///
        /// As `TcpStream::try_write`.
        pub fn try_write(&self, buf: &[u8]) -> ::std::io::Result<usize> {
            self.inner.try_write(buf)
        }

        /// The local address of the connection.
        pub fn local_addr(&self) -> ::std::io::Result<::std::net::SocketAddr> {
            self.inner.local_addr()
        }

        /// The remote address of the connection.
        pub fn peer_addr(&self) -> ::std::io::Result<::std::net::SocketAddr> {
            self.inner.peer_addr()
        }
    };
}

mod listener;
mod socket;
pub(crate) mod split;
pub(crate) mod split_borrowed;
mod stream;

pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use split_borrowed::{ReadHalf, WriteHalf};
pub use stream::TcpStream;
