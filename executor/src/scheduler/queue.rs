//! Run queues: the only module that imports `crossbeam_deque`.
//!
//! * [`Local`]: a worker's own FIFO queue (push/pop by its owner),
//! * [`Steal`]: the handle other workers steal batches from,
//! * [`Inject`]: the global injector, for tasks woken off-worker.
//!
//! crossbeam-deque is invisible to loom (it switches on its own
//! `crossbeam_loom` cfg and relies on a documented benign race), so under
//! `cfg(loom)` these are a loom `Mutex<VecDeque>` with a tiny capacity:
//! loom then checks *our* protocol (idle/park, notify, stealing) around them.

#[cfg(not(loom))]
mod imp {
    use crossbeam_deque::{Injector, Steal as S, Stealer, Worker};

    pub(crate) struct Local<T>(Worker<T>);
    pub(crate) struct Steal<T>(Stealer<T>);
    pub(crate) struct Inject<T>(Injector<T>);

    pub(crate) fn local<T>() -> (Local<T>, Steal<T>) {
        let w = Worker::new_fifo();
        let s = w.stealer();
        (Local(w), Steal(s))
    }

    fn first<T>(mut f: impl FnMut() -> S<T>) -> Option<T> {
        loop {
            match f() {
                S::Success(t) => return Some(t),
                S::Empty => return None,
                S::Retry => std::hint::spin_loop(),
            }
        }
    }

    impl<T> Local<T> {
        pub(crate) fn push(&self, t: T) {
            self.0.push(t);
        }
        pub(crate) fn pop(&self) -> Option<T> {
            self.0.pop()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }

    impl<T> Steal<T> {
        /// Steals about half of the victim's queue into `dst`, returning one.
        pub(crate) fn steal_into(&self, dst: &Local<T>) -> Option<T> {
            first(|| self.0.steal_batch_and_pop(&dst.0))
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        /// Queue length as seen from another thread (metrics).
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }

    impl<T> Inject<T> {
        pub(crate) fn new() -> Inject<T> {
            Inject(Injector::new())
        }
        pub(crate) fn push(&self, t: T) {
            self.0.push(t);
        }
        pub(crate) fn pop(&self) -> Option<T> {
            first(|| self.0.steal())
        }
        /// Takes a batch into `dst`, returning one.
        pub(crate) fn pop_batch_into(&self, dst: &Local<T>) -> Option<T> {
            first(|| self.0.steal_batch_and_pop(&dst.0))
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        /// Number of queued tasks (metrics).
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }
}

#[cfg(loom)]
mod imp {
    //! A loom `Mutex<VecDeque>` per queue. Emptiness checks do not take the
    //! lock: like crossbeam's (`is_empty` is a load of the indices, which
    //! pushes write with Release), they read a length the lock holder
    //! stores with Release. A lock there would order the idle protocol's
    //! queue reads and writes by itself and hide a missing `SeqCst` fence.

    use std::collections::VecDeque;

    use crate::loom::atomic::{AtomicUsize, Ordering::*};
    use crate::loom::{Arc, Mutex, MutexGuard};

    struct Queue<T> {
        items: Mutex<VecDeque<T>>,
        len: AtomicUsize,
    }

    impl<T> Queue<T> {
        fn new() -> Queue<T> {
            Queue {
                items: Mutex::new(VecDeque::with_capacity(4)),
                len: AtomicUsize::new(0),
            }
        }

        /// Runs `f` under the lock, then publishes the new length.
        fn with<R>(&self, f: impl FnOnce(&mut MutexGuard<'_, VecDeque<T>>) -> R) -> R {
            let mut q = self.items.lock().unwrap();
            let r = f(&mut q);
            // Release pairs with the Acquire in `is_empty`: a reader that
            // sees the new length sees the items (crossbeam's index store).
            self.len.store(q.len(), Release);
            r
        }

        fn is_empty(&self) -> bool {
            // Acquire: see `with`.
            self.len.load(Acquire) == 0
        }
    }

    pub(crate) struct Local<T>(Arc<Queue<T>>);
    pub(crate) struct Steal<T>(Arc<Queue<T>>);
    pub(crate) struct Inject<T>(Queue<T>);

    pub(crate) fn local<T>() -> (Local<T>, Steal<T>) {
        let q = Arc::new(Queue::new());
        (Local(q.clone()), Steal(q))
    }

    impl<T> Local<T> {
        pub(crate) fn push(&self, t: T) {
            self.0.with(|q| q.push_back(t));
        }
        pub(crate) fn pop(&self) -> Option<T> {
            self.0.with(|q| q.pop_front())
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.items.lock().unwrap().len()
        }
    }

    impl<T> Steal<T> {
        pub(crate) fn steal_into(&self, dst: &Local<T>) -> Option<T> {
            let (first, moved) = self.0.with(|src| {
                let first = src.pop_front()?;
                let half = src.len() / 2;
                let moved: Vec<T> = src.drain(..half).collect();
                Some((first, moved))
            })?;
            dst.0.with(|d| d.extend(moved));
            Some(first)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.items.lock().unwrap().len()
        }
    }

    impl<T> Inject<T> {
        pub(crate) fn new() -> Inject<T> {
            Inject(Queue::new())
        }
        pub(crate) fn push(&self, t: T) {
            self.0.with(|q| q.push_back(t));
        }
        pub(crate) fn pop(&self) -> Option<T> {
            self.0.with(|q| q.pop_front())
        }
        pub(crate) fn pop_batch_into(&self, _dst: &Local<T>) -> Option<T> {
            self.pop()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.items.lock().unwrap().len()
        }
    }
}

pub(crate) use imp::*;
