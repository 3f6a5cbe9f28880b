//! One io_uring opcode per file: the SQE it builds, what its completion
//! means, and its blocking equivalent for the fallback path.

pub(crate) mod accept;
pub(crate) mod accept_multi;
pub(crate) mod connect;
pub(crate) mod fixed;
pub(crate) mod fsync;
pub(crate) mod ftruncate;
pub(crate) mod link;
pub(crate) mod mkdir;
pub(crate) mod nop;
pub(crate) mod open;
pub(crate) mod path;
pub(crate) mod poll;
pub(crate) mod poll_multi;
pub(crate) mod read_at;
pub(crate) mod read_cached;
pub(crate) mod recv;
pub(crate) mod recv_multi;
pub(crate) mod rename;
pub(crate) mod send;
pub(crate) mod send_zc;
pub(crate) mod unlink;
pub(crate) mod vectored;
pub(crate) mod write_at;

use std::io;

/// `Ok(n)` for a non-negative return value of a libc call, the errno otherwise.
pub(crate) fn cvt(ret: isize) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// A buffer length as an SQE's 32-bit length: longer buffers are capped at
/// `u32::MAX` bytes, and the read or write is then short, as any may be.
pub(crate) fn sqe_len(bytes: usize) -> u32 {
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// The length a read, write, send or receive asks the ring to transfer:
/// [`sqe_len`], shortened now and then under a fault plan.
pub(crate) fn ring_len(bytes: usize) -> u32 {
    sqe_len(crate::driver::fault::short_len(bytes))
}

/// A read's result with its buffer, the `n` bytes of an `Ok(n)` marked
/// initialized at the buffer's start.
///
/// # Safety
///
/// On `Ok(n)`, the read wrote `n` bytes (at most `bytes_total`) at the start
/// of `buf`'s `stable_mut_ptr`.
pub(crate) unsafe fn read_done<B: crate::buf::IoBufMut>(
    res: io::Result<usize>,
    mut buf: B,
) -> crate::BufResult<usize, B> {
    if let Ok(n) = res {
        // SAFETY: the caller's read wrote these `n` bytes.
        unsafe { buf.set_init(n) };
    }
    (res, buf)
}

/// Runs a socket call on the blocking pool: retries `f` after waiting with
/// `poll(2)` for `events` while it reports `EAGAIN` (the socket is
/// non-blocking, as Tokio requires).
pub(crate) fn blocking_io<T>(
    fd: std::os::fd::RawFd,
    events: libc::c_short,
    mut f: impl FnMut() -> io::Result<T>,
) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                crate::driver::wait_for(fd, events)?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}
