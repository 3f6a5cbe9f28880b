//! The process-wide arena [`AlignedBuf`](super::AlignedBuf)s come from, so
//! that reads and writes into them can use registered ("fixed") buffers
//! without the caller asking: each arena chunk is registered with a ring
//! the first time an operation on that ring uses it, and from then on the
//! kernel does not pin the buffer's pages per operation.
//!
//! Memory is taken in chunks of [`CHUNK`] bytes, at most [`MAX_CHUNKS`] of
//! them, and never returned to the allocator (rings keep it registered
//! until they close); freed buffers go to a free list per power-of-two size
//! class. Requests the arena cannot serve (over [`MAX_CLASS`], alignment
//! over a page, arena full) are ordinary heap allocations.

use crate::sync::Mutex;
use std::alloc::{Layout, alloc_zeroed};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes per chunk: one registered buffer of the kernel's table each.
pub(crate) const CHUNK: usize = 4 << 20;
/// Chunks at most (64 MiB): the arena's slots in a ring's buffer table.
pub(crate) const MAX_CHUNKS: usize = 16;
/// The smallest size class (and the alignment of every arena buffer).
const MIN_CLASS: usize = 4096;
/// The largest size class; larger buffers come from the heap. A registered
/// buffer reaches the block layer as one segment per 4 KiB page (pinned user
/// pages that happen to be contiguous merge, these do not), so a 1 MiB
/// transfer is 256 segments: more than a virtio disk takes in one request
/// (254 here), and each 1 MiB write was split into 1016 KiB + 8 KiB
/// requests. 512 KiB (128 pages) stays below the usual limits.
const MAX_CLASS: usize = 512 << 10;
/// Size classes: 4 KiB, 8 KiB, ..., 512 KiB.
const CLASSES: usize = (MAX_CLASS / MIN_CLASS).trailing_zeros() as usize + 1;

/// An arena block: the memory of size class `class` at `ptr`.
pub(crate) struct Block {
    pub(crate) ptr: *mut u8,
    pub(crate) class: u8,
}

struct Carve {
    /// Chunks allocated so far.
    chunks: usize,
    /// Bytes of the newest chunk handed out.
    used: usize,
    /// Freed blocks per size class.
    free: [Vec<usize>; CLASSES],
}

struct Arena {
    /// Start address of each chunk; 0 = not allocated yet. Written once,
    /// under the `carve` lock, before any block of the chunk exists.
    bases: [AtomicUsize; MAX_CHUNKS],
    carve: Mutex<Carve>,
}

static ARENA: Arena = Arena {
    bases: [const { AtomicUsize::new(0) }; MAX_CHUNKS],
    carve: Mutex::new(Carve {
        chunks: 0,
        used: 0,
        free: [const { Vec::new() }; CLASSES],
    }),
};

/// The size class of a `len`-byte buffer aligned to `align`, if the arena
/// serves it, and the class's size in bytes.
fn class_of(len: usize, align: usize) -> Option<(u8, usize)> {
    if align > MIN_CLASS || len > MAX_CLASS {
        return None;
    }
    let size = len.max(MIN_CLASS).next_power_of_two();
    Some(((size / MIN_CLASS).trailing_zeros() as u8, size))
}

/// A zeroed, page-aligned block of at least `len` bytes, or `None` where
/// the heap should serve the request.
pub(crate) fn alloc(len: usize, align: usize) -> Option<Block> {
    let (class, size) = class_of(len, align)?;
    let mut carve = ARENA.carve.lock();
    if let Some(addr) = carve.free[class as usize].pop() {
        drop(carve);
        let ptr = addr as *mut u8;
        // SAFETY: a freed block of `size` bytes inside a live chunk, owned
        // by nobody until returned from here.
        unsafe { ptr.write_bytes(0, size) };
        return Some(Block { ptr, class });
    }
    if carve.chunks == 0 || carve.used + size > CHUNK {
        if carve.chunks == MAX_CHUNKS {
            return None;
        }
        let layout = Layout::from_size_align(CHUNK, MIN_CLASS).ok()?;
        // SAFETY: the layout has a non-zero size. The chunk is leaked: rings
        // may keep it registered until the process ends.
        let base = unsafe { alloc_zeroed(layout) };
        if base.is_null() {
            return None;
        }
        ARENA.bases[carve.chunks].store(base as usize, Ordering::Release);
        carve.chunks += 1;
        carve.used = 0;
    }
    let base = ARENA.bases[carve.chunks - 1].load(Ordering::Relaxed);
    let ptr = (base + carve.used) as *mut u8;
    carve.used += size;
    // Fresh chunk memory is zeroed by `alloc_zeroed`.
    Some(Block { ptr, class })
}

/// Returns a block from [`alloc`].
///
/// # Safety
///
/// `block` came from [`alloc`] and nothing (neither the kernel nor a
/// buffer) uses its memory any more.
pub(crate) unsafe fn free(block: Block) {
    let mut carve = ARENA.carve.lock();
    carve.free[block.class as usize].push(block.ptr as usize);
}

/// The chunk holding `[ptr, ptr + len)`, if the arena holds all of it.
pub(crate) fn chunk_of(ptr: *const u8, len: usize) -> Option<usize> {
    let addr = ptr as usize;
    for (i, base) in ARENA.bases.iter().enumerate() {
        let base = base.load(Ordering::Acquire);
        if base == 0 {
            return None;
        }
        if addr >= base && addr.checked_add(len)? <= base + CHUNK {
            return Some(i);
        }
    }
    None
}

/// The memory of chunk `i`, to register with a ring.
pub(crate) fn chunk_iovec(i: usize) -> Option<libc::iovec> {
    let base = ARENA.bases.get(i)?.load(Ordering::Acquire);
    (base != 0).then_some(libc::iovec {
        iov_base: base as *mut libc::c_void,
        iov_len: CHUNK,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_round_up_to_powers_of_two_from_a_page() {
        assert_eq!(class_of(1, 512), Some((0, 4096)));
        assert_eq!(class_of(4096, 4096), Some((0, 4096)));
        assert_eq!(class_of(4097, 4096), Some((1, 8192)));
        assert_eq!(class_of(512 << 10, 4096), Some((7, 512 << 10)));
        assert_eq!(class_of((512 << 10) + 1, 4096), None);
        assert_eq!(class_of(4096, 8192), None);
        assert_eq!(CLASSES, 8);
    }

    #[test]
    fn blocks_held_at_once_never_overlap_across_threads() {
        // Each thread stamps its blocks with its own byte over their whole
        // class size and checks the stamp before freeing: two holders of
        // overlapping memory would see each other's bytes.
        let threads: Vec<_> = (1..=4u8)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut x = 0x9e37_79b9_u64 * u64::from(t);
                    let mut held: Vec<(Block, usize)> = Vec::new();
                    for _ in 0..1_000 {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let len = 1 + (x % (64 * 1024)) as usize;
                        if let Some(block) = alloc(len, 4096) {
                            let size = class_of(len, 4096).unwrap().1;
                            // SAFETY: the block is ours, `size` bytes long.
                            let bytes = unsafe { std::slice::from_raw_parts_mut(block.ptr, size) };
                            assert!(bytes.iter().all(|&b| b == 0), "handed out zeroed");
                            bytes.fill(t);
                            held.push((block, size));
                        }
                        if held.len() > 8 || (x & 1 == 0 && !held.is_empty()) {
                            let (block, size) = held.swap_remove((x as usize / 2) % held.len());
                            // SAFETY: as above.
                            let bytes = unsafe { std::slice::from_raw_parts(block.ptr, size) };
                            assert!(bytes.iter().all(|&b| b == t), "nobody else wrote here");
                            // SAFETY: from `alloc`, no longer used.
                            unsafe { free(block) };
                        }
                    }
                    for (block, _) in held {
                        // SAFETY: from `alloc`, no longer used.
                        unsafe { free(block) };
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("no overlap, no panic");
        }
    }

    #[test]
    fn blocks_are_reused_zeroed_and_found_in_their_chunk() {
        let a = alloc(4096, 4096).unwrap();
        assert_eq!(a.ptr as usize % 4096, 0);
        let chunk = chunk_of(a.ptr, 4096).unwrap();
        assert!(chunk_of(a.ptr, CHUNK + 1).is_none());
        // SAFETY: the block is ours and 4096 bytes long.
        unsafe { a.ptr.write_bytes(0xab, 4096) };
        let addr = a.ptr as usize;
        // SAFETY: from `alloc`, no longer used.
        unsafe { free(a) };
        // Other tests may take the freed block first: look for it a while.
        let mut held = Vec::new();
        for _ in 0..64 {
            let b = alloc(4096, 4096).unwrap();
            if b.ptr as usize == addr {
                // SAFETY: the block is ours and 4096 bytes long.
                let bytes = unsafe { std::slice::from_raw_parts(b.ptr, 4096) };
                assert!(bytes.iter().all(|&x| x == 0), "a reused block is zeroed");
                held.push(b);
                break;
            }
            held.push(b);
        }
        assert!(chunk_iovec(chunk).is_some());
        for b in held {
            // SAFETY: from `alloc`, no longer used.
            unsafe { free(b) };
        }
    }
}
