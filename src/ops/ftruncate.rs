use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use super::path::cvt0;
use crate::driver::{Cqe, OpKind};

/// `IORING_OP_FTRUNCATE` (Linux 6.9; older kernels use the blocking pool).
pub(crate) struct Ftruncate {
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) len: u64,
}

// SAFETY: an ftruncate SQE carries no pointers.
unsafe impl OpKind for Ftruncate {
    type Output = io::Result<()>;
    const OPCODE: u8 = opcode::Ftruncate::CODE;

    fn sqe(&mut self) -> squeue::Entry {
        opcode::Ftruncate::new(types::Fd(self.fd.as_raw_fd()), self.len).build()
    }

    fn complete(self, cqe: Cqe) -> io::Result<()> {
        cqe.into_result().map(drop)
    }

    fn blocking(self) -> io::Result<()> {
        let len = libc::off_t::try_from(self.len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file length too large"))?;
        // SAFETY: ftruncate on an fd this op keeps open.
        cvt0(unsafe { libc::ftruncate(self.fd.as_raw_fd(), len) })
    }

    fn fail(self, err: io::Error) -> io::Result<()> {
        Err(err)
    }
}
