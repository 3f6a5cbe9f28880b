//! The eventfds the driver uses to wake a sleeper: a ring's (its reaper
//! task watches it) and a blocking-pool wait's cancel signal.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A new non-blocking, close-on-exec eventfd.
pub(crate) fn new() -> io::Result<OwnedFd> {
    // SAFETY: eventfd(2) has no memory-safety preconditions.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by eventfd(2) and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds one to the eventfd `fd`, making it readable.
pub(crate) fn signal(fd: BorrowedFd<'_>) -> io::Result<()> {
    let one = 1u64;
    // SAFETY: writes 8 bytes from a local u64 to a live fd.
    let n = unsafe {
        libc::write(
            fd.as_raw_fd(),
            (&raw const one).cast::<libc::c_void>(),
            std::mem::size_of::<u64>(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
