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
    }
}

#[cfg(loom)]
mod imp {
    use std::collections::VecDeque;

    use crate::loom::{Arc, Mutex};

    pub(crate) struct Local<T>(Arc<Mutex<VecDeque<T>>>);
    pub(crate) struct Steal<T>(Arc<Mutex<VecDeque<T>>>);
    pub(crate) struct Inject<T>(Mutex<VecDeque<T>>);

    pub(crate) fn local<T>() -> (Local<T>, Steal<T>) {
        let q = Arc::new(Mutex::new(VecDeque::with_capacity(4)));
        (Local(q.clone()), Steal(q))
    }

    impl<T> Local<T> {
        pub(crate) fn push(&self, t: T) {
            self.0.lock().unwrap().push_back(t);
        }
        pub(crate) fn pop(&self) -> Option<T> {
            self.0.lock().unwrap().pop_front()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().unwrap().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().unwrap().len()
        }
    }

    impl<T> Steal<T> {
        pub(crate) fn steal_into(&self, dst: &Local<T>) -> Option<T> {
            let mut src = self.0.lock().unwrap();
            let first = src.pop_front()?;
            let half = src.len() / 2;
            let moved: Vec<T> = src.drain(..half).collect();
            drop(src);
            let mut d = dst.0.lock().unwrap();
            d.extend(moved);
            Some(first)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().unwrap().is_empty()
        }
    }

    impl<T> Inject<T> {
        pub(crate) fn new() -> Inject<T> {
            Inject(Mutex::new(VecDeque::new()))
        }
        pub(crate) fn push(&self, t: T) {
            self.0.lock().unwrap().push_back(t);
        }
        pub(crate) fn pop(&self) -> Option<T> {
            self.0.lock().unwrap().pop_front()
        }
        pub(crate) fn pop_batch_into(&self, _dst: &Local<T>) -> Option<T> {
            self.pop()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().unwrap().is_empty()
        }
    }
}

pub(crate) use imp::*;
