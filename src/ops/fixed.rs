//! `IORING_OP_READ_FIXED` / `IORING_OP_WRITE_FIXED` at an offset, into and
//! from a [`FixedBuf`] registered with the ring: [`ReadAt`] / [`WriteAt`]
//! with another SQE, and the pool registered before it is built.

use std::io;
use std::os::fd::AsRawFd;

use io_uring::{opcode, squeue, types};

use super::read_at::ReadAt;
use super::write_at::WriteAt;
use crate::buf::{FixedBuf, IoBuf, IoBufMut};
use crate::driver::{Cqe, OpKind, POOL_BASE, Ring};

pub(crate) struct ReadFixedAt(pub(crate) ReadAt<FixedBuf>);

pub(crate) struct WriteFixedAt(pub(crate) WriteAt<FixedBuf>);

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// SAFETY: the only pointer in the SQE is the buffer's, inside its pool's
// allocation, which never moves or goes away (and is registered with the
// ring by `prepare` before the SQE is built).
unsafe impl OpKind for ReadFixedAt {
    type Output = <ReadAt<FixedBuf> as OpKind>::Output;
    const OPCODE: u8 = opcode::ReadFixed::CODE;
    const STORAGE: bool = true;

    fn prepare(&mut self, ring: &Ring) -> io::Result<()> {
        ring.register_fixed(self.0.buf.pool())?;
        crate::metrics::counters().op_registered_buf();
        Ok(())
    }

    fn sqe(&mut self) -> squeue::Entry {
        let op = &mut self.0;
        let len = len32(op.buf.bytes_total());
        opcode::ReadFixed::new(
            types::Fd(op.fd.as_raw_fd()),
            op.buf.stable_mut_ptr(),
            len,
            op.buf.index() + POOL_BASE as u16,
        )
        .offset(op.pos)
        .build()
    }

    fn complete(self, cqe: Cqe) -> Self::Output {
        self.0.complete(cqe)
    }

    fn blocking(self) -> Self::Output {
        self.0.blocking()
    }

    fn fail(self, err: io::Error) -> Self::Output {
        self.0.fail(err)
    }
}

// SAFETY: as for `ReadFixedAt`.
unsafe impl OpKind for WriteFixedAt {
    type Output = <WriteAt<FixedBuf> as OpKind>::Output;
    const OPCODE: u8 = opcode::WriteFixed::CODE;
    const STORAGE: bool = true;

    fn prepare(&mut self, ring: &Ring) -> io::Result<()> {
        ring.register_fixed(self.0.buf.pool())?;
        crate::metrics::counters().op_registered_buf();
        Ok(())
    }

    fn sqe(&mut self) -> squeue::Entry {
        let op = &self.0;
        opcode::WriteFixed::new(
            types::Fd(op.fd.as_raw_fd()),
            op.buf.stable_ptr(),
            len32(op.buf.bytes_init()),
            op.buf.index() + POOL_BASE as u16,
        )
        .offset(op.pos)
        .build()
    }

    fn complete(self, cqe: Cqe) -> Self::Output {
        self.0.complete(cqe)
    }

    fn blocking(self) -> Self::Output {
        self.0.blocking()
    }

    fn fail(self, err: io::Error) -> Self::Output {
        self.0.fail(err)
    }
}
