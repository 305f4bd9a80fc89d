//! A worker thread (M) running its processor (P, the [`Core`]).
//!
//! # Run loop
//!
//! ```text
//! loop:
//!   every `event_interval` ticks: a non-blocking I/O driver turn
//!   every `global_queue_interval` ticks: injector first (fairness)
//!   else: LIFO slot, local queue, injector (batch)
//!   nothing: a non-blocking I/O driver turn, then look again (skipped
//!            if another worker stalled with work queued: search first)
//!   nothing: search (steal a batch from a random victim, injector,
//!            rescue a stuck victim's LIFO task), spinning a little
//!   nothing: park (idle protocol, see idle.rs)
//! ```
//!
//! # LIFO slot
//!
//! A task woken by the running task goes to the LIFO slot and runs next
//! (message passing stays on one core, hot in cache). At most
//! `max_lifo_polls` LIFO polls run back to back; then the slot's task goes
//! to the back of the local queue so ping-pong cannot starve the queue.
//! Whether a fill wakes another worker is predicted from this worker's
//! recent polls, and the slot is stealable: lifo.rs has the protocol
//! (numbered steps, invariants, why C5 holds).
//!
//! # The core in the thread-local context
//!
//! While a task is polled, the core sits in the worker's thread-local
//! context so that wakes from that task reach the local queue and LIFO
//! slot without locks. The run loop takes it back after each poll.

use std::cell::{Cell, RefCell};
use std::ptr::{self, NonNull};

use super::lifo::{self, Batches, WakePredictor};
use super::observed;
use super::park::Parker;
use super::queue::Local;
use super::{Config, Handle, Notif, Remote};
use crate::loom::atomic::Ordering::*;
use crate::loom::{Arc, FastRand};
use crate::metrics::stats::WorkerStatsRef;
use crate::task::{Notified, RawTask};

/// A processor: the per-worker scheduling state, owned by one thread.
pub(crate) struct Core {
    pub(crate) index: usize,
    pub(crate) run_queue: Local<Notif>,
    tick: u32,
    pub(crate) is_searching: bool,
    pub(crate) rand: FastRand,
    parker: Option<Parker>,
    pub(crate) lifo_watch: Option<super::steal::LifoWatch>,
    /// Whether LIFO fills are offered (lifo.rs, steps 1 and 4).
    predictor: WakePredictor,
    /// True while this worker turns the I/O driver (maintenance or park):
    /// tasks its dispatch wakes go to the local queue without a
    /// notification, which is sent once after the turn if needed.
    in_driver: bool,
    /// This worker's metrics counters (written only here, see stats.rs).
    stats: WorkerStatsRef,
    /// Polls go through `observed::run_observed` (hooks or histograms set).
    observe_polls: bool,
    /// Queued tasks get a schedule-latency stamp (histograms on).
    stamp_queued: bool,
    /// Wake batches (`wake_batch`, lifo.rs steps 8–10): while one is
    /// open, woken tasks go to the local queue without a notification;
    /// once closed, what they queued still holds the queue for a while.
    batches: Batches,
    /// Each other worker's tick when this one last ran dry (indexed by
    /// worker; our own entry unused): [`Core::peer_stalled`].
    #[cfg(not(loom))]
    peer_ticks: Box<[u32]>,
}

impl Core {
    /// `workers`: the runtime's worker count; `observe_polls`: the runtime
    /// has poll hooks or histograms.
    pub(crate) fn new(
        index: usize,
        run_queue: Local<Notif>,
        config: &Config,
        workers: usize,
        stats: WorkerStatsRef,
        observe_polls: bool,
    ) -> Core {
        Core {
            index,
            run_queue,
            tick: 0,
            is_searching: false,
            rand: FastRand::new(0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1)),
            parker: None,
            lifo_watch: None,
            predictor: WakePredictor::new(config, workers == 1),
            in_driver: false,
            batches: Batches::new(workers == 1),
            // No tick is u32::MAX at start-up, so the first look at a
            // peer never counts it stalled.
            #[cfg(not(loom))]
            peer_ticks: vec![u32::MAX; workers].into_boxed_slice(),
            stamp_queued: stats.hist.is_some(),
            observe_polls: observe_polls || stats.hist.is_some(),
            stats,
        }
    }

    /// Drop every queued task's ref (shutdown, after the workers exited).
    pub(crate) fn drain(&self) {
        while let Some(t) = self.run_queue.pop() {
            drop(t);
        }
    }

    fn take_lifo(&self, handle: &Handle) -> Option<Notif> {
        let slot = &handle.remotes[self.index].lifo;
        // Relaxed peek: only the swap transfers ownership.
        if slot.load(Relaxed).is_null() {
            return None;
        }
        // AcqRel: Acquire pairs with the Release half of the swap in
        // `schedule_local` that put the pointer there (the task's header
        // writes are visible to us); Release is not needed by anyone but
        // keeps one ordering for every slot RMW. A stealer's CAS races this
        // swap: exactly one of them gets the pointer (lifo.rs, I1).
        let p = slot.swap(ptr::null_mut(), AcqRel);
        let p = NonNull::new(lifo::untagged(p))?;
        self.stats.lifo_hits.inc();
        // SAFETY: a non-null slot pointer is a Notified's ref (tagged,
        // lifo.rs), now ours.
        Some(unsafe { Notified::from_raw(RawTask::from_raw(p)) })
    }

    fn next_task(&mut self, handle: &Handle) -> Option<Notif> {
        if self.tick % handle.config.global_queue_interval == 0 {
            handle.inject.pop().or_else(|| self.next_local_task(handle))
        } else {
            self.next_local_task(handle).or_else(|| {
                let t = handle.inject.pop_batch_into(&self.run_queue);
                if t.is_some() && !self.run_queue.is_empty() {
                    // We took a batch: let a sleeper help.
                    handle.notify_parked();
                }
                t
            })
        }
    }

    fn next_local_task(&self, handle: &Handle) -> Option<Notif> {
        self.take_lifo(handle).or_else(|| self.run_queue.pop())
    }

    /// Own queue or own LIFO slot non-empty (lifo.rs, I2).
    fn has_local_work(&self, handle: &Handle) -> bool {
        // Relaxed: only this thread fills its own slot (I1), so the load
        // sees our last fill; a stealer emptying it concurrently only
        // makes the answer conservative (we look once more).
        !self.run_queue.is_empty() || !handle.remotes[self.index].lifo.load(Relaxed).is_null()
    }

    /// Whether another worker holds work that someone else may take (a
    /// queued task, or an offered LIFO task) and has not started a poll
    /// since this worker last ran dry: it is stuck in one long poll, or its
    /// thread is off the CPU. Then the run loop searches (and steals that
    /// work) before it turns the I/O driver, whose new events would keep
    /// this worker busy while the stalled worker's tasks, queued earlier,
    /// wait for it. Records every peer's tick for the next look.
    #[cfg(not(loom))]
    fn peer_stalled(&mut self, handle: &Handle) -> bool {
        let mut stalled = false;
        for (v, r) in handle.remotes.iter().enumerate() {
            if v == self.index {
                continue;
            }
            // Relaxed, the tick and `has_takeable_work`'s loads: hints that
            // choose between two paths of the run loop (as in steal.rs);
            // the steal decides ownership.
            let tick = r.ticks.load(Relaxed);
            let seen = std::mem::replace(&mut self.peer_ticks[v], tick);
            stalled |= tick == seen && r.has_takeable_work();
        }
        stalled
    }

    /// Under loom: never (the driver turn comes first, as before). The
    /// answer only orders a driver turn and a search, two paths the models
    /// explore anyway (a turn that queues nothing is followed by the
    /// search); modelling its hint loads would only multiply interleavings.
    #[cfg(loom)]
    fn peer_stalled(&mut self, _handle: &Handle) -> bool {
        false
    }

    /// Lifo.rs step 4b: a poll just ended.
    fn poll_ended(&mut self, slot_was_empty: bool) {
        self.predictor.poll_ended(slot_was_empty);
    }

    /// `remote`: this worker's own (`handle.remotes[self.index]`, looked
    /// up once per `run_task`).
    fn begin_poll(&mut self, remote: &Remote) {
        self.stats.polls.inc();
        self.tick = self.tick.wrapping_add(1);
        // Relaxed: a hint for LIFO rescue (steal.rs); the slot's swap is
        // what transfers the task.
        remote.ticks.store(self.tick, Relaxed);
    }
}

struct WorkerCtx {
    handle: Arc<Handle>,
    core: RefCell<Option<Box<Core>>>,
}

#[cfg(not(loom))]
std::thread_local! {
    static CURRENT: Cell<*const WorkerCtx> = const { Cell::new(ptr::null()) };
}

#[cfg(loom)]
loom::thread_local! {
    static CURRENT: Cell<*const WorkerCtx> = Cell::new(ptr::null());
}

/// Runs a worker until shutdown. Called on the worker thread.
pub(crate) fn run(handle: Arc<Handle>, mut core: Box<Core>) {
    let parker = Parker::new(handle.driver.clone());
    let _ = handle.remotes[core.index].unpark.set(parker.unparker());
    core.parker = Some(parker);

    let ctx = WorkerCtx {
        handle: handle.clone(),
        core: RefCell::new(None),
    };
    struct Reset(*const WorkerCtx);
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(CURRENT.with(|c| c.replace(&ctx)));
    let _stats = crate::metrics::stats::enter_worker(&handle.stats.workers[core.index]);
    quell_cancel::rt_internal::wait::set_worker(core.index);
    handle.stats.awake(core.index, false);

    // A worker that starts with nothing to do parks without searching:
    // workers starting together would otherwise each spin
    // `spin_before_park` rounds over every queue (start-up quadratic in the
    // worker count). It still re-checks every queue after the fence before
    // it sleeps (parker step 2), so a task pushed meanwhile is not stranded.
    let mut fresh = true;
    while !handle.is_shutdown() {
        if core.tick % handle.config.event_interval == 0 {
            // Maintenance: I/O and timers progress even when every worker
            // is busy (nobody parks in the driver then).
            core = maintenance_turn(&ctx, core);
        }
        if let Some(task) = core.next_task(&handle) {
            core = run_task(&ctx, core, task);
            continue;
        }
        // Lifo.rs step 10: whatever a batch held has run or was stolen.
        core.batches.run_dry();
        // Out of local work: give the I/O driver a non-blocking turn first
        // (if no one is parked in it), so I/O that is ready now runs before
        // we spin and park; then look again before searching. Skipped when
        // no source is registered (a syscall that cannot find anything),
        // and when another worker has stalled with work queued: that work
        // came first, so the search below takes it before new events do
        // (under load, a worker whose thread the kernel preempted for a
        // time slice otherwise leaves its queue waiting that long while
        // this one keeps finding new I/O: HTTP p99, docs/benchmarks.md).
        if handle.driver.has_sources() && !core.peer_stalled(&handle) {
            core = maintenance_turn(&ctx, core);
            if let Some(task) = core.next_task(&handle) {
                core = run_task(&ctx, core, task);
                continue;
            }
        }
        // Only if it has polled nothing yet (tick 0): a worker that starts
        // busy searches as usual when it runs out.
        let first = std::mem::take(&mut fresh) && core.tick == 0;
        if !first {
            if let Some(task) = core.search(&handle) {
                core = run_task(&ctx, core, task);
                continue;
            }
        }
        core = park(&ctx, core, first);
    }
    if core.is_searching {
        core.is_searching = false;
        handle.idle.transition_worker_from_searching();
    }
    core.parker = None;
    // Hand the core back for `finish_shutdown` to drain, unless that drain
    // already ran: the runtime was dropped from a task on this worker, which
    // cannot join itself and so exits after the drain. Decided under the
    // `cores` lock, which `finish_shutdown` takes after closing the owned
    // list: seeing it open here means our push precedes its take; seeing it
    // closed means its take may be over, so we drain our own queue (else the
    // queued tasks' refs, and with them the runtime, leak).
    let mut cores = handle.cores.lock().unwrap_or_else(|e| e.into_inner());
    if handle.owned.is_closed() {
        drop(cores);
        core.drain();
    } else {
        cores.push(core);
    }
}

fn run_task(ctx: &WorkerCtx, mut core: Box<Core>, task: Notif) -> Box<Core> {
    let handle = &*ctx.handle;
    if core.is_searching {
        core.is_searching = false;
        if handle.idle.transition_worker_from_searching() {
            // We were the last searcher. A pusher that saw us searching did
            // not wake anyone, so look again (after the fence pairing with
            // the pushers', idle.rs) and wake a sleeper only if work is
            // visible. Waking unconditionally would put a wake syscall on
            // the path of every task that ends a search (wake latency).
            handle.idle.fence_before_recheck();
            if handle.has_work_anywhere() {
                handle.notify_parked();
            }
        }
    }
    let (index, observe) = (core.index, core.observe_polls);
    let remote = &handle.remotes[index];
    core.begin_poll(remote);
    *ctx.core.borrow_mut() = Some(core);
    observed::run(handle, index, observe, task);

    // The core stays in the context between the LIFO polls below (only
    // borrowed for the slot), and is taken back once, at the end.
    let mut lifo_polls = 0;
    loop {
        let task = {
            let mut slot = ctx.core.borrow_mut();
            let core = slot.as_mut().expect("worker core lost during poll");
            // Lifo.rs step 4: the slot comes first; learn from the poll (an
            // empty slot after a fill means someone else took the task).
            let task = core.take_lifo(handle);
            core.poll_ended(task.is_none());
            let Some(task) = task else {
                break;
            };
            if lifo_polls >= handle.config.max_lifo_polls {
                // Bound reached: the LIFO task waits its turn in the queue.
                core.run_queue.push(task);
                break;
            }
            lifo_polls += 1;
            core.begin_poll(remote);
            task
        };
        observed::run(handle, index, observe, task);
    }
    let mut core = ctx
        .core
        .borrow_mut()
        .take()
        .expect("worker core lost during poll");
    if core.batches.active() {
        batch_polls_ended(handle, &mut core, 1 + lifo_polls);
    }
    core
}

/// Lifo.rs step 10: `polls` polls (one and its LIFO successors) ended
/// while a wake batch holds the queue.
#[cold]
#[inline(never)]
fn batch_polls_ended(handle: &Handle, core: &mut Core, polls: u32) {
    let len = core.run_queue.len();
    if core.batches.polls_ended(&mut core.predictor, len, polls) {
        handle.notify_parked();
    }
}

/// A non-blocking turn of the I/O driver with the core in the context, so
/// tasks its events wake go to our own queue.
fn maintenance_turn(ctx: &WorkerCtx, mut core: Box<Core>) -> Box<Core> {
    core.in_driver = true;
    *ctx.core.borrow_mut() = Some(core);
    ctx.handle.driver.try_turn();
    let mut core = ctx
        .core
        .borrow_mut()
        .take()
        .expect("worker core lost during driver turn");
    core.in_driver = false;
    notify_after_turn(&ctx.handle, &core);
    core
}

/// After a driver turn queued tasks locally without notifying: we run the
/// first ourselves; if there are more, wake a sleeper to help (C5).
fn notify_after_turn(handle: &Handle, core: &Core) {
    if core.run_queue.len() > 1 {
        handle.notify_parked();
    }
}

/// `recheck`: re-check every queue after parking even if we were not the
/// last searcher (a fresh worker that skipped its search, see `run`).
fn park(ctx: &WorkerCtx, mut core: Box<Core>, recheck: bool) -> Box<Core> {
    let handle = &*ctx.handle;
    if core.has_local_work(handle) {
        return core;
    }
    let last = handle
        .idle
        .transition_worker_to_parked(core.index, core.is_searching);
    core.is_searching = false;
    if last || recheck {
        // Parker step 2 (idle.rs): re-check every queue after the fence.
        handle.idle.fence_before_recheck();
        if handle.has_work_anywhere() {
            handle.notify_parked();
        }
    }
    // Shutdown re-check, after we are on the sleeper list. `run`'s check
    // may have read a stale `false` (the flag store and our unparker's
    // publication are a store/load pair on each side, with no SeqCst fence).
    // If `begin_shutdown`'s sleeper-list critical section came before ours,
    // this Acquire load sees the flag; if after, it found us on the list and
    // sees our unparker, published before ours, and unparks us. Without this
    // check the first case parks forever (found by `loom_park_push_two_workers`).
    if handle.is_shutdown() {
        return core;
    }
    loop {
        // While we park, the core sits in the context without its parker:
        // tasks that the I/O driver's dispatch (on this thread) wakes are
        // queued locally, without waking another worker (`schedule_local`
        // does not notify while the parker is out) — we run them ourselves
        // as soon as the park returns.
        let mut parker = core.parker.take().expect("parker");
        core.in_driver = true;
        let index = core.index;
        *ctx.core.borrow_mut() = Some(core);
        handle.stats.parking(index);
        parker.park(None);
        handle.stats.awake(index, true);
        core = ctx
            .core
            .borrow_mut()
            .take()
            .expect("worker core lost during park");
        core.in_driver = false;
        core.parker = Some(parker);
        if handle.is_shutdown() {
            break;
        }
        if core.has_local_work(handle) {
            // The driver queued work here. Leave the sleeper list (unless a
            // pusher already took us off it and counted us searching).
            if !handle.idle.unpark_worker_by_id(core.index) {
                core.is_searching = true;
            }
            notify_after_turn(handle, &core);
            break;
        }
        if !handle.idle.is_parked(core.index) {
            // Woken by a pusher: it counted us as searching.
            core.is_searching = true;
            break;
        }
        // Still on the sleeper list: a spurious wakeup, or the driver
        // returned after dispatching I/O / timers. If that queued work,
        // get up ourselves rather than leave it to someone else.
        if handle.has_work_anywhere() && handle.idle.unpark_worker_by_id(core.index) {
            break;
        }
    }
    core
}

/// The wake-batch hook (`quell_cancel`'s `waiters::BatchHook`): opens
/// (`true`) or closes (`false`) a batch on the worker running on this
/// thread, if its core is at hand (a task's poll or a driver turn);
/// returns whether it opened one. While a batch is open, woken tasks are
/// queued locally, in wake order, without a notification (neither the
/// LIFO slot nor its notification: a burst of wakes is not a message for
/// one task to run next). Closing the last open batch that queued
/// anything is lifo.rs step 8: an announced batch runs the pusher steps
/// 2–3 of the idle protocol once (`notify_parked`: fence, load,
/// wake a sleeper if no one searches), for every task it queued: each push
/// came before that fence, so the usual pairing with the last searcher's
/// re-check (idle.rs) covers them all, and until then this worker is awake
/// (it is running the batch). A quiet one notifies no one (steps 9–10
/// follow, in `schedule_held` and `batch_polls_ended`).
pub(crate) fn wake_batch(open: bool) -> bool {
    CURRENT.with(|c| {
        let p = c.get();
        if p.is_null() {
            return false;
        }
        // SAFETY: a non-null CURRENT points at the WorkerCtx on the worker
        // thread's stack, valid while `run` runs (it resets CURRENT on exit).
        let ctx = unsafe { &*p };
        let Ok(mut slot) = ctx.core.try_borrow_mut() else {
            return false;
        };
        let Some(core) = slot.as_mut() else {
            return false;
        };
        if open {
            return core.batches.open();
        }
        // Only a batch this hook opened is closed, and the core cannot
        // leave the context in between (the wakes run synchronously).
        let ahead = || {
            // Lifo.rs step 8: the polls before the batch's last task runs
            // are this one, the LIFO slot's and the local queue's.
            let slot = &ctx.handle.remotes[core.index].lifo;
            // Relaxed: only this thread fills its own slot (lifo.rs, I1);
            // a count, not a transfer.
            let lifo = u32::from(!slot.load(Relaxed).is_null());
            let queued = u32::try_from(core.run_queue.len()).unwrap_or(u32::MAX);
            queued.saturating_add(1 + lifo)
        };
        if core.batches.close(&core.predictor, ahead) && ctx.handle.notify_parked() {
            core.batches.announced(core.run_queue.len());
        }
        true
    })
}

/// How a task came to be queued, which decides where it goes on its
/// worker.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// Woken by another task: the LIFO slot (it runs next).
    Woken,
    /// Woke itself (a yield, a budget spent): the back of the local queue.
    Yielded,
    /// Just spawned: the LIFO slot if it is empty, else the back of the
    /// local queue. The first spawn of a poll runs next, as a woken task
    /// does (a chain of spawns, a connection handed to its task: the
    /// spawner's poll usually ends soon and the new task runs warm on this
    /// worker). The fill is always *offered* (lifo.rs step 1) when there is
    /// another worker, whatever the predictor says: the pusher's
    /// notification runs as for a queue push, and a searcher takes the task
    /// on its second sighting if the spawner's poll runs on. A deferred
    /// spawn would strand the child of a spawner that blocks its worker
    /// until the child has run, which a queue push never did (loom:
    /// `loom_lifo_spawn_is_offered_while_deferring`). Later spawns of the
    /// same poll keep their order behind it, each one notifying as any
    /// queue push does, so a burst spreads over the workers instead of
    /// displacing the slot's task into the queue once per spawn.
    Spawned,
}

/// Queue `task` from wherever we are: the local queue (or LIFO slot) if
/// this is one of `handle`'s workers with its core at hand, else the
/// injector; `kind` says where on the worker.
pub(crate) fn schedule(handle: &Arc<Handle>, task: Notif, kind: Kind) {
    // Only the pointer is read inside `with` (a small closure, inlined):
    // the rest runs outside it, without the closure's argument spills.
    let p = CURRENT.with(Cell::get);
    if !p.is_null() {
        // SAFETY: a non-null CURRENT points at the WorkerCtx on the worker
        // thread's stack, valid while `run` runs (it resets CURRENT on exit).
        let ctx = unsafe { &*p };
        if Arc::ptr_eq(&ctx.handle, handle) {
            if let Ok(mut slot) = ctx.core.try_borrow_mut() {
                if let Some(core) = slot.as_mut() {
                    schedule_local(handle, core, task, kind);
                    return;
                }
            }
        }
    }
    handle.push_remote(task);
}

fn schedule_local(handle: &Handle, core: &mut Core, task: Notif, kind: Kind) {
    core.stats.local_schedules.inc();
    if core.stamp_queued {
        handle.stamp_queued(task.header());
    }
    if core.in_driver || core.batches.active() {
        if !core.in_driver && !core.batches.is_open() {
            schedule_held(handle, core, task, kind);
            return;
        }
        // Woken by our own driver turn: queue it; `notify_after_turn`
        // decides once, after the turn, whether anyone else is needed. Or
        // one of a burst of wakes (a cancel reaching several tasks): queue
        // it in wake order; `wake_batch` notifies once when the batch ends.
        // (One push site for both: a second one changes how the queue's
        // push is inlined, +12 instructions per spawn.)
        if !core.in_driver {
            core.batches.queued();
        }
        core.run_queue.push(task);
        return;
    }
    if to_queue(handle, core, kind) {
        core.run_queue.push(task);
        // Pusher steps 2–3 of the idle protocol (C5): a queued task is
        // work another worker can take.
        handle.notify_parked();
        return;
    }
    fill_lifo(handle, core, task, kind);
}

/// Whether a task scheduled as `kind` goes to the back of the local queue
/// rather than the LIFO slot.
#[inline(always)]
fn to_queue(handle: &Handle, core: &Core, kind: Kind) -> bool {
    !handle.config.lifo_slot
        || match kind {
            Kind::Woken => false,
            Kind::Yielded => true,
            // Relaxed: only this thread fills its own slot (lifo.rs, I1); a
            // stealer emptying it meanwhile only sends this task to the
            // queue.
            Kind::Spawned => !handle.remotes[core.index].lifo.load(Relaxed).is_null(),
        }
}

/// `schedule_local` while a closed wake batch holds the queue (lifo.rs
/// steps 9–10): behind the batch, with no notification while it is quiet.
#[cold]
#[inline(never)]
fn schedule_held(handle: &Handle, core: &mut Core, task: Notif, kind: Kind) {
    if core.batches.behind() || to_queue(handle, core, kind) {
        core.run_queue.push(task);
        if !core.batches.quiet() {
            // Pusher steps 2–3 of the idle protocol (C5).
            handle.notify_parked();
        }
        return;
    }
    fill_lifo(handle, core, task, kind);
}

/// Lifo.rs steps 1–3, 4a: `task` into this worker's LIFO slot. A spawned
/// task is always offered (see [`Kind::Spawned`]), except by the only worker
/// of a runtime (no one else could take it).
#[inline(always)]
fn fill_lifo(handle: &Handle, core: &mut Core, task: Notif, kind: Kind) {
    // Lifo.rs steps 1–3.
    let offer =
        (matches!(kind, Kind::Spawned) && handle.num_workers() > 1) || core.predictor.offer();
    let p = lifo::tagged(task.into_raw().header_ptr().as_ptr(), offer);
    let slot = &handle.remotes[core.index].lifo;
    // Relaxed: only we fill the slot (lifo.rs, I1), so if it is empty now
    // it stays empty until our store; a stealer only ever empties it.
    let prev = if slot.load(Relaxed).is_null() {
        // Release: publishes the Notified to whoever takes it (us in
        // `take_lifo`, or a stealer's CAS in `rescue_lifo`, both Acquire).
        // A plain store, not a swap: the common fill pays no RMW.
        slot.store(p, Release);
        ptr::null_mut()
    } else {
        // AcqRel: Release as above; Acquire pairs with the Release of the
        // fill that put the previous pointer there (we take its ref), and
        // the swap races a stealer's CAS for it (exactly one gets it).
        slot.swap(p, AcqRel)
    };
    let displaced = NonNull::new(lifo::untagged(prev));
    if let Some(prev) = displaced {
        // SAFETY: the previous slot content was a Notified's ref.
        core.run_queue
            .push(unsafe { Notified::from_raw(RawTask::from_raw(prev)) });
    }
    let could_wake = if displaced.is_some() || offer {
        // Pusher steps 2–3 of the idle protocol (lifo.rs, I3).
        handle.notify_parked()
    } else {
        // Deferred: we run it when this poll ends (lifo.rs, step 4); the
        // hint only decides whether the fill is timed.
        handle.idle.wakeup_needed_hint()
    };

    // Step 4a: stamp the fill if the prediction mattered (a worker could
    // have been woken). After the notify: its futex wake must not count as
    // the poll running on (that would keep a worker offering on its own
    // syscalls); decided on the state seen *before* it (a worker it woke
    // counts as searching).
    core.predictor.filled(could_wake);
}
