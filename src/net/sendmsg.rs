//! A stream write as Tokio makes it: one non-blocking `sendmsg` straight
//! from the caller's buffers, so the bytes are in the kernel when it returns.

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, OwnedFd};

use crate::driver::fault;

/// Most bytes one `poll_write` sends: what one scheduler charge covers.
pub(crate) const WRITE_CHUNK: usize = 64 * 1024;
/// Most buffers one vectored write sends.
const WRITE_IOVECS: usize = 64;

/// One non-blocking `sendmsg` of the first `max` bytes of `bufs` (at most
/// [`WRITE_CHUNK`], and [`WRITE_IOVECS`] buffers), without `SIGPIPE`.
pub(crate) fn send_vectored(fd: &OwnedFd, bufs: &[IoSlice<'_>], max: usize) -> io::Result<usize> {
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; WRITE_IOVECS];
    let mut count = 0;
    let limit = max.clamp(1, WRITE_CHUNK);
    let mut room = limit;
    for buf in bufs.iter().filter(|b| !b.is_empty()) {
        if count == WRITE_IOVECS || room == 0 {
            break;
        }
        let len = buf.len().min(room);
        iov[count] = libc::iovec {
            iov_base: buf.as_ptr().cast_mut().cast(),
            iov_len: len,
        };
        room -= len;
        count += 1;
    }
    if count == 0 {
        return Ok(0);
    }
    // Under a fault plan, sometimes offer the kernel fewer bytes: a short write.
    let offered = limit - room;
    let mut cut = offered - fault::short_len(offered);
    while cut > 0 {
        let last = &mut iov[count - 1];
        if last.iov_len > cut {
            last.iov_len -= cut;
            cut = 0;
        } else {
            cut -= last.iov_len;
            count -= 1;
        }
    }
    // SAFETY: all-zero is a valid msghdr (no address, no control data).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = count as _;
    // SAFETY: `msg` points at `count` iovecs, each into a live buffer of
    // `bufs` for its length; sendmsg only reads them, during the call.
    let n = unsafe {
        libc::sendmsg(
            fd.as_raw_fd(),
            &msg,
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}
