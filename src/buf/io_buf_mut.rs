use super::IoBuf;

/// A buffer the kernel may write into while an operation is in flight.
///
/// A read writes at most [`bytes_total`](IoBuf::bytes_total) bytes starting
/// at [`stable_mut_ptr`](IoBufMut::stable_mut_ptr) (the start of the buffer,
/// not its end), then calls [`set_init`](IoBufMut::set_init) with the number
/// of bytes read. For a `Vec<u8>` that means the bytes land in
/// `vec[..n]` and `len` becomes `max(len, n)`: pass `Vec::with_capacity(n)` to
/// read into fresh space.
///
/// # Safety
///
/// As for [`IoBuf`]; in addition the `bytes_total()` bytes at
/// `stable_mut_ptr()` must be writable for as long as the value is alive.
pub unsafe trait IoBufMut: IoBuf {
    /// Mutable pointer to the first byte; stable across moves of `self`.
    fn stable_mut_ptr(&mut self) -> *mut u8;

    /// Marks the first `pos` bytes as initialized (never shrinks what was).
    ///
    /// # Safety
    ///
    /// The first `pos` bytes must have been initialized, and
    /// `pos <= self.bytes_total()`.
    unsafe fn set_init(&mut self, pos: usize);
}

// SAFETY: the Vec's allocation of `capacity` bytes is writable and stable.
unsafe impl IoBufMut for Vec<u8> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, pos: usize) {
        if self.len() < pos {
            // SAFETY: the caller guarantees `pos <= capacity` and that the
            // bytes up to `pos` are initialized.
            unsafe { self.set_len(pos) };
        }
    }
}

// SAFETY: a boxed slice is a writable, stable, fully initialized allocation.
unsafe impl IoBufMut for Box<[u8]> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, _pos: usize) {}
}

// SAFETY: the BytesMut's allocation of `capacity` bytes is writable and stable.
unsafe impl IoBufMut for bytes::BytesMut {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, pos: usize) {
        if self.len() < pos {
            // SAFETY: the caller guarantees `pos <= capacity` and that the
            // bytes up to `pos` are initialized.
            unsafe { self.set_len(pos) };
        }
    }
}
