use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use super::{cvt, ring_len, sqe_len};
use crate::BufResult;
use crate::buf::IoBuf;
use crate::driver::{Cqe, OpKind, Ring};

/// `IORING_OP_WRITE` at an offset (ignored by pipes and sockets).
pub(crate) struct WriteAt<B> {
    /// Kept alive by the op so the fd cannot be closed while in flight.
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) buf: B,
    pub(crate) pos: u64,
    /// As `ReadAt::slot` (`WRITE_FIXED`).
    pub(crate) slot: Option<u16>,
}

impl<B> WriteAt<B> {
    pub(crate) fn new(fd: Arc<OwnedFd>, buf: B, pos: u64) -> Self {
        WriteAt {
            fd,
            buf,
            pos,
            slot: None,
        }
    }
}

// SAFETY: the only pointer in the SQE is the buffer's `stable_ptr`, heap or
// static memory owned by `self.buf` (`IoBuf`'s contract).
unsafe impl<B: IoBuf> OpKind for WriteAt<B> {
    type Output = BufResult<usize, B>;
    const OPCODE: u8 = opcode::Write::CODE;
    const STORAGE: bool = true;

    fn prepare(&mut self, ring: &Ring) -> io::Result<()> {
        self.slot = ring.registered_slot(self.buf.stable_ptr(), self.buf.bytes_init());
        Ok(())
    }

    fn sqe(&mut self) -> squeue::Entry {
        let len = ring_len(self.buf.bytes_init());
        if let Some(slot) = self.slot {
            return opcode::WriteFixed::new(
                types::Fd(self.fd.as_raw_fd()),
                self.buf.stable_ptr(),
                len,
                slot,
            )
            .offset(self.pos)
            .build();
        }
        opcode::Write::new(types::Fd(self.fd.as_raw_fd()), self.buf.stable_ptr(), len)
            .offset(self.pos)
            .build()
    }

    fn complete(self, cqe: Cqe) -> Self::Output {
        (cqe.into_result().map(|n| n as usize), self.buf)
    }

    fn blocking(self) -> Self::Output {
        let fd = self.fd.as_raw_fd();
        let ptr = self.buf.stable_ptr().cast::<libc::c_void>();
        let len = sqe_len(self.buf.bytes_init()) as usize;
        let pos = self.pos as libc::off_t;
        // SAFETY: `ptr` is valid for `len` initialized bytes (`IoBuf`).
        let mut res = cvt(unsafe { libc::pwrite(fd, ptr, len, pos) });
        if matches!(&res, Err(e) if e.raw_os_error() == Some(libc::ESPIPE)) {
            // A pipe or socket: like io_uring, ignore the position.
            // SAFETY: `ptr` is valid for `len` initialized bytes (`IoBuf`).
            res = cvt(unsafe { libc::write(fd, ptr, len) });
        }
        (res, self.buf)
    }

    fn fail(self, err: io::Error) -> Self::Output {
        (Err(err), self.buf)
    }
}
