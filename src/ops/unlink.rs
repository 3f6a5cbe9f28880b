use std::ffi::CString;
use std::io;
use std::path::Path;

use io_uring::{opcode, squeue, types};

use super::path::{cstring, cvt0};
use crate::driver::{Cqe, OpKind};

/// `IORING_OP_UNLINKAT`: removes a file, or an empty directory with `dir`.
pub(crate) struct Unlink {
    path: CString,
    dir: bool,
}

impl Unlink {
    pub(crate) fn new(path: &Path, dir: bool) -> io::Result<Unlink> {
        Ok(Unlink {
            path: cstring(path)?,
            dir,
        })
    }
}

// SAFETY: the only pointer is the CString's heap buffer, owned by `self`.
unsafe impl OpKind for Unlink {
    type Output = io::Result<()>;
    const OPCODE: u8 = opcode::UnlinkAt::CODE;

    fn sqe(&mut self) -> squeue::Entry {
        let flags = if self.dir { libc::AT_REMOVEDIR } else { 0 };
        opcode::UnlinkAt::new(types::Fd(libc::AT_FDCWD), self.path.as_ptr())
            .flags(flags)
            .build()
    }

    fn complete(self, cqe: Cqe) -> io::Result<()> {
        cqe.into_result().map(drop)
    }

    fn blocking(self) -> io::Result<()> {
        let flags = if self.dir { libc::AT_REMOVEDIR } else { 0 };
        // SAFETY: a valid NUL-terminated path.
        cvt0(unsafe { libc::unlinkat(libc::AT_FDCWD, self.path.as_ptr(), flags) })
    }

    fn fail(self, err: io::Error) -> io::Result<()> {
        Err(err)
    }
}
