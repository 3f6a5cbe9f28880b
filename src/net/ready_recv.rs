//! A stream's receive on Tokio's reactor: for a stream whose thread mostly
//! parks between receives (see `driver::idle`), the socket waits for its
//! next bytes in Tokio's epoll, and a `recv` takes them once it is readable,
//! as Tokio's own streams do. Measured on the echo benchmark with one
//! connection, an armed io_uring receive cost such a thread a second trip
//! through Tokio's park loop per request (its completion interrupts the
//! sleeping `epoll_wait`); streams whose thread is busy keep the ring's
//! multishot receive.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::unix::AsyncFd;
use tokio::io::{Interest, ReadBuf};

/// The most one `recv` into shardio's own buffer takes (a read straight
/// into the caller's buffer takes what fits there).
pub(super) const RECV_MAX: usize = 16 * 1024;

/// The socket as Tokio's reactor sees it; the fd stays open while
/// registered (the `Arc` is the stream's own).
struct SocketFd(Arc<OwnedFd>);

impl AsRawFd for SocketFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// The socket registered with Tokio's reactor for readability. Dropping it
/// deregisters the socket.
pub(super) struct ReadyRecv {
    fd: AsyncFd<SocketFd>,
}

impl ReadyRecv {
    /// Registers `fd` with the current runtime's reactor (fails outside a
    /// runtime with I/O enabled).
    pub(super) fn new(fd: &Arc<OwnedFd>) -> io::Result<ReadyRecv> {
        let socket = SocketFd(Arc::clone(fd));
        // SAFETY: the registered fd is the one `socket` keeps open (its own
        // `Arc`), which the `AsyncFd` owns and drops only after
        // deregistering it; it is never replaced.
        let fd = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }?;
        Ok(ReadyRecv { fd })
    }

    /// Waits until the socket is readable and receives into `buf`'s
    /// unfilled part (nothing added at end of stream).
    pub(super) fn poll_recv_into(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let room = buf.remaining();
        loop {
            let mut guard = ready!(self.fd.poll_read_ready(cx))?;
            match guard.try_io(|fd| super::direct::recv_now(fd.get_ref().0.as_fd(), buf)) {
                Ok(Ok(())) => {
                    // A short read took everything the socket held: it is
                    // not readable until the next event, so the next read
                    // waits for it instead of finding out with a `recv`
                    // (as Tokio's streams do). An event since this guard
                    // was taken is kept.
                    let n = room - buf.remaining();
                    if n > 0 && n < room {
                        guard.clear_ready();
                    }
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                // Not readable after all: the readiness is cleared; wait again.
                Err(_would_block) => {}
            }
        }
    }
}
