use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use super::blocking_io;
use crate::driver::{Cqe, OpKind};

/// `IORING_OP_CONNECT` of a non-blocking socket.
pub(crate) struct Connect {
    pub(crate) fd: Arc<OwnedFd>,
    /// Boxed: the kernel reads it after submission.
    pub(crate) addr: Box<socket2::SockAddr>,
}

// SAFETY: the SQE points at the boxed address, which moving `self` does not move.
unsafe impl OpKind for Connect {
    type Output = io::Result<()>;
    const OPCODE: u8 = opcode::Connect::CODE;
    const WAITS: bool = true;
    // A connect the kernel cancelled may have started: a second one on
    // the same socket fails with EALREADY rather than connecting.
    const RESUBMIT_CANCELLED: bool = false;

    fn sqe(&mut self) -> squeue::Entry {
        opcode::Connect::new(
            types::Fd(self.fd.as_raw_fd()),
            self.addr.as_ptr().cast(),
            self.addr.len(),
        )
        .build()
    }

    fn complete(self, cqe: Cqe) -> io::Result<()> {
        cqe.into_result().map(drop)
    }

    fn blocking(self) -> io::Result<()> {
        let socket = socket2::SockRef::from(&*self.fd);
        match socket.connect(&self.addr) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                blocking_io(self.fd.as_raw_fd(), libc::POLLOUT, || {
                    match socket.take_error()? {
                        Some(e) => Err(e),
                        None => socket.peer_addr().map(drop),
                    }
                })
            }
            Err(e) => Err(e),
        }
    }

    fn fail(self, err: io::Error) -> io::Result<()> {
        Err(err)
    }
}

/// Connects the non-blocking socket `fd` to `addr` through the ring and
/// gives the socket back.
pub(crate) async fn connect(fd: OwnedFd, addr: socket2::SockAddr) -> io::Result<OwnedFd> {
    let fd = Arc::new(fd);
    crate::driver::Op::new(Connect {
        fd: Arc::clone(&fd),
        addr: Box::new(addr),
    })
    .await?;
    // The op has completed and dropped its clone.
    Arc::try_unwrap(fd).map_err(|_| io::Error::other("shardio: connect still holds the socket"))
}
