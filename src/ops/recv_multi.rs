use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use crate::driver::{BUF_GROUP, BufLease, Cqe, MultishotKind, Ring};

/// Multishot `IORING_OP_RECV` into the ring's provided buffers: one CQE per
/// chunk of received data, until end of stream, an error, or `ENOBUFS`.
pub(crate) struct RecvMulti {
    pub(crate) fd: Arc<OwnedFd>,
}

/// One completion of a multishot receive.
pub(crate) enum Received {
    Data(BufLease),
    Eof,
}

// SAFETY: the SQE carries no pointers (the kernel picks provided buffers).
unsafe impl MultishotKind for RecvMulti {
    type Item = Received;
    const OPCODE: u8 = opcode::RecvMulti::CODE;

    fn sqe(&mut self, ring: &Ring) -> io::Result<squeue::Entry> {
        if ring.bufs().is_none() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no provided-buffer ring on this io_uring instance",
            ));
        }
        Ok(opcode::RecvMulti::new(types::Fd(self.fd.as_raw_fd()), BUF_GROUP).build())
    }

    fn item(&mut self, cqe: Cqe, ring: &Arc<Ring>) -> io::Result<Received> {
        let bid = io_uring::cqueue::buffer_select(cqe.flags);
        let n = match cqe.into_result() {
            Ok(n) => n as usize,
            Err(e) => {
                // An error carries no data; should it carry a buffer, the
                // buffer must still go back to the kernel.
                if let (Some(bid), Some(bufs)) = (bid, ring.bufs()) {
                    bufs.release(bid);
                }
                return Err(e);
            }
        };
        match bid {
            // SAFETY: the kernel handed us `n` bytes of `bid` at this offset
            // in this CQE (the reaper accounted for it in CQ order).
            Some(bid) => Ok(Received::Data(unsafe {
                BufLease::new(Arc::clone(ring), bid, cqe.buf_offset as usize, n)
            })),
            None if n == 0 => Ok(Received::Eof),
            None => Err(io::Error::other(
                "multishot receive completed without a buffer",
            )),
        }
    }
}
