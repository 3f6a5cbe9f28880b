use std::ffi::CString;
use std::io;
use std::path::Path;

use io_uring::{opcode, squeue, types};

use super::path::{cstring, cvt0};
use crate::driver::{Cqe, OpKind};

/// `IORING_OP_LINKAT` (a hard link) or `IORING_OP_SYMLINKAT`.
pub(crate) struct Link {
    original: CString,
    link: CString,
    symbolic: bool,
}

impl Link {
    pub(crate) fn new(original: &Path, link: &Path, symbolic: bool) -> io::Result<Link> {
        Ok(Link {
            original: cstring(original)?,
            link: cstring(link)?,
            symbolic,
        })
    }
}

// SAFETY: the pointers are the CStrings' heap buffers, owned by `self`.
unsafe impl OpKind for Link {
    type Output = io::Result<()>;
    // Both opcodes arrived in Linux 5.15; probing one covers the other.
    const OPCODE: u8 = opcode::LinkAt::CODE;

    fn sqe(&mut self) -> squeue::Entry {
        let cwd = types::Fd(libc::AT_FDCWD);
        if self.symbolic {
            opcode::SymlinkAt::new(cwd, self.original.as_ptr(), self.link.as_ptr()).build()
        } else {
            opcode::LinkAt::new(cwd, self.original.as_ptr(), cwd, self.link.as_ptr()).build()
        }
    }

    fn complete(self, cqe: Cqe) -> io::Result<()> {
        cqe.into_result().map(drop)
    }

    fn blocking(self) -> io::Result<()> {
        // SAFETY: valid NUL-terminated paths.
        cvt0(unsafe {
            if self.symbolic {
                libc::symlink(self.original.as_ptr(), self.link.as_ptr())
            } else {
                libc::link(self.original.as_ptr(), self.link.as_ptr())
            }
        })
    }

    fn fail(self, err: io::Error) -> io::Result<()> {
        Err(err)
    }
}
