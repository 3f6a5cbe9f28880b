use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use super::{cvt, read_done, ring_len, sqe_len};
use crate::BufResult;
use crate::buf::IoBufMut;
use crate::driver::{Cqe, OpKind, Ring};

/// `IORING_OP_READ` at an offset (ignored by pipes and sockets).
pub(crate) struct ReadAt<B> {
    /// Kept alive by the op so the fd cannot be closed while in flight.
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) buf: B,
    pub(crate) pos: u64,
    /// The buffer-table slot of `buf`'s memory on the op's ring, if it is
    /// registered (set by `prepare`: the `AlignedBuf` arena, or a
    /// `FixedBufPool` by `ReadFixedAt`); the SQE is then `READ_FIXED`.
    pub(crate) slot: Option<u16>,
}

impl<B> ReadAt<B> {
    pub(crate) fn new(fd: Arc<OwnedFd>, buf: B, pos: u64) -> Self {
        ReadAt {
            fd,
            buf,
            pos,
            slot: None,
        }
    }
}

// SAFETY: the only pointer in the SQE is the buffer's `stable_mut_ptr`, heap
// or static memory owned by `self.buf` (`IoBufMut`'s contract).
unsafe impl<B: IoBufMut> OpKind for ReadAt<B> {
    type Output = BufResult<usize, B>;
    const OPCODE: u8 = opcode::Read::CODE;
    const STORAGE: bool = true;

    fn prepare(&mut self, ring: &Ring) -> io::Result<()> {
        self.slot = ring.registered_slot(self.buf.stable_mut_ptr(), self.buf.bytes_total());
        Ok(())
    }

    fn sqe(&mut self) -> squeue::Entry {
        let len = ring_len(self.buf.bytes_total());
        if let Some(slot) = self.slot {
            return opcode::ReadFixed::new(
                types::Fd(self.fd.as_raw_fd()),
                self.buf.stable_mut_ptr(),
                len,
                slot,
            )
            .offset(self.pos)
            .build();
        }
        opcode::Read::new(
            types::Fd(self.fd.as_raw_fd()),
            self.buf.stable_mut_ptr(),
            len,
        )
        .offset(self.pos)
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
        let pos = self.pos as libc::off_t;
        // SAFETY: `ptr` is valid for `len` writable bytes (`IoBufMut`).
        let mut res = cvt(unsafe { libc::pread(fd, ptr, len, pos) });
        if matches!(&res, Err(e) if e.raw_os_error() == Some(libc::ESPIPE)) {
            // A pipe or socket: like io_uring, ignore the position.
            // SAFETY: `ptr` is valid for `len` writable bytes (`IoBufMut`).
            res = cvt(unsafe { libc::read(fd, ptr, len) });
        }
        // SAFETY: the kernel wrote the `n <= len` bytes it returned at `ptr`,
        // the buffer's start.
        unsafe { read_done(res, self.buf) }
    }

    fn fail(self, err: io::Error) -> Self::Output {
        (Err(err), self.buf)
    }
}
