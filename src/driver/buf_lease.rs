//! `BufLease`: a received chunk of a ring's provided buffer, handed back to
//! the kernel when the receiver drops it.

use std::sync::Arc;

use super::ring::Ring;

/// A provided buffer the kernel filled, owned by the receiver until dropped
/// (which hands it back to the kernel).
pub(crate) struct BufLease {
    ring: Arc<Ring>,
    bid: u16,
    offset: usize,
    len: usize,
}

impl BufLease {
    /// # Safety
    ///
    /// `bid` and `offset` must come from a CQE of `ring` with result `len`,
    /// whose part of the buffer nobody else leases or releases.
    pub(crate) unsafe fn new(ring: Arc<Ring>, bid: u16, offset: usize, len: usize) -> Self {
        BufLease {
            ring,
            bid,
            offset,
            len,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self.ring.bufs() {
            // SAFETY: the lease owns `bid` until dropped (constructor).
            Some(bufs) => unsafe { bufs.bytes(self.bid, self.offset, self.len) },
            None => unreachable!("a lease exists only for a ring with buffers"),
        }
    }
}

impl Drop for BufLease {
    fn drop(&mut self) {
        if let Some(bufs) = self.ring.bufs() {
            bufs.release(self.bid);
        }
    }
}
