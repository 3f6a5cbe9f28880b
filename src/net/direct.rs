//! System calls on a stream's socket made directly, not through the ring:
//! those Tokio makes the same way (`shutdown`), and a read where no ring
//! is at hand.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use tokio::io::ReadBuf;

/// One non-blocking `recv` into `buf`'s unfilled part.
pub(crate) fn recv_now(fd: BorrowedFd<'_>, buf: &mut ReadBuf<'_>) -> io::Result<()> {
    // SAFETY: `recv` writes at most `len` bytes into the unfilled part,
    // which stays borrowed for the call; the bytes it reports are then
    // initialized, which is what `assume_init` is told.
    unsafe {
        let dst = buf.unfilled_mut();
        let n = libc::recv(
            fd.as_raw_fd(),
            dst.as_mut_ptr().cast(),
            dst.len(),
            libc::MSG_DONTWAIT,
        );
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        buf.assume_init(n as usize);
        buf.advance(n as usize);
    }
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
