use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use crate::driver::{BUF_GROUP, BufLease, Cqe, MultishotKind, Ring, fault};

/// Multishot `IORING_OP_RECV` into the ring's provided buffers: one CQE per
/// chunk of received data, until end of stream, an error, `ENOBUFS`, or
/// `limit` bytes.
pub(crate) struct RecvMulti {
    pub(crate) fd: Arc<OwnedFd>,
    /// The most bytes this arming receives before it ends (its last data
    /// CQE lacks `IORING_CQE_F_MORE`): the kernel's overall multishot limit
    /// (`sqe->optlen`, Linux 6.16+; older kernels ignore it), and never
    /// more than [`POOL_SHARE`] of the ring's pool. 0: that share.
    pub(crate) limit: u32,
}

/// The most one arming may take of its ring's receive pool: a quarter, so
/// that one reader that stops reading cannot take every buffer of the
/// connections beside it.
const POOL_SHARE: usize = 4;

/// Offset of `optlen` in `struct io_uring_sqe` (the kernel's ABI).
const SQE_OPTLEN: usize = 44;

/// Sets the SQE's `optlen`, which the io-uring crate's `RecvMulti` builder
/// does not expose.
fn with_optlen(sqe: squeue::Entry, optlen: u32) -> squeue::Entry {
    const _: () = assert!(std::mem::size_of::<squeue::Entry>() == 64);
    // SAFETY: `squeue::Entry` is `#[repr(C)]` around the kernel's 64-byte
    // `io_uring_sqe`, plain data with no invalid bit patterns, so it may be
    // viewed as bytes and back; bytes 44..48 are its `optlen` field.
    let mut raw: [u8; 64] = unsafe { std::mem::transmute(sqe) };
    raw[SQE_OPTLEN..SQE_OPTLEN + 4].copy_from_slice(&optlen.to_ne_bytes());
    // SAFETY: as above; any bytes are a valid `io_uring_sqe`.
    unsafe { std::mem::transmute::<[u8; 64], squeue::Entry>(raw) }
}

/// One completion of a multishot receive.
pub(crate) enum Received {
    /// Received bytes; `true` if this CQE ended the receive (it reached its
    /// limit): the stream ends after it.
    Data(BufLease, bool),
    Eof,
}

// SAFETY: the SQE carries no pointers (the kernel picks provided buffers).
unsafe impl MultishotKind for RecvMulti {
    type Item = Received;
    const OPCODE: u8 = opcode::RecvMulti::CODE;
    // `StreamIo::poll_read` arms it again after an ECANCELED end.
    const REARMED_AFTER_CANCEL: bool = true;

    fn sqe(&mut self, ring: &Ring) -> io::Result<squeue::Entry> {
        let Some(bufs) = ring.bufs() else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no provided-buffer ring on this io_uring instance",
            ));
        };
        if fault::recv_no_buffers() {
            return Err(io::Error::from_raw_os_error(libc::ENOBUFS));
        }
        let share = u32::try_from(bufs.pool_bytes() / POOL_SHARE).unwrap_or(u32::MAX);
        let limit = match self.limit {
            0 => share,
            limit => limit.min(share),
        };
        let sqe = opcode::RecvMulti::new(types::Fd(self.fd.as_raw_fd()), BUF_GROUP).build();
        Ok(with_optlen(sqe, limit))
    }

    fn item(&mut self, cqe: Cqe, ring: &Arc<Ring>) -> io::Result<Received> {
        let bid = io_uring::cqueue::buffer_select(cqe.flags);
        let last = !io_uring::cqueue::more(cqe.flags);
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
            Some(bid) => Ok(Received::Data(
                unsafe { BufLease::new(Arc::clone(ring), bid, cqe.buf_offset as usize, n) },
                last,
            )),
            None if n == 0 => Ok(Received::Eof),
            None => Err(io::Error::other(
                "multishot receive completed without a buffer",
            )),
        }
    }
}
