use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use crate::driver::{Cqe, OpKind};

/// Single-shot `IORING_OP_POLL_ADD`: completes with the events that are
/// ready on the fd (`POLLERR`/`POLLHUP` always count).
pub(crate) struct PollAdd<S> {
    /// Kept alive by the op so the fd cannot be closed while in flight.
    pub(crate) sock: Arc<S>,
    pub(crate) events: libc::c_short,
}

impl<S: AsRawFd> PollAdd<S> {
    fn fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

// SAFETY: a poll SQE carries no pointers.
unsafe impl<S: AsRawFd + Send + Sync + 'static> OpKind for PollAdd<S> {
    type Output = io::Result<u32>;
    const OPCODE: u8 = opcode::PollAdd::CODE;
    const WAITS: bool = true;

    fn sqe(&mut self) -> squeue::Entry {
        opcode::PollAdd::new(types::Fd(self.fd()), self.events as u32).build()
    }

    fn complete(self, cqe: Cqe) -> io::Result<u32> {
        cqe.into_result()
    }

    fn blocking(self) -> io::Result<u32> {
        crate::driver::wait_for(self.fd(), self.events).map(|revents| revents as u32)
    }

    fn fail(self, err: io::Error) -> io::Result<u32> {
        Err(err)
    }
}
