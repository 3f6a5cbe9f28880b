//! A provided-buffer ring: receive buffers the kernel picks from when a
//! multishot receive completes, so an idle connection holds no buffer.
//!
//! One per io_uring ring (buffer group 0), registered on first use. A buffer
//! handed out by a CQE belongs to the receiver until it is recycled (pushed
//! back at the ring's tail); the memory lives as long as the ring.

use std::io;
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::IoUring;
use io_uring::types::BufRingEntry;

/// The buffer group id shardio registers on each ring.
pub(crate) const BUF_GROUP: u16 = 0;

/// Buffers per ring and bytes per buffer.
const ENTRIES: u16 = 256;
const BUF_SIZE: usize = 16 * 1024;

pub(crate) struct BufRing {
    /// `ENTRIES` ring entries, page aligned (mmap), shared with the kernel.
    entries: NonNull<BufRingEntry>,
    entries_len: usize,
    /// `ENTRIES * BUF_SIZE` bytes the kernel receives into.
    data: NonNull<u8>,
    data_len: usize,
    /// Our producer tail; the kernel consumes from its head.
    tail: Mutex<u16>,
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
        let entries_len = usize::from(ENTRIES) * std::mem::size_of::<BufRingEntry>();
        let entries = mmap(entries_len)?.cast::<BufRingEntry>();
        let data_len = usize::from(ENTRIES) * BUF_SIZE;
        let data = match mmap(data_len) {
            Ok(data) => data,
            Err(e) => {
                // SAFETY: `entries` was mapped above with this length.
                unsafe { libc::munmap(entries.as_ptr().cast(), entries_len) };
                return Err(e);
            }
        };
        let ring = BufRing {
            entries,
            entries_len,
            data,
            data_len,
            tail: Mutex::new(0),
        };
        // SAFETY: `entries` is page-aligned memory for ENTRIES entries that
        // lives as long as `ring`, which the owning `Ring` drops only after
        // the io_uring instance (and so the registration) is gone.
        unsafe {
            uring.submitter().register_buf_ring_with_flags(
                entries.as_ptr() as u64,
                ENTRIES,
                BUF_GROUP,
                0,
            )?;
        }
        for bid in 0..ENTRIES {
            ring.recycle(bid);
        }
        Ok(ring)
    }

    /// Hands buffer `bid` back to the kernel.
    pub(crate) fn recycle(&self, bid: u16) {
        let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        let index = usize::from(*tail & (ENTRIES - 1));
        // SAFETY: `index < ENTRIES`, within the mapped entries; the kernel
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
        debug_assert!(bid < ENTRIES);
        // SAFETY: `bid < ENTRIES`, so the offset is within the data mapping.
        unsafe { self.data.as_ptr().add(usize::from(bid) * BUF_SIZE) }
    }

    /// The first `len` bytes of buffer `bid`.
    ///
    /// # Safety
    ///
    /// The kernel must have handed `bid` to the caller in a CQE (with `len`
    /// its result) and the caller must not have recycled it yet.
    pub(crate) unsafe fn bytes(&self, bid: u16, len: usize) -> &[u8] {
        let len = len.min(BUF_SIZE);
        // SAFETY: the buffer is in our mapping, initialized by the kernel up
        // to `len`, and nobody writes it until it is recycled (caller).
        unsafe { std::slice::from_raw_parts(self.buffer_ptr(bid), len) }
    }

    /// Gives up the memory without freeing it, for a ring dropped while the
    /// kernel might still write into it.
    pub(crate) fn leak(self) {
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
        // SAFETY: both mappings were created with these lengths in `register`
        // and are not used after this (the ring is gone).
        unsafe {
            libc::munmap(self.entries.as_ptr().cast(), self.entries_len);
            libc::munmap(self.data.as_ptr().cast(), self.data_len);
        }
    }
}

/// A provided buffer the kernel filled, owned by the receiver until dropped
/// (which hands it back to the kernel).
pub(crate) struct BufLease {
    ring: std::sync::Arc<super::Ring>,
    bid: u16,
    len: usize,
}

impl BufLease {
    /// # Safety
    ///
    /// `bid` must come from a CQE of `ring` with result `len`, and not be
    /// leased or recycled by anyone else.
    pub(crate) unsafe fn new(ring: std::sync::Arc<super::Ring>, bid: u16, len: usize) -> Self {
        BufLease { ring, bid, len }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self.ring.bufs() {
            // SAFETY: the lease owns `bid` until dropped (constructor).
            Some(bufs) => unsafe { bufs.bytes(self.bid, self.len) },
            None => unreachable!("a lease exists only for a ring with buffers"),
        }
    }
}

impl Drop for BufLease {
    fn drop(&mut self) {
        if let Some(bufs) = self.ring.bufs() {
            bufs.recycle(self.bid);
        }
    }
}
