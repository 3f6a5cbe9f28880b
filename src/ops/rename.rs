use std::ffi::CString;
use std::io;
use std::path::Path;

use io_uring::{opcode, squeue, types};

use super::path::{cstring, cvt0};
use crate::driver::{Cqe, OpKind};

/// `IORING_OP_RENAMEAT`.
pub(crate) struct Rename {
    from: CString,
    to: CString,
}

impl Rename {
    pub(crate) fn new(from: &Path, to: &Path) -> io::Result<Rename> {
        Ok(Rename {
            from: cstring(from)?,
            to: cstring(to)?,
        })
    }
}

// SAFETY: the pointers are the CStrings' heap buffers, owned by `self`.
unsafe impl OpKind for Rename {
    type Output = io::Result<()>;
    const OPCODE: u8 = opcode::RenameAt::CODE;

    fn sqe(&mut self) -> squeue::Entry {
        let cwd = types::Fd(libc::AT_FDCWD);
        opcode::RenameAt::new(cwd, self.from.as_ptr(), cwd, self.to.as_ptr()).build()
    }

    fn complete(self, cqe: Cqe) -> io::Result<()> {
        cqe.into_result().map(drop)
    }

    fn blocking(self) -> io::Result<()> {
        // SAFETY: valid NUL-terminated paths.
        cvt0(unsafe { libc::rename(self.from.as_ptr(), self.to.as_ptr()) })
    }

    fn fail(self, err: io::Error) -> io::Result<()> {
        Err(err)
    }
}
