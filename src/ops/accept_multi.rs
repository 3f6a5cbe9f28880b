use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use crate::driver::{Cqe, MultishotKind, Ring};

/// Multishot `IORING_OP_ACCEPT`: one CQE per accepted connection until
/// cancelled or an error ends it.
pub(crate) struct AcceptMulti {
    pub(crate) fd: Arc<OwnedFd>,
}

fn owned(fd: u32) -> OwnedFd {
    // SAFETY: the kernel just returned this fd for us and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) }
}

// SAFETY: the SQE carries no pointers.
unsafe impl MultishotKind for AcceptMulti {
    type Item = OwnedFd;
    const OPCODE: u8 = opcode::AcceptMulti::CODE;

    fn sqe(&mut self, _ring: &Ring) -> io::Result<squeue::Entry> {
        Ok(opcode::AcceptMulti::new(types::Fd(self.fd.as_raw_fd()))
            .flags(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
            .build())
    }

    fn item(&mut self, cqe: Cqe, _ring: &Arc<Ring>) -> io::Result<OwnedFd> {
        cqe.into_result().map(owned)
    }

    fn orphaned(&mut self, cqe: Cqe) {
        // Accepted after the stream was dropped: close the connection.
        drop(cqe.into_result().map(owned));
    }
}
