//! The part of a buffer after its first `start` bytes, lent to the kernel
//! to continue a partial read or write.

use super::{IoBuf, IoBufMut};

pub(crate) struct Tail<B> {
    pub(crate) buf: B,
    pub(crate) start: usize,
}

// SAFETY: points `start` bytes into `buf`'s stable memory (`start` never
// exceeds `bytes_total`, checked by the callers), so it stays put and valid
// as `buf` does; the initialized bytes are those of `buf` past `start`.
unsafe impl<B: IoBuf> IoBuf for Tail<B> {
    fn stable_ptr(&self) -> *const u8 {
        // SAFETY: `start <= bytes_total`, within the allocation.
        unsafe { self.buf.stable_ptr().add(self.start) }
    }
    fn bytes_init(&self) -> usize {
        self.buf.bytes_init().saturating_sub(self.start)
    }
    fn bytes_total(&self) -> usize {
        self.buf.bytes_total() - self.start
    }
}

// SAFETY: as above; the writable bytes are `buf`'s past `start`.
unsafe impl<B: IoBufMut> IoBufMut for Tail<B> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        // SAFETY: `start <= bytes_total`, within the allocation.
        unsafe { self.buf.stable_mut_ptr().add(self.start) }
    }
    unsafe fn set_init(&mut self, pos: usize) {
        // SAFETY: the caller initialized `pos` bytes after `start`, and the
        // bytes before `start` were initialized by earlier reads.
        unsafe { self.buf.set_init(self.start + pos) }
    }
}

/// `buf`'s bytes from `start` to `end`: one part of a request the
/// scheduler splits.
pub(crate) struct Window<B> {
    pub(crate) buf: B,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

// SAFETY: points `start` bytes into `buf`'s stable memory, with
// `start <= end <= bytes_total` (checked by the callers), so the range
// stays put and valid as `buf` does.
unsafe impl<B: IoBuf> IoBuf for Window<B> {
    fn stable_ptr(&self) -> *const u8 {
        // SAFETY: `start <= bytes_total`, within the allocation.
        unsafe { self.buf.stable_ptr().add(self.start) }
    }
    fn bytes_init(&self) -> usize {
        self.buf
            .bytes_init()
            .min(self.end)
            .saturating_sub(self.start)
    }
    fn bytes_total(&self) -> usize {
        self.end - self.start
    }
}

// SAFETY: as above; the writable bytes are `buf`'s from `start` to `end`.
unsafe impl<B: IoBufMut> IoBufMut for Window<B> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        // SAFETY: `start <= bytes_total`, within the allocation.
        unsafe { self.buf.stable_mut_ptr().add(self.start) }
    }
    unsafe fn set_init(&mut self, pos: usize) {
        // SAFETY: the caller initialized `pos` bytes after `start`; the
        // parts before `start` were read first, in order.
        unsafe { self.buf.set_init(self.start + pos) }
    }
}
