//! `IORING_OP_READ_FIXED` / `IORING_OP_WRITE_FIXED` at an offset, into and
//! from a [`FixedBuf`] registered with the ring.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use super::cvt;
use crate::BufResult;
use crate::buf::{FixedBuf, IoBuf, IoBufMut};
use crate::driver::{Cqe, OpKind, Ring};

pub(crate) struct ReadFixedAt {
    /// Kept alive by the op so the fd cannot be closed while in flight.
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) buf: FixedBuf,
    pub(crate) pos: u64,
}

pub(crate) struct WriteFixedAt {
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) buf: FixedBuf,
    pub(crate) pos: u64,
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// SAFETY: the only pointer in the SQE is the buffer's, inside its pool's
// allocation, which never moves or goes away (and is registered with the
// ring by `prepare` before the SQE is built).
unsafe impl OpKind for ReadFixedAt {
    type Output = BufResult<usize, FixedBuf>;
    const OPCODE: u8 = opcode::ReadFixed::CODE;

    fn prepare(&mut self, ring: &Ring) -> io::Result<()> {
        ring.register_fixed(self.buf.pool())
    }

    fn sqe(&mut self) -> squeue::Entry {
        let len = len32(self.buf.bytes_total());
        opcode::ReadFixed::new(
            types::Fd(self.fd.as_raw_fd()),
            self.buf.stable_mut_ptr(),
            len,
            self.buf.index(),
        )
        .offset(self.pos)
        .build()
    }

    fn complete(mut self, cqe: Cqe) -> Self::Output {
        let res = cqe.into_result().map(|n| n as usize);
        if let Ok(n) = res {
            // SAFETY: the kernel wrote `n <= bytes_total` bytes at the start.
            unsafe { self.buf.set_init(n) };
        }
        (res, self.buf)
    }

    fn blocking(mut self) -> Self::Output {
        let len = self.buf.bytes_total();
        let ptr = self.buf.stable_mut_ptr().cast::<libc::c_void>();
        // SAFETY: `ptr` is valid for `len` writable bytes (`IoBufMut`).
        let res =
            cvt(unsafe { libc::pread(self.fd.as_raw_fd(), ptr, len, self.pos as libc::off_t) });
        if let Ok(n) = res {
            // SAFETY: pread wrote `n <= len` bytes at the start.
            unsafe { self.buf.set_init(n) };
        }
        (res, self.buf)
    }

    fn fail(self, err: io::Error) -> Self::Output {
        (Err(err), self.buf)
    }
}

// SAFETY: as for `ReadFixedAt`.
unsafe impl OpKind for WriteFixedAt {
    type Output = BufResult<usize, FixedBuf>;
    const OPCODE: u8 = opcode::WriteFixed::CODE;

    fn prepare(&mut self, ring: &Ring) -> io::Result<()> {
        ring.register_fixed(self.buf.pool())
    }

    fn sqe(&mut self) -> squeue::Entry {
        opcode::WriteFixed::new(
            types::Fd(self.fd.as_raw_fd()),
            self.buf.stable_ptr(),
            len32(self.buf.bytes_init()),
            self.buf.index(),
        )
        .offset(self.pos)
        .build()
    }

    fn complete(self, cqe: Cqe) -> Self::Output {
        (cqe.into_result().map(|n| n as usize), self.buf)
    }

    fn blocking(self) -> Self::Output {
        let ptr = self.buf.stable_ptr().cast::<libc::c_void>();
        let len = self.buf.bytes_init();
        // SAFETY: `ptr` is valid for `len` initialized bytes (`IoBuf`).
        let res =
            cvt(unsafe { libc::pwrite(self.fd.as_raw_fd(), ptr, len, self.pos as libc::off_t) });
        (res, self.buf)
    }

    fn fail(self, err: io::Error) -> Self::Output {
        (Err(err), self.buf)
    }
}
