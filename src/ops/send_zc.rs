use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use super::sqe_len;
use crate::buf::IoBuf;
use crate::driver::{Cqe, MultishotKind, Ring};

/// `IORING_OP_SEND_ZC`: the kernel sends from the buffer without copying it.
/// Two CQEs: the result (flagged `F_MORE`), then a notification once the
/// kernel no longer reads the buffer; the multishot lifecycle keeps the
/// buffer alive until that second one.
pub(crate) struct SendZc<B> {
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) buf: B,
}

/// One CQE of a zero-copy send.
pub(crate) enum ZcEvent {
    /// The send's result: bytes sent.
    Sent(usize),
    /// The kernel let go of the buffer.
    Released,
}

// SAFETY: the only pointer in the SQE is the buffer's `stable_ptr`, owned by
// `self.buf` (`IoBuf`), which the lifecycle keeps until the final CQE.
unsafe impl<B: IoBuf> MultishotKind for SendZc<B> {
    type Item = ZcEvent;
    const OPCODE: u8 = opcode::SendZc::CODE;

    fn sqe(&mut self, _ring: &Ring) -> io::Result<squeue::Entry> {
        let len = sqe_len(self.buf.bytes_init());
        Ok(
            opcode::SendZc::new(types::Fd(self.fd.as_raw_fd()), self.buf.stable_ptr(), len)
                .flags(libc::MSG_NOSIGNAL | libc::MSG_WAITALL)
                .build(),
        )
    }

    fn item(&mut self, cqe: Cqe, _ring: &Arc<Ring>) -> io::Result<ZcEvent> {
        if io_uring::cqueue::notif(cqe.flags) {
            return Ok(ZcEvent::Released);
        }
        cqe.into_result().map(|n| ZcEvent::Sent(n as usize))
    }
}

impl<B> SendZc<B> {
    pub(crate) fn into_buf(self) -> B {
        self.buf
    }
}
