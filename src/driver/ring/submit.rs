//! Submission: pushing SQEs, batching them, and entering the kernel.

use std::io;
use std::time::Instant;

use io_uring::{IoUring, squeue};

use super::reap::Reaped;
use super::{Inner, Ring};
use crate::driver::counters::counters;
use crate::driver::fault;
use crate::driver::slab::Lifecycle;

impl Ring {
    /// Pushes `sqe` for a new operation in state `lifecycle` and returns its
    /// slot. The SQE is not submitted until the next [`flush`](Ring::flush).
    /// A `storage` SQE counts towards `Config::storage_submit_batch`: the
    /// second value is true when that many are queued, and the caller should
    /// submit them now ([`submit_only`](Ring::submit_only)).
    ///
    /// # Safety
    ///
    /// Every pointer in `sqe` must stay valid until the operation's final CQE
    /// has been reaped: the caller keeps the memory in its `Op` and hands it to
    /// [`cancel`](Ring::cancel) if the op is dropped early.
    pub(crate) unsafe fn push(
        &self,
        sqe: squeue::Entry,
        lifecycle: Lifecycle,
        storage: bool,
    ) -> (usize, bool) {
        let mut inner = self.lock();
        let index = inner.slab.insert(lifecycle);
        inner.push_sqe(sqe.user_data(index as u64));
        counters().op_submitted();
        let mut submit_now = false;
        if storage {
            inner.storage_queued += 1;
            submit_now = inner.storage_queued >= inner.storage_batch;
        }
        (index, submit_now)
    }

    /// Submits everything pushed so far, and reaps.
    pub(crate) fn flush(&self) {
        let mut reaped = Reaped::new();
        {
            let mut inner = self.lock();
            inner.flush(&mut reaped);
            inner.reap(&mut reaped);
        }
        reaped.finish(self);
    }

    /// Before the owner thread sleeps with operations in flight: spins up
    /// to `budget` for a completion (posted, or pending as kernel task work)
    /// so the thread need not sleep and be woken for it. Returns at once
    /// when nothing is in flight. Task work found pending is run (one enter)
    /// so its completions are posted and signal the eventfd.
    pub(crate) fn spin_for_completion(&self, budget: std::time::Duration) {
        let deadline = Instant::now() + budget;
        let mut inner = self.lock();
        if inner.slab.len() == 0 {
            return;
        }
        loop {
            if !inner.uring.completion().is_empty() {
                return;
            }
            if inner.uring.submission().taskrun() {
                counters().enter();
                inner.storage_queued = 0;
                let _ = enter(&inner.uring);
                return;
            }
            if Instant::now() >= deadline {
                return;
            }
            drop(inner);
            std::hint::spin_loop();
            inner = self.lock();
        }
    }

    /// Submits what is queued without reaping: for Tokio's park hooks, which
    /// run while the worker's run queue is detached, so any task woken there
    /// would land in the global queue, which a busy worker drains slowly.
    /// The completions reach their tasks through the reaper instead (the
    /// eventfd stays armed).
    pub(crate) fn submit_only(&self) {
        let mut inner = self.lock();
        if inner.backlog.is_empty() && inner.uring.submission().is_empty() {
            return;
        }
        while let Some(sqe) = inner.backlog.pop_front() {
            // SAFETY: as in `push_sqe`.
            if unsafe { inner.uring.submission().push(&sqe) }.is_err() {
                inner.backlog.push_front(sqe);
                break;
            }
        }
        counters().enter();
        inner.storage_queued = 0;
        if let Err(e) = enter(&inner.uring) {
            counters().enter_retry();
            tracing::debug!(target: "shardio::driver", error = %e, "submit from a park hook failed; the reaper retries");
            drop(inner);
            self.request_flush();
        }
    }
}

impl Inner {
    pub(super) fn push_sqe(&mut self, sqe: squeue::Entry) {
        if !self.backlog.is_empty() {
            self.backlog.push_back(sqe);
            return;
        }
        // SAFETY: the SQE's pointers are kept valid by the op's slot until its
        // final CQE (see `Ring::push`); cancel SQEs point at nothing.
        if unsafe { self.uring.submission().push(&sqe) }.is_err() {
            self.backlog.push_back(sqe);
        }
    }

    /// Moves the backlog into the SQ and enters the kernel if anything is
    /// queued (or the CQ overflowed and needs flushing); reaps after entering.
    pub(super) fn flush(&mut self, reaped: &mut Reaped) {
        for _ in 0..64 {
            while let Some(sqe) = self.backlog.front() {
                // SAFETY: as in `push_sqe`.
                if unsafe { self.uring.submission().push(sqe) }.is_err() {
                    break;
                }
                self.backlog.pop_front();
            }
            let mut sq = self.uring.submission();
            let overflow = sq.cq_overflow();
            if sq.is_empty() && !overflow {
                return;
            }
            sq.sync();
            drop(sq);
            if overflow {
                counters().cq_overflow();
            }
            // With an SQ-poll thread awake, `submit` makes no system call.
            if !self.uring.params().is_setup_sqpoll()
                || overflow
                || self.uring.submission().need_wakeup()
            {
                counters().enter();
            }
            // Completions posted during this enter (page-cache reads, nops)
            // are reaped right below by this thread: keep them from also
            // signalling the eventfd and waking the reaper through epoll.
            self.uring.completion().disable_eventfd();
            self.storage_queued = 0;
            let submitted = enter(&self.uring);
            self.uring.completion().enable_eventfd();
            // Anything posted while the eventfd was off is reaped now; what
            // comes later signals it again.
            self.reap(reaped);
            match submitted {
                Ok(_) => {}
                // A signal; or the CQ was full (EBUSY), or the kernel was
                // short of memory for requests (EAGAIN): the reap above
                // made room; try again.
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EINTR) | Some(libc::EBUSY) | Some(libc::EAGAIN)
                    ) =>
                {
                    counters().enter_retry();
                    continue;
                }
                Err(e) => {
                    tracing::error!(target: "shardio::driver", error = %e, "io_uring_enter failed");
                    return;
                }
            }
            // Done when nothing is left to submit and the kernel holds no
            // overflowed completions (those need another enter to move into
            // the CQ, now that the reap above made room).
            if self.backlog.is_empty() && !self.uring.submission().cq_overflow() {
                return;
            }
        }
    }
}

/// Enters the kernel to submit what the SQ holds, unless a fault plan
/// fails the call first (see [`fault::enter_error`]).
fn enter(uring: &IoUring) -> io::Result<usize> {
    if let Some(e) = fault::enter_error() {
        return Err(e);
    }
    uring.submitter().submit()
}
