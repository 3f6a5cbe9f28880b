use std::ffi::CString;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;

use io_uring::{opcode, squeue, types};

use crate::driver::{Cqe, OpKind};

/// `IORING_OP_OPENAT` relative to the current directory.
pub(crate) struct OpenAt {
    /// On the heap: the kernel reads it after submission.
    path: CString,
    flags: libc::c_int,
    mode: libc::mode_t,
}

impl OpenAt {
    pub(crate) fn new(path: &Path, flags: libc::c_int, mode: libc::mode_t) -> io::Result<OpenAt> {
        let path = super::path::cstring(path)?;
        Ok(OpenAt {
            path,
            flags: flags | libc::O_CLOEXEC,
            mode,
        })
    }
}

fn owned(fd: u32) -> OwnedFd {
    // SAFETY: the kernel just returned this fd for us and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) }
}

// SAFETY: the only pointer in the SQE is the CString's heap buffer, owned by
// `self` and not moved by moving `self`.
unsafe impl OpKind for OpenAt {
    type Output = io::Result<OwnedFd>;
    const OPCODE: u8 = opcode::OpenAt::CODE;

    fn sqe(&mut self) -> squeue::Entry {
        opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), self.path.as_ptr())
            .flags(self.flags)
            .mode(self.mode)
            .build()
    }

    fn complete(self, cqe: Cqe) -> Self::Output {
        cqe.into_result().map(owned)
    }

    fn blocking(self) -> Self::Output {
        // SAFETY: `path` is a valid NUL-terminated string.
        let fd = unsafe { libc::open(self.path.as_ptr(), self.flags, self.mode as libc::c_uint) };
        super::cvt(fd as isize).map(|fd| owned(fd as u32))
    }

    fn fail(self, err: io::Error) -> Self::Output {
        Err(err)
    }

    fn orphaned(&mut self, cqe: Cqe) {
        // The open succeeded after its future was dropped: close the fd.
        drop(cqe.into_result().map(owned));
    }
}
