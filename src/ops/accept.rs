use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use super::{blocking_io, cvt};
use crate::driver::{Cqe, OpKind};

/// The peer address the kernel fills in; boxed so it stays put.
struct AddrBuf {
    storage: socket2::SockAddrStorage,
    len: libc::socklen_t,
}

/// `IORING_OP_ACCEPT`: one connection, non-blocking and close-on-exec.
pub(crate) struct Accept {
    fd: Arc<OwnedFd>,
    addr: Box<AddrBuf>,
}

impl Accept {
    pub(crate) fn new(fd: Arc<OwnedFd>) -> Accept {
        Accept {
            fd,
            addr: Box::new(AddrBuf {
                storage: socket2::SockAddrStorage::zeroed(),
                len: std::mem::size_of::<socket2::SockAddrStorage>() as libc::socklen_t,
            }),
        }
    }

    /// The peer address the kernel wrote.
    fn take_addr(&mut self) -> socket2::SockAddr {
        let storage = std::mem::replace(&mut self.addr.storage, socket2::SockAddrStorage::zeroed());
        // SAFETY: the kernel wrote a valid address of `len` bytes into the
        // storage (or left zeroes: an unnamed address).
        unsafe { socket2::SockAddr::new(storage, self.addr.len) }
    }
}

fn owned(fd: u32) -> OwnedFd {
    // SAFETY: the kernel just returned this fd for us and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) }
}

const FLAGS: libc::c_int = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;

// SAFETY: the SQE points at `self.addr`'s heap allocation (address and
// length), which moving `self` does not move.
unsafe impl OpKind for Accept {
    /// The connection and the peer's address (unnamed for unnamed Unix peers).
    type Output = io::Result<(OwnedFd, socket2::SockAddr)>;
    const OPCODE: u8 = opcode::Accept::CODE;
    const WAITS: bool = true;

    fn sqe(&mut self) -> squeue::Entry {
        let addr = &mut *self.addr;
        opcode::Accept::new(
            types::Fd(self.fd.as_raw_fd()),
            (&raw mut addr.storage).cast(),
            &raw mut addr.len,
        )
        .flags(FLAGS)
        .build()
    }

    fn complete(mut self, cqe: Cqe) -> Self::Output {
        let fd = owned(cqe.into_result()?);
        Ok((fd, self.take_addr()))
    }

    fn blocking(mut self) -> Self::Output {
        let listener = self.fd.as_raw_fd();
        let addr = &mut *self.addr;
        let fd = blocking_io(listener, libc::POLLIN, || {
            // SAFETY: storage/len describe a writable sockaddr buffer.
            cvt(unsafe {
                libc::accept4(
                    listener,
                    (&raw mut addr.storage).cast(),
                    &raw mut addr.len,
                    FLAGS,
                )
            } as isize)
        })?;
        Ok((owned(fd as u32), self.take_addr()))
    }

    fn fail(self, err: io::Error) -> Self::Output {
        Err(err)
    }

    fn orphaned(&mut self, cqe: Cqe) {
        // Accepted after the future was dropped: close the connection.
        drop(cqe.into_result().map(owned));
    }
}

/// Accepts a connection that is already waiting, without io_uring:
/// `Ok(None)` if none is (`EAGAIN`). A burst of connections is then drained
/// with one system call each instead of one ring round trip each.
pub(crate) fn accept_now(listener: &OwnedFd) -> io::Result<Option<(OwnedFd, socket2::SockAddr)>> {
    let fd = listener.as_raw_fd();
    // SAFETY: `try_init` hands us storage and a length to fill, as accept4 does.
    let res = unsafe {
        socket2::SockAddr::try_init(|storage, len| {
            cvt(libc::accept4(fd, storage.cast(), len, FLAGS) as isize).map(|fd| owned(fd as u32))
        })
    };
    match res {
        Ok((fd, addr)) => Ok(Some((fd, addr))),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
        Err(e) => Err(e),
    }
}
