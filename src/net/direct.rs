//! System calls on a stream's socket made directly, not through the ring:
//! those Tokio makes the same way (`shutdown`), and a read where no ring
//! is at hand.

use std::io;
use std::os::fd::BorrowedFd;

use tokio::io::ReadBuf;

/// One non-blocking `recv` into `buf`'s unfilled part.
pub(crate) fn recv_now(fd: BorrowedFd<'_>, buf: &mut ReadBuf<'_>) -> io::Result<()> {
    let sock = socket2::SockRef::from(&fd);
    // SAFETY: `recv` only writes into the unfilled part, never
    // de-initializing it.
    let n = sock.recv_with_flags(unsafe { buf.unfilled_mut() }, libc::MSG_DONTWAIT)?;
    // SAFETY: the kernel initialized the `n` bytes it reports.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Ok(())
}

/// `shutdown(2)` as Tokio does it: a connection already gone (`ENOTCONN`,
/// e.g. after the peer's reset) has nothing left to shut down, so that is
/// `Ok(())`.
pub(crate) fn shutdown_fd(fd: BorrowedFd<'_>, how: std::net::Shutdown) -> io::Result<()> {
    match socket2::SockRef::from(&fd).shutdown(how) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        result => result,
    }
}
