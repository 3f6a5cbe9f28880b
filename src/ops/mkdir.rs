use std::ffi::CString;
use std::io;
use std::path::Path;

use io_uring::{opcode, squeue, types};

use super::path::{cstring, cvt0};
use crate::driver::{Cqe, OpKind};

/// `IORING_OP_MKDIRAT`.
pub(crate) struct MkDir {
    path: CString,
    mode: libc::mode_t,
}

impl MkDir {
    pub(crate) fn new(path: &Path, mode: libc::mode_t) -> io::Result<MkDir> {
        Ok(MkDir {
            path: cstring(path)?,
            mode,
        })
    }
}

// SAFETY: the only pointer is the CString's heap buffer, owned by `self`.
unsafe impl OpKind for MkDir {
    type Output = io::Result<()>;
    const OPCODE: u8 = opcode::MkDirAt::CODE;

    fn sqe(&mut self) -> squeue::Entry {
        opcode::MkDirAt::new(types::Fd(libc::AT_FDCWD), self.path.as_ptr())
            .mode(self.mode)
            .build()
    }

    fn complete(self, cqe: Cqe) -> io::Result<()> {
        cqe.into_result().map(drop)
    }

    fn blocking(self) -> io::Result<()> {
        // SAFETY: a valid NUL-terminated path.
        cvt0(unsafe { libc::mkdir(self.path.as_ptr(), self.mode) })
    }

    fn fail(self, err: io::Error) -> io::Result<()> {
        Err(err)
    }
}
