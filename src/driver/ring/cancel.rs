//! Dropped operations: cancelling or detaching one, and cancelling and
//! draining everything when the ring goes away.

use std::time::{Duration, Instant};

use io_uring::{opcode, types};

use super::reap::Reaped;
use super::{CANCEL_TAG, Inner, Ring};
use crate::driver::counters::counters;
use crate::driver::slab::{Orphan, Slab};

/// How long dropping a ring waits for cancelled operations before leaking
/// their buffers rather than freeing memory the kernel may still write.
const DRAIN_DEADLINE: Duration = Duration::from_secs(2);

impl Ring {
    /// Asks the kernel to cancel the op in `index`, whose future keeps it
    /// (it sees the cancellation as its result), and submits at once.
    pub(crate) fn cancel_in_place(&self, index: usize) {
        let mut reaped = Reaped::new();
        {
            let mut inner = self.lock();
            counters().op_cancelled();
            inner.push_cancel(index);
            inner.flush(&mut reaped);
        }
        reaped.finish(self);
    }

    /// Fault injection: queues a cancel request right behind the op in
    /// `index` (pushed just now), racing its completion; its future sees
    /// ECANCELED if the cancel wins.
    pub(crate) fn race_cancel(&self, index: usize) {
        self.lock().push_cancel(index);
    }

    /// The op in `index` was dropped: keep `data` (its buffers and fds) alive
    /// until the kernel is done, and ask the kernel to cancel the operation.
    /// With `flush_now` false the cancel request waits for the next flush.
    pub(crate) fn cancel(&self, index: usize, data: Box<dyn Orphan>, flush_now: bool) {
        let mut reaped = Reaped::new();
        {
            let mut inner = self.lock();
            inner.reap(&mut reaped);
            if inner.slab.orphan(index, data, &mut reaped) {
                counters().op_cancelled();
                inner.push_cancel(index);
                if flush_now {
                    inner.flush(&mut reaped);
                }
            }
        }
        reaped.finish(self);
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        if inner.slab.len() > 0 && !inner.cancel_all_and_drain() {
            // The kernel may still receive into these buffers.
            if let Some(Some(bufs)) = self.bufs.take() {
                bufs.leak();
            }
        }
        counters().ring_dropped();
    }
}

impl Inner {
    /// Queues a request that the kernel cancel the op in slot `index`; its
    /// own CQE carries no news (`CANCEL_TAG`).
    fn push_cancel(&mut self, index: usize) {
        let cancel = opcode::AsyncCancel::new(index as u64)
            .build()
            .user_data(CANCEL_TAG);
        self.push_sqe(cancel);
    }

    /// Shutdown: cancels every operation still known to the kernel and waits
    /// (bounded) for their last CQEs. What does not arrive in time is leaked,
    /// never freed: the kernel may still write into it. True if all arrived.
    fn cancel_all_and_drain(&mut self) -> bool {
        let pending: Vec<usize> = self.slab.occupied().collect();
        for index in pending {
            self.push_cancel(index);
        }
        let deadline = Instant::now() + DRAIN_DEADLINE;
        let mut reaped = Reaped::new();
        while self.slab.len() > 0 {
            self.flush(&mut reaped);
            self.reap(&mut reaped);
            let now = Instant::now();
            if self.slab.len() == 0 || now >= deadline {
                break;
            }
            let wait = types::Timespec::from((deadline - now).min(Duration::from_millis(20)));
            let args = types::SubmitArgs::new().timespec(&wait);
            counters().enter();
            // ETIME (timeout) and EINTR are expected; the loop re-checks.
            let _ = self.uring.submitter().submit_with_args(1, &args);
        }
        // The tasks these wakers belong to are being torn down.
        drop(reaped.wakers);
        drop(reaped.dropped);
        if self.slab.len() > 0 {
            tracing::warn!(
                target: "shardio::driver",
                in_flight = self.slab.len(),
                "ring dropped with operations the kernel did not finish within {DRAIN_DEADLINE:?}; \
                 their buffers are leaked rather than freed while the kernel may write to them"
            );
            std::mem::forget(std::mem::replace(&mut self.slab, Slab::new()));
            return false;
        }
        true
    }
}
