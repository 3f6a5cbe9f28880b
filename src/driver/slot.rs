//! The life of an operation in its slot: what a CQE, a poll and a drop do
//! to it. Every thread (the reaper, the task awaiting the operation, one
//! dropping it) runs these under the ring's lock; the wake-ups, orphan
//! drops and buffer releases they decide on are collected in [`Effects`]
//! and carried out after the lock is released. Model-checked with loom
//! (`loom_models` below).

use std::task::{Context, Poll, Waker};

use io_uring::cqueue;

use super::slab::{Cqe, Lifecycle, Orphan, Slab};
use super::wakers::set_waker;

/// What transitions decided, to be done once the lock is released:
/// wakers may run arbitrary code and dropped buffers may be large.
#[derive(Default)]
pub(crate) struct Effects {
    pub(crate) wakers: Vec<Waker>,
    pub(crate) dropped: Vec<Box<dyn Orphan>>,
    /// Provided buffers of CQEs nobody will read.
    pub(crate) release: Vec<u16>,
}

impl Effects {
    /// A CQE nobody will read: give back the provided buffer it carries.
    pub(crate) fn release_buffer(&mut self, cqe: Cqe) {
        if let Some(bid) = cqueue::buffer_select(cqe.flags) {
            self.release.push(bid);
        }
    }
}

/// What a CQE did to its slot, for the counters.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivered {
    /// An operation's last CQE reached its waiting future or stream.
    Final,
    /// A CQE that more follow, or one for a dropped operation.
    Other,
    /// The slot is free: the CQE was dropped (its buffer released).
    Stray,
}

impl Slab {
    /// The kernel posted `cqe` for the operation in `index`.
    pub(crate) fn deliver(&mut self, index: usize, cqe: Cqe, fx: &mut Effects) -> Delivered {
        let Some(slot) = self.get_mut(index) else {
            fx.release_buffer(cqe);
            return Delivered::Stray;
        };
        match slot {
            Lifecycle::Waiting(waker) => {
                fx.wakers.extend(waker.take());
                *slot = Lifecycle::Completed(cqe);
                Delivered::Final
            }
            Lifecycle::Streaming {
                waker,
                queue,
                finished,
            } => {
                queue.push_back(cqe);
                fx.wakers.extend(waker.take());
                if cqe.more() {
                    Delivered::Other
                } else {
                    *finished = true;
                    Delivered::Final
                }
            }
            Lifecycle::Ignored(orphan) => {
                orphan.cqe(cqe);
                fx.release_buffer(cqe);
                if !cqe.more() {
                    if let Some(Lifecycle::Ignored(data)) = self.remove(index) {
                        fx.dropped.push(data);
                    }
                }
                Delivered::Other
            }
            // A notification after completion (e.g. zero-copy send): nothing to do.
            Lifecycle::Completed(_) => Delivered::Other,
        }
    }

    /// A single-shot operation's future polls for its result; the slot is
    /// freed when it is taken.
    pub(crate) fn poll_single(&mut self, index: usize, cx: &Context<'_>) -> Poll<Cqe> {
        match self.get_mut(index) {
            Some(Lifecycle::Completed(_)) => match self.remove(index) {
                Some(Lifecycle::Completed(cqe)) => Poll::Ready(cqe),
                _ => unreachable!(),
            },
            Some(Lifecycle::Waiting(waker)) => {
                set_waker(waker, cx);
                Poll::Pending
            }
            _ => unreachable!("poll_complete on a slot that is not a live single-shot op"),
        }
    }

    /// A multishot operation's stream polls for its next CQE; `None` once
    /// the final one was taken (the slot is then free).
    pub(crate) fn poll_stream(&mut self, index: usize, cx: &Context<'_>) -> Poll<Option<Cqe>> {
        match self.get_mut(index) {
            Some(Lifecycle::Streaming {
                waker,
                queue,
                finished,
            }) => {
                if let Some(cqe) = queue.pop_front() {
                    Poll::Ready(Some(cqe))
                } else if *finished {
                    self.remove(index);
                    Poll::Ready(None)
                } else {
                    set_waker(waker, cx);
                    Poll::Pending
                }
            }
            _ => unreachable!("poll_next on a slot that is not a live multishot op"),
        }
    }

    /// The future or stream of the operation in `index` was dropped: `data`
    /// (its buffers and fds) sees every CQE it did not take, and is kept
    /// until the last one. Returns true if the kernel still owns the
    /// operation (the caller asks it to cancel).
    pub(crate) fn orphan(
        &mut self,
        index: usize,
        mut data: Box<dyn Orphan>,
        fx: &mut Effects,
    ) -> bool {
        // Results that arrived but were never taken go to the orphan.
        match self.get_mut(index) {
            Some(Lifecycle::Completed(cqe)) => {
                data.cqe(*cqe);
                fx.release_buffer(*cqe);
            }
            Some(Lifecycle::Streaming { queue, .. }) => {
                for cqe in queue.drain(..) {
                    data.cqe(cqe);
                    fx.release_buffer(cqe);
                }
            }
            _ => {}
        }
        match self.get_mut(index) {
            Some(Lifecycle::Completed(_)) | Some(Lifecycle::Streaming { finished: true, .. }) => {
                self.remove(index);
                fx.dropped.push(data);
                false
            }
            Some(slot) => {
                *slot = Lifecycle::Ignored(data);
                true
            }
            None => unreachable!("cancel of a free slot"),
        }
    }
}

/// The slot's transitions under the model checker (`--cfg shardio_loom`):
/// a task awaiting or dropping its operation while the reaper delivers its
/// CQEs, in every order their critical sections can take (the ring's lock
/// is modelled by loom's), find no lost wake-up, no CQE seen twice or not
/// at all, no orphan dropped twice or kept, and no slot left occupied.
#[cfg(all(test, shardio_loom))]
mod loom_models {
    use std::sync::Arc as StdArc;
    use std::task::{Context, Poll, Wake, Waker};

    use io_uring::cqueue;
    use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use loom::sync::{Arc, Mutex, Notify};

    use super::{Effects, Slab};
    use crate::driver::slab::{Cqe, Lifecycle, Orphan};

    /// `IORING_CQE_F_BUFFER` and `IORING_CQE_F_MORE`.
    const F_BUFFER: u32 = 1;
    const F_MORE: u32 = 2;

    /// A CQE carrying provided buffer `bid`, and more to come if `more`.
    fn cqe(bid: u16, more: bool) -> Cqe {
        Cqe {
            result: 16,
            flags: F_BUFFER | (u32::from(bid) << 16) | if more { F_MORE } else { 0 },
            buf_offset: 0,
        }
    }

    /// A waker that notifies a loom thread.
    struct Flag(Notify);

    impl Wake for Flag {
        fn wake(self: StdArc<Self>) {
            self.0.notify();
        }
    }

    /// A dropped operation's data: counts the CQEs it sees and its drops.
    struct Probe {
        seen: Arc<AtomicUsize>,
        drops: Arc<AtomicUsize>,
    }

    impl Orphan for Probe {
        fn cqe(&mut self, _: Cqe) {
            self.seen.fetch_add(1, SeqCst);
        }
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            self.drops.fetch_add(1, SeqCst);
        }
    }

    /// Carries effects out as `Effects::finish` does (wakers woken after
    /// the lock); returns the buffers released.
    fn finish(fx: Effects) -> Vec<u16> {
        fx.wakers.into_iter().for_each(Waker::wake);
        drop(fx.dropped);
        fx.release
    }

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(3);
        }
        builder.check(f);
    }

    /// The reaper: delivers `cqes` for slot `index`, one lock each.
    fn reaper(
        slab: Arc<Mutex<Slab>>,
        index: usize,
        cqes: Vec<Cqe>,
    ) -> loom::thread::JoinHandle<Vec<u16>> {
        loom::thread::spawn(move || {
            let mut released = Vec::new();
            for cqe in cqes {
                let mut fx = Effects::default();
                slab.lock().unwrap().deliver(index, cqe, &mut fx);
                released.extend(finish(fx));
            }
            released
        })
    }

    fn probe() -> (Box<dyn Orphan>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let (seen, drops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let probe = Probe {
            seen: Arc::clone(&seen),
            drops: Arc::clone(&drops),
        };
        (Box::new(probe), seen, drops)
    }

    #[test]
    fn loom_slot_completion_reaches_the_waiting_task() {
        model(|| {
            let slab = Arc::new(Mutex::new(Slab::new()));
            let index = slab.lock().unwrap().insert(Lifecycle::Waiting(None));
            let kernel = reaper(Arc::clone(&slab), index, vec![cqe(3, false)]);
            let flag = StdArc::new(Flag(Notify::new()));
            let waker = Waker::from(StdArc::clone(&flag));
            let cx = Context::from_waker(&waker);
            // Poll until ready, sleeping between polls: a lost wake-up
            // leaves this waiting for ever, which loom reports.
            let got = loop {
                let poll = slab.lock().unwrap().poll_single(index, &cx);
                match poll {
                    Poll::Ready(cqe) => break cqe,
                    Poll::Pending => flag.0.wait(),
                }
            };
            assert_eq!(cqueue::buffer_select(got.flags), Some(3));
            assert!(
                kernel.join().unwrap().is_empty(),
                "the task's buffer was released"
            );
            assert_eq!(slab.lock().unwrap().len(), 0);
        });
    }

    #[test]
    fn loom_slot_dropped_while_its_completion_arrives() {
        model(|| {
            let slab = Arc::new(Mutex::new(Slab::new()));
            let index = slab.lock().unwrap().insert(Lifecycle::Waiting(None));
            let kernel = reaper(Arc::clone(&slab), index, vec![cqe(5, false)]);
            let (data, seen, drops) = probe();
            let mut fx = Effects::default();
            let still_owned = slab.lock().unwrap().orphan(index, data, &mut fx);
            let mut released = finish(fx);
            released.extend(kernel.join().unwrap());
            // Whichever came first: the result (an fd, a buffer) is seen by
            // the orphan once, its buffer goes back once, the data is
            // dropped once, after the CQE, and the slot is free.
            assert_eq!(seen.load(SeqCst), 1);
            assert_eq!(drops.load(SeqCst), 1);
            assert_eq!(released, vec![5]);
            assert_eq!(slab.lock().unwrap().len(), 0);
            let _ = still_owned;
        });
    }

    #[test]
    fn loom_slot_stream_dropped_mid_stream() {
        model(|| {
            let slab = Arc::new(Mutex::new(Slab::new()));
            let index = slab.lock().unwrap().insert(Lifecycle::Streaming {
                waker: None,
                queue: Default::default(),
                finished: false,
            });
            let kernel = reaper(Arc::clone(&slab), index, vec![cqe(1, true), cqe(2, false)]);
            let waker = Waker::noop();
            let cx = Context::from_waker(waker);
            // The stream takes what is there, then is dropped.
            let mut taken = Vec::new();
            let mut ended = false;
            loop {
                let poll = slab.lock().unwrap().poll_stream(index, &cx);
                let Poll::Ready(item) = poll else { break };
                match item {
                    Some(cqe) => taken.push(cqueue::buffer_select(cqe.flags).unwrap()),
                    None => {
                        ended = true;
                        break;
                    }
                }
            }
            let (data, seen, drops) = probe();
            let mut released = Vec::new();
            if !ended {
                let mut fx = Effects::default();
                slab.lock().unwrap().orphan(index, data, &mut fx);
                released = finish(fx);
            } else {
                drop(data);
            }
            released.extend(kernel.join().unwrap());
            released.sort_unstable();
            // Each CQE went to the stream or to the orphan, never both or
            // neither; those the orphan saw had their buffers released.
            let mut all = taken.clone();
            all.extend(&released);
            all.sort_unstable();
            assert_eq!(all, vec![1, 2], "taken {taken:?}, released {released:?}");
            assert_eq!(seen.load(SeqCst), released.len());
            assert_eq!(drops.load(SeqCst), 1);
            assert_eq!(slab.lock().unwrap().len(), 0);
        });
    }
}
