//! Many tasks waiting on one socket direction (more than any fixed bound of
//! the registration's waiter list) stay parked while idle: no eviction
//! cycle in which each registration wakes the others, who re-register. Runs
//! alone in its own binary, so the process CPU time it reads is the
//! runtime's.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use quell::net::UdpSocket;
use support::*;

const RECEIVERS: usize = 2000;

/// User + system CPU time of the whole process.
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes a plain struct on our stack.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut ru), 0);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[test]
fn two_thousand_idle_receivers_on_one_socket_use_no_cpu() {
    let _dog = watchdog("many udp receivers");
    let rt = rt(2);
    let sock = Arc::new(rt.block_on(UdpSocket::bind("127.0.0.1:0")).unwrap());
    let addr = sock.local_addr().unwrap();
    let started = Arc::new(AtomicUsize::new(0));
    let (got_tx, got_rx) = mpsc::channel();
    for _ in 0..RECEIVERS {
        let (s, started, got) = (sock.clone(), started.clone(), got_tx.clone());
        rt.spawn(async move {
            started.fetch_add(1, SeqCst);
            let mut buf = [0; 8];
            let (n, _) = s.recv_from(&mut buf).await.unwrap();
            got.send(buf[..n].to_vec()).unwrap();
        });
    }
    wait_until(|| started.load(SeqCst) == RECEIVERS);
    // Measure idle windows of 300 ms. The first may still see the
    // registrations settle (a few rounds of spurious wakes while the list's
    // bound grows past the receivers' number); an eviction cycle never
    // settles, so it fails every window. Generous: only a spin fails this
    // (a spin uses about the whole window on each of the two workers).
    let mut windows = Vec::new();
    let idle = (0..10).any(|_| {
        let (cpu0, wall0) = (cpu_time(), Instant::now());
        std::thread::sleep(Duration::from_millis(300));
        let (cpu, wall) = (cpu_time() - cpu0, wall0.elapsed());
        windows.push((cpu, wall));
        cpu < wall / 4
    });
    assert!(
        idle,
        "idle receivers kept burning CPU: (cpu, wall) {windows:?}"
    );
    assert!(sock.has_recv_waiter());

    // Every receiver still gets a datagram (in batches, so the socket's
    // receive buffer cannot overflow).
    let client = rt.block_on(UdpSocket::bind("127.0.0.1:0")).unwrap();
    let mut seen = vec![false; RECEIVERS];
    for batch in 0..RECEIVERS / 100 {
        for i in batch * 100..(batch + 1) * 100 {
            let msg = (i as u16).to_le_bytes();
            rt.block_on(client.send_to(&msg, addr)).unwrap();
        }
        for _ in 0..100 {
            let m = recv(&got_rx);
            let i = u16::from_le_bytes([m[0], m[1]]) as usize;
            assert!(!seen[i], "datagram {i} received twice");
            seen[i] = true;
        }
    }
    assert!(seen.iter().all(|&s| s));
    assert!(!sock.has_recv_waiter(), "every receiver is done");
}
