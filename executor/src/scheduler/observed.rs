//! One poll of a task with what observes it: the before/after-poll hooks
//! and, when enabled, the poll-time and schedule-latency histograms. Kept
//! out of the run loop (worker.rs) so that the loop reads as scheduling
//! only. (The poll counter is bumped by the core as the poll begins.)

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use super::{Handle, Notif};
use crate::metrics::stats::WorkerStats;
use crate::task::header::Header;

/// Polls `task` on worker `index` (the caller's own worker); `observe`:
/// hooks or histograms are set (the core's flag, read while in cache).
#[inline]
pub(super) fn run(handle: &Handle, index: usize, observe: bool, task: Notif) {
    if observe {
        run_observed(handle, &handle.stats.workers[index], task);
    } else {
        task.run();
    }
}

/// A poll with hooks or histograms around it (out of line: a runtime
/// without them pays only the check in `run`).
#[inline(never)]
fn run_observed(handle: &Handle, w: &WorkerStats, task: Notif) {
    let id = handle.hooks.as_ref().map(|h| {
        let id = task.header().id;
        h.before_poll(id);
        id
    });
    match &w.hist {
        None => task.run(),
        Some(hist) => {
            let start = Instant::now();
            // SAFETY: the `Notified` holds a ref: the task is live.
            let trailer = unsafe { Header::trailer(std::ptr::NonNull::from(task.header())) };
            // Relaxed: see `Handle::stamp_queued` (the queue ordered it).
            let stamp = trailer.scheduled_at.swap(0, Relaxed);
            if stamp != 0 {
                hist.schedule_latency
                    .record(handle.stats.since_stamp(stamp, start));
            }
            task.run();
            hist.poll_time.record(start.elapsed());
        }
    }
    if let (Some(h), Some(id)) = (&handle.hooks, id) {
        h.after_poll(id);
    }
}
