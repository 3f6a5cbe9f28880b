//! The heap bytes the client process's code holds, beside its RSS: a
//! counting global allocator.
//!
//! RSS alone misled once: when rounds held whole messages (up to 1 MiB
//! twice, for each slow reader), glibc raised its mmap threshold to the
//! size of the blocks freed and served later ones from its arenas, whose
//! freed memory it seldom gives back, so RSS climbed stepwise to the most
//! messages ever alive at once (the first 10-minute run: 802 MiB at 60 s,
//! 1544 MiB at 600 s, with nothing held by shardio and no fd open too
//! many). Rounds now hold 16 KiB chunks (`rounds.rs`), and this count says
//! what is alive whatever the allocator keeps.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The system allocator, counting the bytes alive.
pub(crate) struct Counting;

static LIVE: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to `System` with the caller's arguments,
// so `System`'s guarantees hold; the counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as u64, Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as u64, Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as u64, Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_add(new_size as u64, Relaxed);
            LIVE.fetch_sub(layout.size() as u64, Relaxed);
        }
        new
    }
}

/// Heap bytes the process's code holds now.
pub(crate) fn live() -> u64 {
    LIVE.load(Relaxed)
}
