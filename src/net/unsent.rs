//! A bound on what a paced TCP socket holds unsent (`TCP_NOTSENT_LOWAT`):
//! the pacing lets through what the model says the link takes, and where
//! the model is too fast the rest would wait in the socket's send buffer
//! (autotuned to about a megabyte), behind which the scheduler's order no
//! longer counts. With the bound, a send finds the buffer full once that
//! much waits, and the writer waits on the ring for the kernel to send it.

use std::os::fd::{AsRawFd, BorrowedFd};

/// How many of the device's paced sends a socket may hold unsent. The
/// kernel lets a send add to its last packet beyond the bound, up to a
/// segment (64 KiB with segmentation offload), so the most seen is about
/// that more.
const SENDS_UNSENT: usize = 2;

fn get(fd: BorrowedFd<'_>) -> Option<libc::c_int> {
    let mut val: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `fd` is open for the call; `val` and `len` are valid for
    // writes of the sizes `len` says.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NOTSENT_LOWAT,
            (&raw mut val).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(val)
}

/// Whether the socket took `val` (one that refuses, not TCP, just keeps
/// its buffers).
fn set(fd: BorrowedFd<'_>, val: libc::c_int) -> bool {
    // SAFETY: `fd` is open for the call; `val` is valid for reads of its
    // size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NOTSENT_LOWAT,
            (&raw const val).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

/// Bounds what `fd` holds unsent to [`SENDS_UNSENT`] sends of `send_len`
/// bytes (the device's paced send size), unless the application set a
/// bound of its own. Returns whether it set one (to take back with
/// [`unbound`]).
pub(super) fn bound(fd: BorrowedFd<'_>, send_len: usize) -> bool {
    if get(fd) != Some(0) {
        return false;
    }
    let bytes = send_len.saturating_mul(SENDS_UNSENT).max(1);
    set(fd, libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX))
}

/// Takes back the bound [`bound`] set (the system's default applies
/// again), for a socket leaving shardio.
pub(super) fn unbound(fd: BorrowedFd<'_>) {
    // A socket that took the bound takes 0 as well.
    let _ = set(fd, 0);
}
