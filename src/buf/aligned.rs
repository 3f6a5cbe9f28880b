use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::fmt;
use std::io;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

use super::{IoBuf, IoBufMut};

/// A zeroed buffer whose start and capacity are multiples of an alignment,
/// as `O_DIRECT` I/O requires. Get one sized for a file with
/// [`File::aligned_buf`](crate::fs::File::aligned_buf).
///
/// Buffers of up to 512 KiB aligned to at most 4096 bytes come from a
/// process-wide arena (up to 64 MiB, allocated in 4 MiB chunks and kept for
/// the life of the process) that shardio registers with io_uring: reads
/// and writes into them run as fixed-buffer operations, so the kernel does
/// not pin their pages per operation. Measured on this project's disk
/// (`benches/fs.rs`, 4 KiB O_DIRECT random reads at depth 32) that served
/// ~1.5x the reads of an unregistered buffer. Other sizes, and requests
/// beyond the arena, are plain heap allocations and work the same, only
/// without that saving; so do arena buffers on a ring where the kernel
/// refuses the registration (registered memory counts against
/// `RLIMIT_MEMLOCK` for processes without `CAP_IPC_LOCK`, 4 MiB per chunk
/// and ring).
///
/// ```
/// let buf = shardio::buf::AlignedBuf::new(8192, 4096)?;
/// assert_eq!(buf.as_ptr() as usize % 4096, 0);
/// assert_eq!(buf.len(), 8192);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct AlignedBuf {
    ptr: NonNull<u8>,
    len: usize,
    align: usize,
    origin: Origin,
}

/// Where an `AlignedBuf`'s memory comes from, to give it back there.
enum Origin {
    Heap(Layout),
    /// An arena block of this size class.
    Arena(u8),
}

// SAFETY: the buffer owns its allocation exclusively, like a Box<[u8]>.
unsafe impl Send for AlignedBuf {}
// SAFETY: shared access only reads, like &[u8].
unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    /// `len` zero bytes aligned to `align` (a power of two); `len` is
    /// rounded up to a multiple of `align`. Errors on a bad alignment or a
    /// failed allocation.
    pub fn new(len: usize, align: usize) -> io::Result<AlignedBuf> {
        let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
        if !align.is_power_of_two() {
            return Err(invalid(format!(
                "shardio: alignment {align} is not a power of two"
            )));
        }
        let len = len.max(1).div_ceil(align) * align;
        if let Some(block) = super::arena::alloc(len, align) {
            let ptr = NonNull::new(block.ptr).expect("arena blocks are never null");
            return Ok(AlignedBuf {
                ptr,
                len,
                align,
                origin: Origin::Arena(block.class),
            });
        }
        let layout = Layout::from_size_align(len, align)
            .map_err(|e| invalid(format!("shardio: aligned buffer of {len} bytes: {e}")))?;
        // SAFETY: the layout has a non-zero size.
        let ptr = NonNull::new(unsafe { alloc_zeroed(layout) }).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::OutOfMemory,
                "shardio: aligned buffer allocation failed",
            )
        })?;
        Ok(AlignedBuf {
            ptr,
            len,
            align,
            origin: Origin::Heap(layout),
        })
    }

    /// The alignment of the start and of the length.
    pub fn alignment(&self) -> usize {
        self.align
    }
}

impl Deref for AlignedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` initialized (zeroed) bytes owned by this buffer.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and `&mut self` gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        match self.origin {
            // SAFETY: allocated in `new` with this layout.
            Origin::Heap(layout) => unsafe { dealloc(self.ptr.as_ptr(), layout) },
            Origin::Arena(class) => {
                let block = super::arena::Block {
                    ptr: self.ptr.as_ptr(),
                    class,
                };
                // SAFETY: the block came from the arena in `new`; an
                // `AlignedBuf` is dropped only once the kernel let go of it
                // (operations own their buffers until the final CQE).
                unsafe { super::arena::free(block) }
            }
        }
    }
}

impl fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlignedBuf")
            .field("len", &self.len)
            .field("align", &self.align)
            .field("registered", &matches!(self.origin, Origin::Arena(_)))
            .finish()
    }
}

// SAFETY: a heap allocation that does not move with the handle, fully
// initialized (zeroed at allocation).
unsafe impl IoBuf for AlignedBuf {
    fn stable_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len
    }
    fn bytes_total(&self) -> usize {
        self.len
    }
}

// SAFETY: the allocation is writable and always fully initialized.
unsafe impl IoBufMut for AlignedBuf {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.ptr.as_ptr()
    }
    unsafe fn set_init(&mut self, _pos: usize) {}
}
