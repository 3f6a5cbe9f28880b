//! A provided-buffer ring: receive buffers the kernel picks from when a
//! multishot receive completes, so an idle connection holds no buffer.
//!
//! One per io_uring ring (buffer group 0), registered on first use. Where
//! the kernel supports it (Linux 6.12+, `IOU_PBUF_RING_INC`) buffers are
//! consumed incrementally: small receives from many connections share a
//! buffer, each CQE's data starting where the previous one's ended, so a
//! burst of small messages on many connections does not run the ring dry.
//! A buffer goes back to the kernel (pushed at the ring's tail) once the
//! kernel is done filling it and every receiver is done with its part; the
//! memory lives as long as the ring.

use std::io;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use super::counters::counters;
use crate::sync::Mutex;
use io_uring::IoUring;
use io_uring::types::BufRingEntry;

/// The buffer group id shardio registers on each ring.
pub(crate) const BUF_GROUP: u16 = 0;

/// `IOU_PBUF_RING_INC` from the kernel's uapi.
const IOU_PBUF_RING_INC: u16 = 2;

/// Buffers per ring (a fault plan may make it fewer) and bytes per buffer.
const ENTRIES: u16 = 256;
const BUF_SIZE: usize = 16 * 1024;

pub(crate) struct BufRing {
    /// Buffers in the ring: `ENTRIES` (fewer under a fault plan), a power of two.
    count: u16,
    /// `count` ring entries, page aligned (mmap), shared with the kernel.
    entries: NonNull<BufRingEntry>,
    entries_len: usize,
    /// `count * BUF_SIZE` bytes the kernel receives into.
    data: NonNull<u8>,
    data_len: usize,
    /// Our producer tail; the kernel consumes from its head.
    tail: Mutex<u16>,
    /// Who still uses each buffer.
    acct: Arc<Accounting>,
}

/// Who still uses each provided buffer. Shared with the ring's reaping
/// code, which must account for CQEs in completion-queue order.
pub(crate) struct Accounting {
    bids: Mutex<Vec<BidState>>,
}

#[derive(Clone, Copy, Default)]
struct BidState {
    /// Bytes of the buffer the kernel has filled since it was recycled.
    consumed: u32,
    /// CQEs whose data in the buffer was not released yet.
    refs: u32,
    /// The kernel may still fill the rest of the buffer (`BUF_MORE`).
    kernel: bool,
    /// Bytes of received data in the buffer counted as held
    /// (`metrics().recv_bytes_held`) and not yet released: all of its CQEs'
    /// bytes until the last of them is released.
    held: u32,
}

impl Accounting {
    /// In completion-queue order: a CQE delivered `len` bytes of buffer
    /// `bid`; `more` if the kernel keeps the buffer for further data.
    /// Returns where the data starts in the buffer.
    pub(crate) fn consume(&self, bid: u16, len: u32, more: bool) -> u32 {
        let mut bids = self.bids.lock();
        let Some(st) = bids.get_mut(usize::from(bid)) else {
            return 0;
        };
        let offset = st.consumed;
        st.consumed = st.consumed.saturating_add(len);
        st.refs += 1;
        st.kernel = more;
        st.held = st.held.saturating_add(len);
        counters().recv_held(u64::from(len));
        offset
    }

    /// The data of one CQE in `bid` was released; true when the buffer
    /// can go back to the kernel.
    fn release(&self, bid: u16) -> bool {
        let mut bids = self.bids.lock();
        let Some(st) = bids.get_mut(usize::from(bid)) else {
            return false;
        };
        st.refs = st.refs.saturating_sub(1);
        if st.refs == 0 {
            // Every receiver of this buffer's data is done with it.
            counters().recv_released(u64::from(std::mem::take(&mut st.held)));
        }
        if st.refs == 0 && !st.kernel {
            st.consumed = 0;
            return true;
        }
        false
    }

    /// The ring goes away: what its buffers held is no longer anyone's.
    fn forget_held(&self) {
        let mut bids = self.bids.lock();
        let held: u64 = bids
            .iter_mut()
            .map(|st| u64::from(std::mem::take(&mut st.held)))
            .sum();
        counters().recv_released(held);
    }
}

// SAFETY: the raw pointers are to memory owned by this struct (freed in
// Drop); the entries are written only under `tail`'s lock, and a data buffer
// is read only by the receiver the kernel handed it to until it is recycled.
unsafe impl Send for BufRing {}
// SAFETY: as above; all shared mutation goes through the `tail` mutex.
unsafe impl Sync for BufRing {}

impl BufRing {
    /// Allocates the buffers and registers them with `uring` as group
    /// [`BUF_GROUP`].
    pub(crate) fn register(uring: &IoUring) -> io::Result<BufRing> {
        let count = crate::driver::fault::provided_buffers(ENTRIES);
        let entries_len = usize::from(count) * std::mem::size_of::<BufRingEntry>();
        let entries = mmap(entries_len)?.cast::<BufRingEntry>();
        let data_len = usize::from(count) * BUF_SIZE;
        let data = match mmap(data_len) {
            Ok(data) => data,
            Err(e) => {
                // SAFETY: `entries` was mapped above with this length.
                unsafe { libc::munmap(entries.as_ptr().cast(), entries_len) };
                return Err(e);
            }
        };
        let ring = BufRing {
            count,
            entries,
            entries_len,
            data,
            data_len,
            tail: Mutex::new(0),
            acct: Arc::new(Accounting {
                bids: Mutex::new(vec![BidState::default(); usize::from(count)]),
            }),
        };
        let register = |flags: u16| {
            // SAFETY: `entries` is page-aligned memory for `count` entries
            // that lives as long as `ring`, which the owning `Ring` drops only
            // after the io_uring instance (and so the registration) is gone.
            unsafe {
                uring.submitter().register_buf_ring_with_flags(
                    entries.as_ptr() as u64,
                    count,
                    BUF_GROUP,
                    flags,
                )
            }
        };
        // Incremental consumption where the kernel has it (EINVAL before 6.12).
        if register(IOU_PBUF_RING_INC).is_err() {
            register(0)?;
        }
        for bid in 0..count {
            ring.recycle(bid);
        }
        Ok(ring)
    }

    /// Bytes of this pool, shared by all its ring's connections (4 MiB;
    /// less under a fault plan).
    pub(crate) fn pool_bytes(&self) -> usize {
        self.data_len
    }

    /// The accounting the ring's reaping code feeds, in CQ order.
    pub(crate) fn accounting(&self) -> Arc<Accounting> {
        Arc::clone(&self.acct)
    }

    /// The data of one CQE in `bid` is no longer needed: hands the buffer
    /// back to the kernel once nothing else uses it.
    pub(crate) fn release(&self, bid: u16) {
        if self.acct.release(bid) {
            self.recycle(bid);
        }
    }

    /// Hands buffer `bid` back to the kernel.
    fn recycle(&self, bid: u16) {
        let mut tail = self.tail.lock();
        let index = usize::from(*tail & (self.count - 1));
        // SAFETY: `index < count`, within the mapped entries; the kernel
        // reads entries only up to the tail published below, and this slot
        // is beyond it.
        let entry = unsafe { &mut *self.entries.as_ptr().add(index) };
        entry.set_addr(self.buffer_ptr(bid) as u64);
        entry.set_len(BUF_SIZE as u32);
        entry.set_bid(bid);
        *tail = tail.wrapping_add(1);
        // SAFETY: the tail field lives in the first entry of the mapping;
        // the kernel reads it with acquire semantics, so the release store
        // publishes the entry written above.
        let shared_tail = unsafe { BufRingEntry::tail(self.entries.as_ptr()) };
        // SAFETY: u16 and AtomicU16 have the same layout; the location is
        // valid and aligned for the mapping's lifetime.
        unsafe { AtomicU16::from_ptr(shared_tail.cast_mut()) }.store(*tail, Ordering::Release);
    }

    fn buffer_ptr(&self, bid: u16) -> *mut u8 {
        debug_assert!(bid < self.count);
        // SAFETY: `bid < count`, so the offset is within the data mapping.
        unsafe { self.data.as_ptr().add(usize::from(bid) * BUF_SIZE) }
    }

    /// `len` bytes at `offset` in buffer `bid`.
    ///
    /// # Safety
    ///
    /// The kernel must have handed that part of `bid` to the caller in a CQE
    /// (`len` its result, `offset` from [`Accounting::consume`]) and the
    /// caller must not have released it yet.
    pub(crate) unsafe fn bytes(&self, bid: u16, offset: usize, len: usize) -> &[u8] {
        let offset = offset.min(BUF_SIZE);
        let len = len.min(BUF_SIZE - offset);
        // SAFETY: the range is in our mapping, written by the kernel before
        // it posted the CQE, and not written again until the buffer is
        // recycled, which waits for this part's release (caller).
        unsafe { std::slice::from_raw_parts(self.buffer_ptr(bid).add(offset), len) }
    }

    /// Gives up the memory without freeing it, for a ring dropped while the
    /// kernel might still write into it.
    pub(crate) fn leak(self) {
        self.acct.forget_held();
        std::mem::forget(self);
    }
}

fn mmap(len: usize) -> io::Result<NonNull<u8>> {
    // SAFETY: an anonymous private mapping has no preconditions.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    NonNull::new(ptr.cast()).ok_or_else(|| io::Error::other("mmap returned null"))
}

impl Drop for BufRing {
    fn drop(&mut self) {
        self.acct.forget_held();
        // SAFETY: both mappings were created with these lengths in `register`
        // and are not used after this (the ring is gone).
        unsafe {
            libc::munmap(self.entries.as_ptr().cast(), self.entries_len);
            libc::munmap(self.data.as_ptr().cast(), self.data_len);
        }
    }
}
