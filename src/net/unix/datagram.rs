use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixDatagram as StdDatagram;
use std::path::Path;
use std::task::{Context, Poll};

use tokio::io::{Interest, ReadBuf, Ready};

use super::SocketAddr;
use crate::driver;
use crate::net::poll_io::{Direction, PollIo};

/// A Unix datagram socket: Tokio's `UnixDatagram`, with readiness from
/// io_uring and I/O by non-blocking system calls into the caller's buffers
/// (see [`UdpSocket`](crate::net::UdpSocket) for why; the same cancel safety
/// as Tokio's).
///
/// ```no_run
/// use shardio::net::UnixDatagram;
///
/// # async fn demo() -> std::io::Result<()> {
/// let (a, b) = UnixDatagram::pair()?;
/// a.send(b"hello").await?;
/// let mut buf = [0u8; 16];
/// let n = b.recv(&mut buf).await?;
/// # let _ = n;
/// # Ok(())
/// # }
/// ```
pub struct UnixDatagram {
    inner: Inner,
}

// The io_uring variant is the common one; boxing it would add an
// indirection to every operation for the benefit of the fallback's size.
#[allow(clippy::large_enum_variant)]
enum Inner {
    Uring(PollIo<StdDatagram>),
    Epoll(tokio::net::UnixDatagram),
}

macro_rules! both {
    ($self:ident, $s:ident => $uring:expr, $t:ident => $epoll:expr) => {
        match &$self.inner {
            Inner::Uring(io) => {
                let $s = io.get_ref();
                $uring
            }
            Inner::Epoll($t) => $epoll,
        }
    };
}

impl UnixDatagram {
    class_methods! {
        /// Makes `class` this socket's priority class: sends are charged to it
        /// before they are tried (`send`, `send_to`, `poll_send*`; `try_send*`
        /// cannot wait and is charged after), receives when they complete (see
        /// [`shardio::sched`](crate::sched)). Without it, operations run in the
        /// class of the future that issues them. On the epoll fallback path
        /// sockets are not scheduled and this has no effect.
    }

    /// Binds to `path`. Must be called inside a Tokio runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        Self::from_std(StdDatagram::bind(path)?)
    }

    /// A socket bound to no address.
    pub fn unbound() -> io::Result<UnixDatagram> {
        Self::from_std(StdDatagram::unbound()?)
    }

    /// A pair of connected, unnamed sockets.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = StdDatagram::pair()?;
        Ok((Self::from_std(a)?, Self::from_std(b)?))
    }

    /// Wraps a standard-library socket, setting it non-blocking.
    pub fn from_std(socket: StdDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        let inner = if driver::io_uring_active()? {
            Inner::Uring(PollIo::new(socket))
        } else {
            Inner::Epoll(tokio::net::UnixDatagram::from_std(socket)?)
        };
        Ok(UnixDatagram { inner })
    }

    /// Turns this into a standard-library socket (non-blocking).
    pub fn into_std(self) -> io::Result<StdDatagram> {
        match self.inner {
            Inner::Uring(io) => io.get_ref().try_clone(),
            Inner::Epoll(t) => t.into_std(),
        }
    }

    /// Connects to the socket at `path`.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        both!(self, s => s.connect(path), t => t.connect(path))
    }

    /// Sends to the connected peer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(io) => io.send(buf.len(), |s| s.send(buf)).await,
            Inner::Epoll(t) => t.send(buf).await,
        }
    }

    /// Receives from the connected peer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(io) => io.recv(|s| s.recv(buf), |n| *n).await,
            Inner::Epoll(t) => t.recv(buf).await,
        }
    }

    /// Sends to the socket at `target`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        let target = target.as_ref();
        match &self.inner {
            Inner::Uring(io) => io.send(buf.len(), |s| s.send_to(buf, target)).await,
            Inner::Epoll(t) => t.send_to(buf, target).await,
        }
    }

    /// Receives a datagram and its sender's address.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        match &self.inner {
            Inner::Uring(io) => {
                let (n, addr) = io.recv(|s| s.recv_from(buf), |(n, _)| *n).await?;
                Ok((n, addr.into()))
            }
            Inner::Epoll(t) => t.recv_from(buf).await,
        }
    }

    /// Polls to receive from the connected peer into `buf`.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &self.inner {
            Inner::Uring(io) => io.poll_recv_buf(cx, buf, |s, b| Ok((s.recv(b)?, ()))),
            Inner::Epoll(t) => t.poll_recv(cx, buf),
        }
    }

    /// Polls to send to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &self.inner {
            Inner::Uring(io) => io.poll_send(cx, buf.len(), |s| s.send(buf)),
            Inner::Epoll(t) => t.poll_send(cx, buf),
        }
    }

    /// Polls to receive a datagram; returns its sender.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        match &self.inner {
            Inner::Uring(io) => io
                .poll_recv_buf(cx, buf, |s, b| s.recv_from(b))
                .map_ok(Into::into),
            Inner::Epoll(t) => t.poll_recv_from(cx, buf),
        }
    }

    /// Waits for any of the requested readiness.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        match &self.inner {
            Inner::Uring(io) => {
                crate::net::poll_io::ready_with(
                    interest,
                    |cx| io.poll_ready(Direction::Read, cx),
                    |cx| io.poll_ready(Direction::Write, cx),
                )
                .await
            }
            Inner::Epoll(t) => t.ready(interest).await,
        }
    }

    /// Waits until the socket is readable.
    pub async fn readable(&self) -> io::Result<()> {
        match &self.inner {
            Inner::Uring(io) => io.ready(Direction::Read).await,
            Inner::Epoll(t) => t.readable().await,
        }
    }

    /// Waits until the socket is writable.
    pub async fn writable(&self) -> io::Result<()> {
        match &self.inner {
            Inner::Uring(io) => io.ready(Direction::Write).await,
            Inner::Epoll(t) => t.writable().await,
        }
    }

    /// Sends to the connected peer without waiting.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(io) => io.charged(Direction::Write, io.get_ref().send(buf), |n| *n),
            Inner::Epoll(t) => t.try_send(buf),
        }
    }

    /// Receives from the connected peer without waiting.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(io) => io.charged(Direction::Read, io.get_ref().recv(buf), |n| *n),
            Inner::Epoll(t) => t.try_recv(buf),
        }
    }

    /// Sends to `target` without waiting.
    pub fn try_send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(io) => {
                io.charged(Direction::Write, io.get_ref().send_to(buf, target), |n| *n)
            }
            Inner::Epoll(t) => t.try_send_to(buf, target),
        }
    }

    /// Receives a datagram without waiting.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        match &self.inner {
            Inner::Uring(io) => io.charged(
                Direction::Read,
                io.get_ref().recv_from(buf).map(|(n, a)| (n, a.into())),
                |(n, _)| *n,
            ),
            Inner::Epoll(t) => t.try_recv_from(buf),
        }
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        both!(self, s => s.local_addr().map(Into::into), t => t.local_addr())
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        both!(self, s => s.peer_addr().map(Into::into), t => t.peer_addr())
    }

    /// Takes the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        both!(self, s => s.take_error(), t => t.take_error())
    }

    /// Shuts down the read, write or both directions.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        both!(self, s => s.shutdown(how), t => t.shutdown(how))
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        both!(self, s => s.as_raw_fd(), t => t.as_raw_fd())
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        both!(self, s => s.as_fd(), t => t.as_fd())
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
