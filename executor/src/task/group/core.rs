//! [`Core`]: what both group forms share — the member set, the group's
//! token, the runtime members are spawned on, and the drop policy.

use std::future::Future;
use std::panic::Location;
use std::time::Duration;

use quell_cancel::{CancelToken, Cause};

use super::set::Set;
use crate::runtime::{Handle, TokenChoice};
use crate::task::{AbortHandle, JoinHandle};

/// How long a dropped group's members have to finish after the cancel
/// before they are aborted, unless set with `drop_grace`.
pub const DEFAULT_DROP_GRACE: Duration = Duration::from_millis(100);

/// The message of the cause a dropped group cancels its members with.
pub(crate) const DROPPED: &str = "task group dropped";

pub(crate) struct Core<T> {
    pub(crate) set: Set<T>,
    pub(crate) token: CancelToken,
    rt: Handle,
    pub(crate) grace: Duration,
    closed: bool,
}

impl<T: Send + 'static> Core<T> {
    /// A group on `rt` whose token is a child of `parent`.
    pub(crate) fn new(rt: Handle, parent: &CancelToken) -> Core<T> {
        Core {
            set: Set::new(),
            token: parent.child(),
            rt,
            grace: DEFAULT_DROP_GRACE,
            closed: false,
        }
    }

    /// Spawns a member under the group's token. After the runtime shut
    /// down the member is not run: joining it yields a `JoinError` with
    /// `is_shutdown()`. `None` once the group was closed.
    pub(crate) fn spawn<F>(
        &mut self,
        name: Option<&str>,
        future: F,
        location: &'static Location<'static>,
    ) -> Option<AbortHandle>
    where
        F: Future<Output = T> + Send + 'static,
    {
        if self.closed {
            return None;
        }
        let h: JoinHandle<T> = self.rt.spawn_with(
            future,
            name,
            TokenChoice::Explicit(self.token.clone()),
            location,
        );
        let abort = h.abort_handle();
        self.set.insert(h);
        Some(abort)
    }
}

impl<T> Core<T> {
    /// No member outlives the group: cancel every member (the group's token,
    /// with a cause that says the group was dropped) and arm, on each
    /// member's runtime timer, an abort for `grace` later (a no-op for a
    /// member that finished by then). Later spawns are refused.
    pub(crate) fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        if self.set.len() == 0 {
            return;
        }
        self.token.cancel(Cause::explicit(DROPPED));
        for h in self.set.handles() {
            h.abort_after(self.grace);
        }
    }
}

impl<T> Drop for Core<T> {
    fn drop(&mut self) {
        self.close();
    }
}
