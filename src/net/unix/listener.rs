use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use socket2::SockRef;

use super::stream::UnixStream;
use super::{SocketAddr, local_addr_of, peer_addr_of};
use crate::driver;
use crate::driver::Op;
use crate::net::accept::poll_accept;
use crate::ops::accept::Accept;
use crate::sync::Mutex;

/// A Unix socket server: Tokio's `UnixListener` on io_uring.
///
/// ```no_run
/// use shardio::net::UnixListener;
///
/// # async fn serve() -> std::io::Result<()> {
/// let listener = UnixListener::bind("/tmp/shardio.sock")?;
/// let (stream, _addr) = listener.accept().await?;
/// # drop(stream);
/// # Ok(())
/// # }
/// ```
pub struct UnixListener {
    inner: Inner,
}

enum Inner {
    Uring {
        fd: Arc<OwnedFd>,
        accepting: Mutex<Option<Op<Accept>>>,
    },
    Epoll(tokio::net::UnixListener),
}

impl UnixListener {
    /// Binds to `path` (which must not exist), or to an abstract name if
    /// `path` starts with a NUL byte (Linux), as Tokio does. Must be called
    /// inside a Tokio runtime.
    pub fn bind<P>(path: P) -> io::Result<UnixListener>
    where
        P: AsRef<Path>,
    {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::ffi::OsStrExt;
        // A path starting with NUL names an abstract socket, as in Tokio.
        let bytes = path.as_ref().as_os_str().as_bytes();
        let addr = match bytes.strip_prefix(b"\0") {
            Some(name) => std::os::unix::net::SocketAddr::from_abstract_name(name)?,
            None => std::os::unix::net::SocketAddr::from_pathname(path)?,
        };
        Self::from_std(std::os::unix::net::UnixListener::bind_addr(&addr)?)
    }

    /// Binds to `socket_addr`: a path (which must not exist) or on Linux an
    /// abstract name. Must be called inside a Tokio runtime.
    pub fn bind_addr(socket_addr: &SocketAddr) -> io::Result<UnixListener> {
        let std_addr = std::os::unix::net::SocketAddr::from(socket_addr.clone());
        Self::from_std(std::os::unix::net::UnixListener::bind_addr(&std_addr)?)
    }

    /// Wraps a standard-library listener, setting it non-blocking.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        let inner = if driver::io_uring_active()? {
            Inner::Uring {
                fd: Arc::new(OwnedFd::from(listener)),
                accepting: Mutex::new(None),
            }
        } else {
            Inner::Epoll(tokio::net::UnixListener::from_std(listener)?)
        };
        Ok(UnixListener { inner })
    }

    /// Turns this into a standard-library listener (non-blocking).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        match self.inner {
            Inner::Uring { fd, .. } => Ok(std::os::unix::net::UnixListener::from(fd.try_clone()?)),
            Inner::Epoll(l) => l.into_std(),
        }
    }

    /// Accepts a connection.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, no connection is lost (see
    /// [`TcpListener::accept`](crate::net::TcpListener::accept)): a
    /// connection taken after the drop is returned by the next `accept`.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        if let Inner::Epoll(listener) = &self.inner {
            // Tokio's own accept: every pending call is woken, not the last.
            let (stream, addr) = listener.accept().await?;
            return Ok((UnixStream::from_tokio(stream), addr));
        }
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls to accept a connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        match &self.inner {
            Inner::Uring { fd, accepting } => {
                let (stream, _) = ready!(poll_accept(fd, accepting, cx))?;
                let peer = peer_addr_of(stream.as_fd())?;
                Poll::Ready(Ok((UnixStream::from_accepted_fd(stream), peer)))
            }
            Inner::Epoll(l) => {
                let (stream, addr) = ready!(l.poll_accept(cx))?;
                Poll::Ready(Ok((UnixStream::from_tokio(stream), addr)))
            }
        }
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        local_addr_of(self.as_fd())
    }

    /// Takes the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        SockRef::from(self).take_error()
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// Consumes the standard-library listener and wraps it, as
    /// [`UnixListener::from_std`].
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<Self> {
        Self::from_std(listener)
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        match &self.inner {
            Inner::Uring { fd, .. } => fd.as_raw_fd(),
            Inner::Epoll(l) => l.as_raw_fd(),
        }
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.inner {
            Inner::Uring { fd, .. } => fd.as_fd(),
            Inner::Epoll(l) => l.as_fd(),
        }
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
