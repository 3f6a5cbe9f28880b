//! One io_uring opcode per file: the SQE it builds, what its completion
//! means, and its blocking equivalent for the fallback path.

pub(crate) mod fsync;
pub(crate) mod nop;
pub(crate) mod open;
pub(crate) mod read_at;
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
