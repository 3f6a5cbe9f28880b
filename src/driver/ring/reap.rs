//! Reaping: moving CQEs into their slots and handing results to the
//! futures and streams that wait for them.

use std::task::{Context, Poll, Waker};

use io_uring::cqueue;

use super::{CANCEL_TAG, Inner, Ring};
use crate::driver::counters::counters;
use crate::driver::slab::{Cqe, Lifecycle, Orphan};
use crate::driver::wakers::{give_scratch, set_waker, take_scratch};

/// What a reap collected, to be acted on after the lock is released:
/// wakers may run arbitrary code and dropped buffers may be large.
pub(super) struct Reaped {
    pub(super) wakers: Vec<Waker>,
    pub(super) dropped: Vec<Box<dyn Orphan>>,
    /// Provided-buffer data that arrived for dropped operations.
    release: Vec<u16>,
}

impl Default for Reaped {
    fn default() -> Self {
        Reaped {
            wakers: take_scratch(),
            dropped: Vec::new(),
            release: Vec::new(),
        }
    }
}

impl Reaped {
    /// A CQE nobody will read: give back the provided buffer it carries.
    pub(super) fn release_buffer(&mut self, cqe: Cqe) {
        if let Some(bid) = cqueue::buffer_select(cqe.flags) {
            self.release.push(bid);
        }
    }

    pub(super) fn finish(mut self, ring: &Ring) {
        ring.handshake().deliver(&mut self.wakers);
        give_scratch(self.wakers);
        drop(self.dropped);
        if let Some(Some(bufs)) = ring.bufs.get() {
            for bid in self.release {
                bufs.release(bid);
            }
        }
    }
}

impl Ring {
    /// Polls a single-shot operation for its completion.
    pub(crate) fn poll_complete(&self, index: usize, cx: &mut Context<'_>) -> Poll<Cqe> {
        let mut reaped = Reaped::default();
        let poll = {
            let mut inner = self.lock();
            inner.reap(&mut reaped);
            match inner.slab.get_mut(index) {
                Some(Lifecycle::Completed(_)) => match inner.slab.remove(index) {
                    Some(Lifecycle::Completed(cqe)) => Poll::Ready(cqe),
                    _ => unreachable!(),
                },
                Some(Lifecycle::Waiting(waker)) => {
                    set_waker(waker, cx);
                    Poll::Pending
                }
                _ => unreachable!("poll_complete on a slot that is not a live single-shot op"),
            }
        };
        reaped.finish(self);
        poll
    }

    /// Polls a multishot operation for its next completion; `None` once the
    /// final CQE was taken (the slot is then free).
    pub(crate) fn poll_next(&self, index: usize, cx: &mut Context<'_>) -> Poll<Option<Cqe>> {
        let mut reaped = Reaped::default();
        let poll = {
            let mut inner = self.lock();
            inner.reap(&mut reaped);
            match inner.slab.get_mut(index) {
                Some(Lifecycle::Streaming {
                    waker,
                    queue,
                    finished,
                }) => {
                    if let Some(cqe) = queue.pop_front() {
                        Poll::Ready(Some(cqe))
                    } else if *finished {
                        inner.slab.remove(index);
                        Poll::Ready(None)
                    } else {
                        set_waker(waker, cx);
                        Poll::Pending
                    }
                }
                _ => unreachable!("poll_next on a slot that is not a live multishot op"),
            }
        };
        reaped.finish(self);
        poll
    }
}

impl Inner {
    /// Moves every available CQE into its slot.
    pub(super) fn reap(&mut self, reaped: &mut Reaped) {
        let Inner {
            uring,
            slab,
            buf_acct,
            ..
        } = self;
        for entry in uring.completion() {
            if entry.user_data() == CANCEL_TAG {
                continue;
            }
            let mut cqe = Cqe {
                result: entry.result(),
                flags: entry.flags(),
                buf_offset: 0,
            };
            if let (Some(acct), Some(bid)) = (buf_acct.as_ref(), cqueue::buffer_select(cqe.flags)) {
                let len = u32::try_from(cqe.result).unwrap_or(0);
                cqe.buf_offset = acct.consume(bid, len, cqueue::buffer_more(cqe.flags));
            }
            let index = entry.user_data() as usize;
            let Some(slot) = slab.get_mut(index) else {
                tracing::debug!(target: "shardio::driver", index, "CQE for a free slot ignored");
                // Its provided buffer (accounted above) still goes back.
                reaped.release_buffer(cqe);
                continue;
            };
            match slot {
                Lifecycle::Waiting(waker) => {
                    reaped.wakers.extend(waker.take());
                    *slot = Lifecycle::Completed(cqe);
                    counters().op_completed();
                }
                Lifecycle::Streaming {
                    waker,
                    queue,
                    finished,
                } => {
                    queue.push_back(cqe);
                    if !cqe.more() {
                        *finished = true;
                        counters().op_completed();
                    }
                    reaped.wakers.extend(waker.take());
                }
                Lifecycle::Ignored(orphan) => {
                    orphan.cqe(cqe);
                    reaped.release_buffer(cqe);
                    if !cqe.more() {
                        if let Some(Lifecycle::Ignored(data)) = slab.remove(index) {
                            reaped.dropped.push(data);
                        }
                    }
                }
                // A notification after completion (e.g. zero-copy send): nothing to do.
                Lifecycle::Completed(_) => {}
            }
        }
    }
}
