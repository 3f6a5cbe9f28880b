use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use crate::driver::{Cqe, OpKind};

/// `IORING_OP_FSYNC`, optionally data-only (`fdatasync`).
pub(crate) struct Fsync {
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) data_only: bool,
}

// SAFETY: an fsync SQE carries no pointers.
unsafe impl OpKind for Fsync {
    type Output = io::Result<()>;
    const OPCODE: u8 = opcode::Fsync::CODE;

    fn sqe(&mut self) -> squeue::Entry {
        let flags = if self.data_only {
            types::FsyncFlags::DATASYNC
        } else {
            types::FsyncFlags::empty()
        };
        opcode::Fsync::new(types::Fd(self.fd.as_raw_fd()))
            .flags(flags)
            .build()
    }

    fn complete(self, cqe: Cqe) -> io::Result<()> {
        cqe.into_result().map(drop)
    }

    fn blocking(self) -> io::Result<()> {
        let fd = self.fd.as_raw_fd();
        // SAFETY: fsync/fdatasync take an fd this op keeps open.
        let ret = unsafe {
            if self.data_only {
                libc::fdatasync(fd)
            } else {
                libc::fsync(fd)
            }
        };
        super::cvt(ret as isize).map(drop)
    }

    fn fail(self, err: io::Error) -> io::Result<()> {
        Err(err)
    }
}
