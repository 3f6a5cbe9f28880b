//! `IORING_OP_READ_FIXED` / `IORING_OP_WRITE_FIXED` at an offset, into and
//! from a [`FixedBuf`] registered with the ring: [`ReadAt`] / [`WriteAt`]
//! whose buffer slot is the pool buffer's, with the pool registered (or the
//! operation sent down the fallback path) before the SQE is built.

use std::io;

use io_uring::{opcode, squeue};

use super::read_at::ReadAt;
use super::write_at::WriteAt;
use crate::buf::FixedBuf;
use crate::driver::{Cqe, OpKind, POOL_BASE, Ring};

pub(crate) struct ReadFixedAt(pub(crate) ReadAt<FixedBuf>);

pub(crate) struct WriteFixedAt(pub(crate) WriteAt<FixedBuf>);

/// `OpKind` for a fixed-buffer wrapper of `$inner`: `prepare` registers the
/// pool and sets the slot, everything else is `$inner`'s.
macro_rules! fixed_op {
    ($op:ident, $inner:ident, $opcode:ident) => {
        // SAFETY: the only pointer in the SQE is the buffer's, inside its
        // pool's allocation, which never moves or goes away (and is
        // registered with the ring by `prepare` before the SQE is built).
        unsafe impl OpKind for $op {
            type Output = <$inner<FixedBuf> as OpKind>::Output;
            const OPCODE: u8 = opcode::$opcode::CODE;
            const STORAGE: bool = true;

            fn prepare(&mut self, ring: &Ring) -> io::Result<()> {
                let buf = &self.0.buf;
                ring.register_fixed(buf.pool())?;
                self.0.slot = Some(buf.index() + POOL_BASE as u16);
                crate::driver::counters().op_registered_buf();
                Ok(())
            }

            fn sqe(&mut self) -> squeue::Entry {
                self.0.sqe()
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
    };
}

fixed_op!(ReadFixedAt, ReadAt, ReadFixed);
fixed_op!(WriteFixedAt, WriteAt, WriteFixed);
