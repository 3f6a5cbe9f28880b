use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use super::{blocking_io, cvt, read_done, ring_len, sqe_len};
use crate::BufResult;
use crate::buf::IoBufMut;
use crate::driver::{Cqe, OpKind};

/// `IORING_OP_RECV` into an owned buffer (start of the buffer).
pub(crate) struct Recv<B> {
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) buf: B,
    pub(crate) flags: libc::c_int,
}

// SAFETY: the only pointer in the SQE is the buffer's `stable_mut_ptr`,
// owned by `self.buf` (`IoBufMut`'s contract).
unsafe impl<B: IoBufMut> OpKind for Recv<B> {
    type Output = BufResult<usize, B>;
    const OPCODE: u8 = opcode::Recv::CODE;
    const WAITS: bool = true;

    fn sqe(&mut self) -> squeue::Entry {
        let len = ring_len(self.buf.bytes_total());
        opcode::Recv::new(
            types::Fd(self.fd.as_raw_fd()),
            self.buf.stable_mut_ptr(),
            len,
        )
        .flags(self.flags)
        .build()
    }

    fn complete(self, cqe: Cqe) -> Self::Output {
        let res = cqe.into_result().map(|n| n as usize);
        // SAFETY: the kernel wrote the `n <= bytes_total` bytes it reports at
        // the buffer's start.
        unsafe { read_done(res, self.buf) }
    }

    fn blocking(mut self) -> Self::Output {
        let fd = self.fd.as_raw_fd();
        let ptr = self.buf.stable_mut_ptr().cast::<libc::c_void>();
        let len = sqe_len(self.buf.bytes_total()) as usize;
        let flags = self.flags;
        let res = blocking_io(fd, libc::POLLIN, || {
            // SAFETY: `ptr` is valid for `len` writable bytes (`IoBufMut`),
            // held by `self.buf` throughout.
            cvt(unsafe { libc::recv(fd, ptr, len, flags) })
        });
        // SAFETY: the kernel wrote the `n <= len` bytes it returned at `ptr`,
        // the buffer's start.
        unsafe { read_done(res, self.buf) }
    }

    fn fail(self, err: io::Error) -> Self::Output {
        (Err(err), self.buf)
    }
}
