//! One io_uring instance and the table of operations in flight on it.
//!
//! A ring belongs to the thread that created it (its *owner*): operations
//! started on that thread are pushed here. Completions may be reaped by any
//! thread (the owner in its park hooks, the ring's reaper task on whichever
//! worker Tokio picks, or the awaiting task itself), so the state sits behind
//! a mutex that is uncontended in the common case.
//!
//! The work is split by job: [`setup`] creates a ring, [`submit`] pushes and
//! submits SQEs, [`reap`] moves CQEs into slots and hands them out,
//! [`cancel`] deals with dropped operations and the final drain; the
//! hand-off to the reaper task is [`Handshake`](super::handshake::Handshake).

mod cancel;
mod reap;
mod setup;
mod submit;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, MutexGuard, OnceLock};

use io_uring::{IoUring, squeue};

use super::buf_ring::{Accounting, BufRing};
use super::buf_table::{BufTable, Registrar};
use super::counters::counters;
use super::eventfd;
use super::fault;
use super::handshake::Handshake;
use super::placement::Placement;
use super::slab::Slab;
use crate::sync::Mutex;

/// `user_data` of the cancel requests shardio pushes; their CQEs carry no news.
const CANCEL_TAG: u64 = u64::MAX;

pub(crate) struct Ring {
    inner: Mutex<Inner>,
    /// Signalled by the kernel for every CQE; watched by the reaper task.
    eventfd: OwnedFd,
    /// Set when the owner thread is gone: the reaper ends once the ring is idle.
    retired: AtomicBool,
    id: u64,
    owner: String,
    placement: Placement,
    /// Receive buffers, registered on first use; `None` if the kernel refused.
    bufs: OnceLock<Option<BufRing>>,
    /// The ring's table of registered buffers.
    buf_table: BufTable,
    /// What the ring and its reaper task tell each other: work to do, and
    /// the wakers of completed operations to deliver.
    handshake: Handshake,
}

struct Inner {
    uring: IoUring,
    slab: Slab,
    /// SQEs that did not fit in the SQ; pushed first at the next flush.
    backlog: VecDeque<squeue::Entry>,
    /// Storage SQEs pushed since the last submission.
    storage_queued: usize,
    /// `Config::storage_submit_batch`.
    storage_batch: usize,
    /// The provided-buffer ring's accounting, once it is registered: CQEs
    /// carrying a buffer are accounted in CQ order as they are reaped.
    buf_acct: Option<Arc<Accounting>>,
}

impl Ring {
    /// Registers `pool`'s buffers with this ring, once; errors if another
    /// pool is registered here or the kernel refuses.
    pub(crate) fn register_fixed(&self, pool: &crate::buf::PoolInner) -> io::Result<()> {
        self.buf_table.register_pool(self, pool)
    }

    /// For an operation about to use `[ptr, ptr + len)`: its slot in this
    /// ring's buffer table if the memory lies in the `AlignedBuf` arena
    /// (registering the chunk on its first use here); `None` if it does not
    /// or the kernel refuses (the operation then uses it unregistered).
    pub(crate) fn registered_slot(&self, ptr: *const u8, len: usize) -> Option<u16> {
        let chunk = crate::buf::arena::chunk_of(ptr, len)?;
        let slot = self.buf_table.arena_slot(self, chunk)?;
        counters().op_registered_buf();
        Some(slot)
    }

    /// The ring's provided receive buffers, registered on first use.
    /// `None` where the kernel lacks buffer rings (before 5.19).
    pub(crate) fn bufs(&self) -> Option<&BufRing> {
        self.bufs
            .get_or_init(|| {
                let mut inner = self.lock();
                let registered = match fault::registration_error() {
                    Some(e) => Err(e),
                    None => BufRing::register(&inner.uring),
                };
                match registered {
                    Ok(bufs) => {
                        inner.buf_acct = Some(bufs.accounting());
                        Some(bufs)
                    }
                    Err(e) => {
                        counters().registration_refused();
                        tracing::debug!(target: "shardio::driver", error = %e, "no provided-buffer ring; receives use owned buffers");
                        None
                    }
                }
            })
            .as_ref()
    }

    /// Process-unique id, as shown in metrics.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Name (or id) of the thread that created the ring.
    pub(crate) fn owner(&self) -> &str {
        &self.owner
    }

    pub(crate) fn placement(&self) -> Placement {
        self.placement
    }

    /// The ring's own fd, for `ATTACH_WQ`.
    pub(crate) fn ring_fd(&self) -> RawFd {
        self.lock().uring.as_raw_fd()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock()
    }

    /// The hand-off between this ring and its reaper task.
    pub(crate) fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// Asks the reaper task to submit soon, after the worker ran the tasks
    /// that are ready now, so their SQEs go to the kernel in one enter.
    /// Submits at once if there is no reaper (the runtime is shutting down).
    pub(crate) fn request_flush(&self) {
        if self.handshake.request_work() {
            self.flush();
        }
    }

    /// The reaper task ended: requests are served at once from now on.
    pub(crate) fn reaper_gone(&self) {
        if self.handshake.reaper_gone() {
            self.flush();
        }
    }

    /// Marks the owner thread as gone; the reaper task ends once the ring is idle.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::Release);
        self.notify();
    }

    pub(crate) fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }

    /// True when no operation is in flight on this ring.
    pub(crate) fn is_idle(&self) -> bool {
        self.lock().slab.len() == 0
    }

    pub(crate) fn eventfd(&self) -> RawFd {
        self.eventfd.as_raw_fd()
    }

    /// Wakes the reaper task without a CQE.
    fn notify(&self) {
        let _ = eventfd::signal(self.eventfd.as_fd());
    }
}

impl Registrar for Ring {
    fn register(
        &self,
        f: &mut dyn FnMut(&io_uring::Submitter<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let registered = match fault::registration_error() {
            Some(e) => Err(e),
            None => f(&self.lock().uring.submitter()),
        };
        if registered.is_err() {
            counters().registration_refused();
        }
        registered
    }
}
