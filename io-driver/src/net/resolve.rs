//! Name resolution off the async workers: [`ToSocketAddrs`] (what
//! `connect` / `bind` / [`lookup_host`] accept) and the wait for a
//! lookup, a cancel point.
//!
//! An address that is already an IP literal (`SocketAddr`, `(IpAddr,
//! u16)`, `"127.0.0.1:80"`, `("::1", 80)`) is parsed in place and never
//! touches the resolver. A host name is looked up with the system
//! resolver (`getaddrinfo`, blocking) on another thread: the executor's
//! blocking pool when a quell runtime is current (it registers itself
//! through `context::set_blocking_hook`), else a thread spawned for that
//! lookup. The task waits for the answer without blocking its worker; if
//! it is cancelled meanwhile, the wait answers `Cancelled` at once and the
//! lookup's result, when it comes, is dropped (a running `getaddrinfo`
//! cannot be interrupted, so it finishes on its thread).

use std::future::poll_fn;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::task::{Context, Poll, Waker};

use quell_cancel::rt_internal::waiters;

use crate::loom::{Arc, Mutex};

/// Something that names one or more socket addresses: a `SocketAddr` (or
/// V4/V6), an `(IpAddr, u16)` (or `Ipv4Addr`/`Ipv6Addr`), a slice or
/// `Vec` of `SocketAddr`s, a `"host:port"` `str`/`String`, or a
/// `(host, port)` pair, and references to any of these.
///
/// Like `std::net::ToSocketAddrs`, but a host name is resolved off the
/// async workers, and the wait for it is a cancel point (see
/// [`lookup_host`]). Sealed: the conversion is internal.
pub trait ToSocketAddrs: sealed::Sealed {}

pub(crate) mod sealed {
    /// The conversion behind [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait Sealed {
        /// The addresses, or the query to hand to the resolver.
        fn to_addrs(&self) -> super::Addrs;
    }
}

/// What an address argument turned into.
pub enum Addrs {
    /// IP literals: no lookup.
    Ready(Vec<SocketAddr>),
    /// A host name to look up (`"host:port"`).
    HostPort(String),
    /// A host name to look up, with its port.
    Host(String, u16),
}

macro_rules! literal {
    ($($ty:ty => |$a:ident| $e:expr;)*) => {$(
        impl ToSocketAddrs for $ty {}
        impl sealed::Sealed for $ty {
            fn to_addrs(&self) -> Addrs {
                let $a = self;
                Addrs::Ready($e)
            }
        }
    )*};
}

literal! {
    SocketAddr => |a| vec![*a];
    SocketAddrV4 => |a| vec![SocketAddr::V4(*a)];
    SocketAddrV6 => |a| vec![SocketAddr::V6(*a)];
    (IpAddr, u16) => |a| vec![SocketAddr::new(a.0, a.1)];
    (Ipv4Addr, u16) => |a| vec![SocketAddr::new(a.0.into(), a.1)];
    (Ipv6Addr, u16) => |a| vec![SocketAddr::new(a.0.into(), a.1)];
    [SocketAddr] => |a| a.to_vec();
    Vec<SocketAddr> => |a| a.clone();
}

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn to_addrs(&self) -> Addrs {
        match self.parse::<SocketAddr>() {
            Ok(a) => Addrs::Ready(vec![a]),
            Err(_) => Addrs::HostPort(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn to_addrs(&self) -> Addrs {
        self.as_str().to_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn to_addrs(&self) -> Addrs {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Addrs::Ready(vec![SocketAddr::new(ip, self.1)]),
            Err(_) => Addrs::Host(self.0.to_owned(), self.1),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn to_addrs(&self) -> Addrs {
        (self.0.as_str(), self.1).to_addrs()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> sealed::Sealed for &T {
    fn to_addrs(&self) -> Addrs {
        (**self).to_addrs()
    }
}

/// Resolves `host` to its socket addresses.
///
/// IP literals are returned as they are, without a lookup. A host name is
/// resolved by the system resolver on the runtime's blocking pool (or on
/// a thread of its own outside a quell runtime), never on the calling
/// worker.
///
/// # Errors
///
/// `Cancelled` if the task is cancelled before the answer came (the
/// lookup finishes on its thread and its result is dropped); the
/// resolver's error; `InvalidInput` if nothing was found.
///
/// # Example
///
/// ```
/// use std::net::SocketAddr;
/// # use std::future::Future;
/// # use std::task::{Context, Poll, Waker};
/// # fn block_on<F: Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = Context::from_waker(Waker::noop());
/// #     loop {
/// #         if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
/// #         std::thread::yield_now();
/// #     }
/// # }
/// block_on(async {
///     let literal: Vec<SocketAddr> = quell_io_driver::net::lookup_host("127.0.0.1:80").await?.collect();
///     assert_eq!(literal, ["127.0.0.1:80".parse::<SocketAddr>().unwrap()]);
///     let local = quell_io_driver::net::lookup_host(("localhost", 80)).await?;
///     assert!(local.into_iter().all(|a| a.ip().is_loopback() && a.port() == 80));
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn lookup_host(
    host: impl ToSocketAddrs,
) -> impl std::future::Future<Output = io::Result<std::vec::IntoIter<SocketAddr>>> {
    let fut = async move { Ok(resolve(host).await?.into_iter()) };
    crate::net::waiting::recorded_plain(
        fut,
        &crate::net::waiting::LOOKUP_HOST,
        std::panic::Location::caller(),
    )
}

/// The addresses `addr` names, looked up off this thread if it is a host
/// name; never empty.
pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs = match addr.to_addrs() {
        Addrs::Ready(v) => v,
        query => lookup(query).await?,
    };
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        ));
    }
    Ok(addrs)
}

/// Runs the blocking lookup of `query` elsewhere and waits for it.
async fn lookup(query: Addrs) -> io::Result<Vec<SocketAddr>> {
    // Cancel first: an already-cancelled task starts no lookup at all.
    if let Some(c) = quell_cancel::rt_internal::observed() {
        return Err(c.into());
    }
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        closed: false,
        waker: None,
    }));
    let reply = Reply {
        slot: slot.clone(),
        result: None,
    };
    let job: crate::context::BlockingJob = Box::new(move || {
        let mut reply = reply;
        reply.result = Some(query.lookup());
    });
    if let Err(job) = crate::context::run_blocking(job) {
        // No runtime here: a thread for this lookup. If it cannot be
        // spawned, `job` is dropped unrun and we report why.
        std::thread::Builder::new()
            .name("quell-resolve".into())
            .spawn(job)?;
    }
    poll_fn(|cx| poll_reply(&slot, cx)).await
}

impl Addrs {
    /// The blocking system lookup.
    fn lookup(self) -> io::Result<Vec<SocketAddr>> {
        use std::net::ToSocketAddrs as _;
        Ok(match self {
            Addrs::Ready(v) => v,
            Addrs::HostPort(s) => s.to_socket_addrs()?.collect(),
            Addrs::Host(h, p) => (h.as_str(), p).to_socket_addrs()?.collect(),
        })
    }
}

/// Where the lookup thread leaves its answer.
struct Slot {
    result: Option<io::Result<Vec<SocketAddr>>>,
    /// The job is over (ran, or was dropped unrun).
    closed: bool,
    waker: Option<Waker>,
}

/// The lookup job's end of the slot: publishes `result` (or, if the job
/// was dropped unrun, only `closed`) and wakes the waiter, on drop.
struct Reply {
    slot: Arc<Mutex<Slot>>,
    result: Option<io::Result<Vec<SocketAddr>>>,
}

impl Drop for Reply {
    fn drop(&mut self) {
        let waker = {
            let mut s = waiters::lock(&self.slot);
            s.result = self.result.take();
            s.closed = true;
            s.waker.take()
        };
        // Woken unlocked (user code).
        if let Some(w) = waker {
            waiters::wake(w);
        }
    }
}

/// The waiting task's poll: `Cancelled` first (cancel first, nothing
/// taken: the answer is left to be dropped with the slot), then the
/// answer, else park.
fn poll_reply(slot: &Mutex<Slot>, cx: &mut Context<'_>) -> Poll<io::Result<Vec<SocketAddr>>> {
    if let Some(c) = quell_cancel::rt_internal::observed() {
        // C7: our waker leaves the slot before we answer.
        let old = waiters::lock(slot).waker.take();
        drop(old);
        return Poll::Ready(Err(c.into()));
    }
    let mut s = waiters::lock(slot);
    if s.closed {
        return Poll::Ready(s.result.take().unwrap_or_else(|| {
            Err(io::Error::other(
                "the name lookup was dropped before it ran (the runtime is shutting down)",
            ))
        }));
    }
    if !s.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
        // Cloned under the lock: the slot is consistent here and
        // `waiters::lock` tolerates poisoning; the old waker drops after
        // the unlock.
        let old = s.waker.replace(cx.waker().clone());
        drop(s);
        drop(old);
    }
    Poll::Pending
}

/// Tries each address in turn; returns the first success, else the last
/// error. A cancellation ends the search at once.
pub(crate) async fn each_addr<T, F, Fut>(addrs: Vec<SocketAddr>, mut f: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in addrs {
        match f(a).await {
            Ok(v) => return Ok(v),
            Err(e) if quell_cancel::Cancelled::is_cancelled_io(&e) => return Err(e),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    use std::thread::Thread;

    use super::*;
    use crate::context::BlockingJob;

    /// Jobs handed to the hook (this is the only test binary's hook).
    static CALLS: AtomicUsize = AtomicUsize::new(0);

    fn counting_hook(job: BlockingJob) -> Result<(), BlockingJob> {
        CALLS.fetch_add(1, SeqCst);
        std::thread::spawn(job);
        Ok(())
    }

    struct Unpark(Thread);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    /// Polls `f` on this thread, parking it between polls.
    fn block_on<F: Future>(f: F) -> F::Output {
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    #[test]
    fn host_names_go_through_the_blocking_hook_and_literals_never_do() {
        crate::context::set_blocking_hook(counting_hook);
        let a: Vec<_> = block_on(lookup_host("127.0.0.1:5")).unwrap().collect();
        assert_eq!(a, ["127.0.0.1:5".parse::<SocketAddr>().unwrap()]);
        let b = block_on(resolve(("::1", 5))).unwrap();
        assert_eq!(b, ["[::1]:5".parse::<SocketAddr>().unwrap()]);
        let c = block_on(resolve(SocketAddr::from(([10, 0, 0, 1], 5)))).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(CALLS.load(SeqCst), 0, "a literal touched the resolver");

        let d: Vec<_> = block_on(lookup_host("localhost:5")).unwrap().collect();
        assert!(!d.is_empty() && d.iter().all(|a| a.ip().is_loopback()));
        assert_eq!(CALLS.load(SeqCst), 1, "the host name went through the hook");
    }
}
