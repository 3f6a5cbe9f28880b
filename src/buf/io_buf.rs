/// A buffer the kernel may read from while an operation is in flight.
///
/// # Safety
///
/// The memory at [`stable_ptr`](IoBuf::stable_ptr) must stay valid and must not
/// move for as long as the value is alive, even if the value itself is moved
/// (the bytes live on the heap or in static memory, not inline), and the first
/// [`bytes_init`](IoBuf::bytes_init) bytes must be initialized.
pub unsafe trait IoBuf: Send + 'static {
    /// Pointer to the first byte; stable across moves of `self`.
    fn stable_ptr(&self) -> *const u8;

    /// Number of initialized bytes: what a write sends.
    fn bytes_init(&self) -> usize;

    /// Total number of bytes the buffer can hold.
    fn bytes_total(&self) -> usize;
}

// SAFETY: a Vec's heap allocation does not move when the Vec is moved, and its
// first `len` bytes are initialized.
unsafe impl IoBuf for Vec<u8> {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.capacity()
    }
}

// SAFETY: a boxed slice is a fixed heap allocation, fully initialized.
unsafe impl IoBuf for Box<[u8]> {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.len()
    }
}

// SAFETY: a String's bytes live in a heap Vec, see the Vec impl.
unsafe impl IoBuf for String {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.capacity()
    }
}

// SAFETY: static memory never moves and is initialized.
unsafe impl IoBuf for &'static [u8] {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.len()
    }
}

// SAFETY: static memory never moves and is initialized.
unsafe impl IoBuf for &'static str {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.len()
    }
}

// SAFETY: `Bytes` points at reference-counted heap or static memory that does
// not move while this handle keeps it alive; all of it is initialized.
unsafe impl IoBuf for bytes::Bytes {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.len()
    }
}

// SAFETY: `BytesMut` owns a heap allocation that does not move when the handle
// moves; its first `len` bytes are initialized.
unsafe impl IoBuf for bytes::BytesMut {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.capacity()
    }
}
