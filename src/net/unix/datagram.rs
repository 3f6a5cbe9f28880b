use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram as StdDatagram;
use std::path::Path;

use super::SocketAddr;
use crate::driver;
use crate::net::datagram_extra::ReadyFlags;
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
    /// Known readiness on io_uring (see `ReadyFlags`).
    ready: ReadyFlags,
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
    target: &Path,
    resolved: &Path,
}

datagram_extra! {
    type: UnixDatagram,
    std: StdDatagram,
    addr: SocketAddr,
    from_sockaddr: unix_addr,
}

/// The sender of a received datagram as a Unix socket address (a path, an
/// abstract name or unnamed).
fn unix_addr(addr: socket2::SockAddr) -> io::Result<SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::SocketAddr as StdAddr;
    let std = if let Some(path) = addr.as_pathname() {
        StdAddr::from_pathname(path)?
    } else if let Some(name) = addr.as_abstract_namespace() {
        StdAddr::from_abstract_name(name)?
    } else {
        // An empty path is std's unnamed address.
        StdAddr::from_pathname("")?
    };
    Ok(SocketAddr::from(std))
}

impl UnixDatagram {
    /// Binds to `path`. Must be called inside a Tokio runtime.
    pub fn bind<P>(path: P) -> io::Result<UnixDatagram>
    where
        P: AsRef<Path>,
    {
        Self::from_std(StdDatagram::bind(path)?)
    }

    /// A socket bound to no address.
    pub fn unbound() -> io::Result<UnixDatagram> {
        Self::from_std(StdDatagram::unbound()?)
    }

    /// A pair of connected, unnamed sockets.
    ///
    /// Both ends start writable (their buffers are empty), as with Tokio:
    /// `poll_send_ready` and `writable` answer at once.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        if !driver::io_uring_active()? {
            // Tokio's `pair` marks both ends writable; `from_std` does not.
            let (a, b) = tokio::net::UnixDatagram::pair()?;
            let wrap = |t| UnixDatagram {
                inner: Inner::Epoll(t),
                ready: ReadyFlags::default(),
            };
            return Ok((wrap(a), wrap(b)));
        }
        let (a, b) = StdDatagram::pair()?;
        let (mut a, mut b) = (Self::from_std(a)?, Self::from_std(b)?);
        a.ready = ReadyFlags::writable();
        b.ready = ReadyFlags::writable();
        Ok((a, b))
    }

    /// Wraps a standard-library socket, setting it non-blocking.
    pub fn from_std(socket: StdDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        let inner = if driver::io_uring_active()? {
            Inner::Uring(PollIo::new(socket))
        } else {
            Inner::Epoll(tokio::net::UnixDatagram::from_std(socket)?)
        };
        Ok(UnixDatagram {
            inner,
            ready: ReadyFlags::default(),
        })
    }

    /// Connects to the socket at `path`.
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        both!(self, s => s.connect(path), t => t.connect(path))
    }

    /// Sends to the socket at `target`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, nothing was sent.
    pub async fn send_to<P>(&self, buf: &[u8], target: P) -> io::Result<usize>
    where
        P: AsRef<Path>,
    {
        self.send_to_resolved(buf, target.as_ref()).await
    }

    /// Sends to the socket at `target` without waiting: `WouldBlock` if
    /// the socket's send buffer is full.
    pub fn try_send_to<P>(&self, buf: &[u8], target: P) -> io::Result<usize>
    where
        P: AsRef<Path>,
    {
        self.try_send_to_resolved(buf, target.as_ref())
    }

    /// Polls to send `buf` to the socket at `target`.
    ///
    /// # Return value
    ///
    /// * `Poll::Pending` if the socket is not ready to write.
    /// * `Poll::Ready(Ok(n))` with the bytes sent.
    /// * `Poll::Ready(Err(e))` if an error is encountered.
    pub fn poll_send_to<P>(
        &self,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
        target: P,
    ) -> std::task::Poll<io::Result<usize>>
    where
        P: AsRef<Path>,
    {
        let target = target.as_ref();
        match &self.inner {
            Inner::Uring(io) => io.poll_send(cx, buf.len(), |s| s.send_to(buf, target)),
            Inner::Epoll(t) => t.poll_send_to(cx, buf, target),
        }
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
