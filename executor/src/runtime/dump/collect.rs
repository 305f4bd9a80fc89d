//! Collecting a [`Dump`]: the owned-task lists are walked in chunks (a
//! shard's lock is held only while refs of the next chunk are taken), each
//! task is read through the ref the walk holds, and the scopes its tasks
//! run under are read once each, walking up to their roots: a task's
//! cancel state and deadline are its scope's as read then (one node lock
//! per scope per dump, not one per task).

use std::collections::HashMap;
use std::time::Instant;

use quell_cancel::rt_internal::dump as cdump;
use quell_cancel::rt_internal::wait;
use quell_cancel::CancelToken;

use super::{CancelState, Dump, ScopeDump, ScopeId, TaskDump, TaskKind, TaskState, Wait};
use crate::runtime::flavor::Scheduler;
use crate::runtime::handle::Handle;
use crate::task::{header, RawTask};

/// Tasks whose refs one lock hold of a shard takes.
const CHUNK: usize = 256;

/// Builds the dump of `handle`'s runtime.
pub(crate) fn collect(handle: &Handle) -> Dump {
    let taken_at = Instant::now();
    wait::tick(taken_at);
    let inner = &handle.inner;
    let mut c = Collector {
        now: taken_at,
        tasks: Vec::with_capacity(inner.sched.num_tasks()),
        scopes: Vec::new(),
        seen: HashMap::new(),
    };
    match &inner.sched {
        Scheduler::MultiThread(s) => s.owned.for_each_chunked(CHUNK, |t| c.task(t, None)),
        Scheduler::CurrentThread { shared, .. } => {
            shared.owned.for_each_chunked(CHUNK, |t| c.task(t, None))
        }
    }
    c.tasks.sort_by_key(|t| t.id);
    inner
        .blocking
        .for_each(|t, started, interruptible| c.task(t, Some((started, interruptible))));
    let root = cdump::token_id(&inner.root);
    for s in &mut c.scopes {
        s.is_runtime_root = s.id.0 == root;
    }
    Dump {
        taken_at,
        took: taken_at.elapsed(),
        workers: inner.sched.num_workers(),
        tasks: c.tasks,
        scopes: c.scopes,
    }
}

struct Collector {
    now: Instant,
    tasks: Vec<TaskDump>,
    scopes: Vec<ScopeDump>,
    /// Scope id → its index in `scopes`.
    seen: HashMap<usize, usize>,
}

impl Collector {
    /// Reads one task (`blocking`: when its closure started, whether it is
    /// interruptible). The caller holds a ref of `t`.
    fn task(&mut self, t: &RawTask, blocking: Option<(Option<Instant>, bool)>) {
        let h = t.header();
        // SAFETY: the caller's ref keeps the task allocation live.
        let trailer = unsafe { header::Header::trailer(t.header_ptr()) };
        let mut token: Option<CancelToken> = None;
        let mut noted: Option<CancelToken> = None;
        t.with_scope(&mut |s| {
            token = s.token().cloned();
            noted = s.scope.noted();
        });
        let snap = h.state.load();
        let waiting = trailer.wait.read(self.now);
        let (kind, state, state_for) = match blocking {
            Some((started, interruptible)) => (
                TaskKind::Blocking { interruptible },
                match started {
                    Some(_) => TaskState::Running { worker: None },
                    None => TaskState::Queued,
                },
                started.map(|s| self.now.saturating_duration_since(s)),
            ),
            None => {
                let state = if snap.is_complete() {
                    TaskState::Complete
                } else if snap.is_running() {
                    TaskState::Running {
                        worker: waiting.worker,
                    }
                } else if snap.is_notified() {
                    TaskState::Queued
                } else {
                    TaskState::Parked
                };
                // Running and parked since the last poll's start (a
                // parked task's poll was short); a queued task's wait in
                // the queue is not stamped.
                let state_for = match state {
                    TaskState::Running { .. } | TaskState::Parked => waiting.since,
                    _ => None,
                };
                (TaskKind::Async, state, state_for)
            }
        };
        let scope = token.as_ref().map(|t| self.scope(t));
        let (mut cancel, deadline) = match scope {
            Some(s) => {
                let s = &self.scopes[self.seen[&s.0]];
                (s.cancel.clone(), s.deadline)
            }
            None => (CancelState::NotCancelled, None),
        };
        // A cancelled deadline scope the task is still inside counts as
        // the task's cancel when its own scope is not cancelled.
        if !cancel.is_cancelled() {
            if let Some(n) = noted.as_ref().filter(|n| n.is_cancelled()) {
                let n = self.scope(n);
                cancel = self.scopes[self.seen[&n.0]].cancel.clone();
            }
        }
        self.tasks.push(TaskDump {
            id: h.id,
            name: trailer.name.as_deref().map(str::to_owned),
            spawned_at: trailer.location,
            parent: trailer.parent(),
            kind,
            state,
            state_for,
            wait: match (state, waiting.point) {
                (TaskState::Parked | TaskState::Queued, Some((p, at, detail))) => Some(Wait {
                    what: p.what,
                    location: at,
                    detail: p.describe.and_then(|d| d(detail)),
                }),
                (TaskState::Parked, None) if waiting.polled => Some(Wait {
                    what: Wait::FOREIGN,
                    location: None,
                    detail: None,
                }),
                _ => None,
            },
            cancel,
            deadline,
            scope,
            aborted_by: trailer.aborted_by(),
            taken_at: self.now,
        });
    }

    /// Records `token`'s node and its unseen ancestors; returns its id.
    fn scope(&mut self, token: &CancelToken) -> ScopeId {
        let mut emitted = Vec::new();
        let seen = &self.seen;
        cdump::walk_up(token, &mut |id| seen.contains_key(&id), &mut |info| {
            emitted.push(info)
        });
        // Emitted nearest first; pushed root-most first, so every parent
        // precedes its children in the list.
        for info in emitted.into_iter().rev() {
            self.seen.insert(info.id, self.scopes.len());
            let cancel = self.cancel_state(&info);
            self.scopes.push(ScopeDump {
                id: ScopeId(info.id),
                parent: info.parent.map(ScopeId),
                is_runtime_root: false,
                cancel,
                deadline: info.deadline,
            });
        }
        ScopeId(cdump::token_id(token))
    }

    fn cancel_state(&self, info: &cdump::NodeInfo) -> CancelState {
        match (&info.cancelled, &info.drain) {
            (Some(c), _) => CancelState::Cancelled {
                cause: c.cause.clone(),
                inherited: c.inherited,
                ago: c.at.map(|at| self.now.saturating_duration_since(at)),
                by: c.by,
                origin: Some(ScopeId(c.origin)).filter(|o| o.0 != 0),
            },
            (None, Some(cause)) => CancelState::Draining {
                cause: cause.clone(),
            },
            (None, None) => CancelState::NotCancelled,
        }
    }
}
