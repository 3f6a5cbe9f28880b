//! Multishot `IORING_OP_POLL_ADD` (`IORING_POLL_ADD_MULTI`, Linux 5.13):
//! one CQE per readiness event on the fd, until cancelled or the kernel
//! ends it (a CQE without `IORING_CQE_F_MORE`). Without `multi` it is the
//! single-shot poll, for kernels that refuse the flag (`EINVAL`).

use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use crate::driver::{Cqe, MultishotKind, Ring};

/// A poll on an fd the caller owns: the SQE names the fd by number, and
/// the kernel takes its own reference to the file while the poll is armed.
pub(crate) struct PollMulti {
    pub(crate) fd: RawFd,
    /// `POLLIN`, `POLLOUT`, ... (`POLLERR`/`POLLHUP` always count).
    pub(crate) events: u32,
    /// Ask for `IORING_POLL_ADD_MULTI`.
    pub(crate) multi: bool,
}

// SAFETY: a poll SQE carries no pointers.
unsafe impl MultishotKind for PollMulti {
    /// The events that are ready (`revents`).
    type Item = u32;
    const OPCODE: u8 = opcode::PollAdd::CODE;

    fn sqe(&mut self, _ring: &Ring) -> io::Result<squeue::Entry> {
        Ok(opcode::PollAdd::new(types::Fd(self.fd), self.events)
            .multi(self.multi)
            .build())
    }

    fn item(&mut self, cqe: Cqe, _ring: &Arc<Ring>) -> io::Result<u32> {
        cqe.into_result()
    }
}
