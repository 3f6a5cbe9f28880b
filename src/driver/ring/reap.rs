//! Reaping: moving CQEs into their slots and handing results to the
//! futures and streams that wait for them.

use std::task::{Context, Poll};

use io_uring::cqueue;

use super::{CANCEL_TAG, Inner, Ring};
use crate::driver::counters::counters;
use crate::driver::slab::Cqe;
use crate::driver::slot::{Delivered, Effects};
use crate::driver::wakers::{give_scratch, take_scratch};

/// What a reap collected, to be acted on after the lock is released.
pub(super) type Reaped = Effects;

impl Effects {
    /// Effects to collect, in this thread's reusable waker buffer.
    pub(super) fn new() -> Effects {
        Effects {
            wakers: take_scratch(),
            ..Effects::default()
        }
    }

    /// Carries the effects out, the ring's lock released.
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
        let mut reaped = Reaped::new();
        let poll = {
            let mut inner = self.lock();
            inner.reap(&mut reaped);
            inner.slab.poll_single(index, cx)
        };
        reaped.finish(self);
        poll
    }

    /// Polls a multishot operation for its next completion; `None` once the
    /// final CQE was taken (the slot is then free).
    pub(crate) fn poll_next(&self, index: usize, cx: &mut Context<'_>) -> Poll<Option<Cqe>> {
        let mut reaped = Reaped::new();
        let poll = {
            let mut inner = self.lock();
            inner.reap(&mut reaped);
            inner.slab.poll_stream(index, cx)
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
            match slab.deliver(index, cqe, reaped) {
                Delivered::Final => counters().op_completed(),
                Delivered::Stray => {
                    tracing::debug!(target: "shardio::driver", index, "CQE for a free slot ignored");
                }
                Delivered::Other => {}
            }
        }
    }
}
