//! A worker that runs dry while another worker is stuck with work queued
//! takes that work before it turns the I/O driver again
//! (executor/src/scheduler/worker.rs, run loop: `Core::peer_stalled`).
//!
//! One worker streams I/O: task R reads a Unix socket that a plain thread
//! writes into without pause, so each non-blocking driver turn finds the
//! socket readable again and R runs again. The other worker is stuck:
//! task B spawns task C (into B's worker's LIFO slot, offered) and then
//! blocks its thread until C has run. Only the streaming worker can run C,
//! and only when it searches instead of turning the driver. The test
//! counts the driver turns (runtime metrics) between C's spawn and C's
//! poll: 0 to 2 here, where a worker that took new I/O first each time it
//! ran dry turned the driver for as long as the writer kept up (19 to
//! 4 530 turns in the rounds where it happened, in each of nine runs of 20
//! rounds; in the other rounds that build searched early anyway, the
//! stream having paused or the driver being held elsewhere). The wait has
//! a generous bound that only catches a hang.

mod support;

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use support::HANG;
/// Bytes R must have read before B is spawned (the stream is running).
const WARM: u64 = 4096;
/// Driver turns allowed between C's spawn and its poll. The stalled check
/// needs two looks at the stuck worker (the first records its tick), so
/// one turn in between, plus a maintenance turn or two.
const MAX_TURNS: u64 = 8;
const ROUNDS: usize = 20;
/// R's work per read; far longer than one write of the writer thread.
const WORK: Duration = Duration::from_micros(20);

#[test]
fn a_dry_worker_takes_a_stalled_workers_task_before_more_io() {
    let rt = support::rt(2);
    for round in 0..ROUNDS {
        let (mut tx_end, rx_end) = std::os::unix::net::UnixStream::pair().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let read = Arc::new(AtomicU64::new(0));

        let writer = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                // One byte per write: a new readiness edge every µs or so.
                while !stop.load(Ordering::Relaxed) {
                    if tx_end.write(&[1]).is_err() {
                        break;
                    }
                }
                // Dropping `tx_end` ends R's stream (EOF).
            })
        };
        let reader = {
            let read = read.clone();
            rt.spawn(async move {
                let mut s = quell::net::UnixStream::from_std(rx_end).unwrap();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) => break,
                        Ok(n) => {
                            read.fetch_add(n as u64, Ordering::Relaxed);
                            // Work per read (a request being handled):
                            // the writer has written again by the time R
                            // is done, so the next driver turn finds the
                            // socket readable.
                            let t = Instant::now();
                            while t.elapsed() < WORK {
                                std::hint::spin_loop();
                            }
                        }
                        Err(e) => panic!("read: {e}"),
                    }
                }
            })
        };
        // The stream is running.
        support::wait_until(|| read.load(Ordering::Relaxed) >= WARM);

        let (done_tx, done_rx) = mpsc::channel::<Result<u64, String>>();
        let blocker = rt.spawn(async move {
            let handle = quell::Handle::current();
            let (ran_tx, ran_rx) = mpsc::channel::<u64>();
            let turns_at_spawn = handle.metrics().io_driver_turns;
            let h = handle.clone();
            drop(quell::spawn(async move {
                let _ = ran_tx.send(h.metrics().io_driver_turns);
            }));
            // Block this worker until C has run elsewhere.
            let r = match ran_rx.recv_timeout(HANG) {
                Ok(turns) => Ok(turns - turns_at_spawn),
                Err(_) => Err(format!("C did not run within {HANG:?}")),
            };
            let _ = done_tx.send(r);
        });
        let turns = done_rx
            .recv_timeout(HANG * 2)
            .expect("B did not report")
            .unwrap_or_else(|e| panic!("round {round}: {e}"));

        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        rt.block_on(blocker).unwrap();
        rt.block_on(reader).unwrap();
        assert!(
            turns <= MAX_TURNS,
            "round {round}: the streaming worker turned the I/O driver {turns} times \
             (at most {MAX_TURNS} expected) before it took the stuck worker's task"
        );
    }
}
