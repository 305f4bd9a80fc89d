//! The await points of sockets as task dumps show them: which call waits
//! (`TcpStream::read`, …), where in the caller's source, and the socket's
//! local and peer addresses, read from its file descriptor when the dump
//! is taken (never on the I/O path).

use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;
use std::panic::Location;
use std::task::Poll;

use quell_cancel::rt_internal::wait::{self, AwaitPoint};

macro_rules! socket_points {
    ($($name:ident = $what:literal;)*) => {
        $(
            #[doc = concat!("`", $what, "` (a task dump's await point).")]
            pub(crate) static $name: AwaitPoint = AwaitPoint {
                what: $what,
                describe: Some(describe_fd),
            };
        )*
    };
}

socket_points! {
    TCP_READ = "TcpStream::read";
    TCP_PEEK = "TcpStream::peek";
    TCP_WRITE = "TcpStream::write";
    TCP_ACCEPT = "TcpListener::accept";
    UDP_SEND = "UdpSocket::send";
    UDP_RECV = "UdpSocket::recv";
    UDP_SEND_TO = "UdpSocket::send_to";
    UDP_RECV_FROM = "UdpSocket::recv_from";
    UDP_PEEK_FROM = "UdpSocket::peek_from";
    UNIX_READ = "UnixStream::read";
    UNIX_WRITE = "UnixStream::write";
    UNIX_ACCEPT = "UnixListener::accept";
    UNIX_DGRAM_SEND = "UnixDatagram::send";
    UNIX_DGRAM_RECV = "UnixDatagram::recv";
    UNIX_DGRAM_SEND_TO = "UnixDatagram::send_to";
    UNIX_DGRAM_RECV_FROM = "UnixDatagram::recv_from";
}

macro_rules! plain_points {
    ($($name:ident = $what:literal;)*) => {
        $(
            #[doc = concat!("`", $what, "` (a task dump's await point, no socket yet).")]
            pub(crate) static $name: AwaitPoint = AwaitPoint {
                what: $what,
                describe: None,
            };
        )*
    };
}

plain_points! {
    TCP_CONNECT = "TcpStream::connect";
    TCP_BIND = "TcpListener::bind";
    UDP_BIND = "UdpSocket::bind";
    UDP_CONNECT = "UdpSocket::connect";
    UNIX_CONNECT = "UnixStream::connect";
    LOOKUP_HOST = "lookup_host";
}

socket_points! {
    TCP_SOCKET_CONNECT = "TcpSocket::connect";
    POLL_READ = "AsyncRead::poll_read";
    POLL_WRITE = "AsyncWrite::poll_write";
}

/// Records `point` on socket `fd` with no caller location: a poll method
/// reached through a trait (`AsyncRead`, hyper's `Read`), whose caller is
/// an adapter rather than the user's code.
#[cold]
pub(crate) fn record_poll(point: &'static AwaitPoint, fd: RawFd) {
    wait::record(point, None, fd as u32 as u64);
}

/// `fut`, recording `point` (at `at`, with no detail) each time it is
/// pending: for await points that have no socket yet.
#[inline]
pub(crate) fn recorded_plain<F: std::future::Future>(
    fut: F,
    point: &'static AwaitPoint,
    at: &'static Location<'static>,
) -> wait::Recorded<F> {
    wait::recorded(fut, point, at, 0)
}

/// `fut`, recording `point` (at `at`, on socket `fd`) each time it is
/// pending: for await points written as `async` blocks.
#[inline]
pub(crate) fn recorded<F: std::future::Future>(
    fut: F,
    point: &'static AwaitPoint,
    at: &'static Location<'static>,
    fd: RawFd,
) -> wait::Recorded<F> {
    wait::recorded(fut, point, at, fd as u32 as u64)
}

/// `p`, after recording `point` (at `at`, on socket `fd`) as what the
/// current task waits on if `p` is pending.
#[inline]
pub(crate) fn on_pending<T>(
    p: Poll<T>,
    point: &'static AwaitPoint,
    at: &'static Location<'static>,
    fd: RawFd,
) -> Poll<T> {
    if p.is_pending() {
        wait::record(point, Some(at), fd as u32 as u64);
    }
    p
}

/// `fd 7, local 127.0.0.1:5000, peer 127.0.0.1:41234` (at dump time; the
/// descriptor may have been closed, or reused, since it was recorded:
/// then the addresses are missing, or another socket's).
pub(crate) fn describe_fd(detail: u64) -> Option<String> {
    let fd = detail as u32 as RawFd;
    let mut s = format!("fd {fd}");
    if let Some(a) = addr(fd, libc::getsockname) {
        s.push_str(&format!(", local {a}"));
    }
    if let Some(a) = addr(fd, libc::getpeername) {
        s.push_str(&format!(", peer {a}"));
    }
    Some(s)
}

type GetName =
    unsafe extern "C" fn(libc::c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> libc::c_int;

/// `getsockname` / `getpeername` of `fd`, as an IP socket address.
fn addr(fd: RawFd, get: GetName) -> Option<SocketAddr> {
    let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `storage` is writable for `len` bytes; the call writes at
    // most `len` bytes and updates `len`. Any fd value is allowed (a
    // closed one fails with EBADF).
    let rc = unsafe { get(fd, storage.as_mut_ptr().cast(), &mut len) };
    if rc != 0 {
        return None;
    }
    // SAFETY: zero-initialised, then (partly) written by the kernel: every
    // bit pattern is a valid `sockaddr_storage`.
    let storage = unsafe { storage.assume_init() };
    match storage.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a `sockaddr_in`,
            // which fits in (and is less aligned than) `sockaddr_storage`.
            let a = unsafe { &*std::ptr::from_ref(&storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for `sockaddr_in6`.
            let a = unsafe { &*std::ptr::from_ref(&storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}
