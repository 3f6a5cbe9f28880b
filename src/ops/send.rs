use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use super::{blocking_io, cvt, ring_len, sqe_len};
use crate::BufResult;
use crate::buf::IoBuf;
use crate::driver::{Cqe, OpKind};

/// `IORING_OP_SEND` of a buffer's initialized bytes.
pub(crate) struct Send<B> {
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) buf: B,
    pub(crate) flags: libc::c_int,
}

// SAFETY: the only pointer in the SQE is the buffer's `stable_ptr`, owned by
// `self.buf` (`IoBuf`'s contract).
unsafe impl<B: IoBuf> OpKind for Send<B> {
    type Output = BufResult<usize, B>;
    const OPCODE: u8 = opcode::Send::CODE;
    const WAITS: bool = true;

    fn sqe(&mut self) -> squeue::Entry {
        let len = ring_len(self.buf.bytes_init());
        opcode::Send::new(types::Fd(self.fd.as_raw_fd()), self.buf.stable_ptr(), len)
            .flags(self.flags)
            .build()
    }

    fn complete(self, cqe: Cqe) -> Self::Output {
        (cqe.into_result().map(|n| n as usize), self.buf)
    }

    fn blocking(self) -> Self::Output {
        let fd = self.fd.as_raw_fd();
        let ptr = self.buf.stable_ptr().cast::<libc::c_void>();
        let len = sqe_len(self.buf.bytes_init()) as usize;
        let flags = self.flags & !libc::MSG_WAITALL;
        let mut sent = 0;
        while sent < len {
            let res = blocking_io(fd, libc::POLLOUT, || {
                // SAFETY: `sent < len`, so `ptr + sent .. ptr + len` are
                // initialized bytes of the buffer (`IoBuf`), held by
                // `self.buf` throughout.
                cvt(unsafe { libc::send(fd, ptr.cast::<u8>().add(sent).cast(), len - sent, flags) })
            });
            match res {
                Ok(n) => sent += n,
                Err(e) if sent == 0 => return (Err(e), self.buf),
                Err(_) => break,
            }
        }
        (Ok(sent), self.buf)
    }

    fn fail(self, err: io::Error) -> Self::Output {
        (Err(err), self.buf)
    }
}
