use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram as StdDatagram;
use std::path::Path;

use super::SocketAddr;
use crate::driver;
use crate::net::poll_io::PollIo;

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

datagram_socket! {
    type: UnixDatagram,
    std: StdDatagram,
    addr: SocketAddr,
    target: impl AsRef<Path>,
    resolved: &Path,
}

impl UnixDatagram {
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

    /// Connects to the socket at `path`.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        both!(self, s => s.connect(path), t => t.connect(path))
    }

    /// Sends to the socket at `target`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, nothing was sent.
    pub async fn send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        self.send_to_resolved(buf, target.as_ref()).await
    }

    /// Shuts down the read, write or both directions.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        both!(self, s => s.shutdown(how), t => t.shutdown(how))
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
