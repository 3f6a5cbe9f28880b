use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::stream::TcpStream;
use crate::driver;
use crate::driver::Op;
use crate::net::accept::poll_accept;
use crate::net::{ToSocketAddrs, each_addr};
use crate::ops::accept::Accept;
use crate::sync::Mutex;

/// A TCP socket server, listening for connections: Tokio's `TcpListener`
/// on io_uring.
///
/// ```no_run
/// use shardio::net::TcpListener;
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// # async fn serve() -> std::io::Result<()> {
/// let listener = TcpListener::bind("127.0.0.1:8080").await?;
/// loop {
///     let (mut socket, _peer) = listener.accept().await?;
///     tokio::spawn(async move {
///         let mut buf = vec![0u8; 4096];
///         while let Ok(n) = socket.read(&mut buf).await {
///             if n == 0 || socket.write_all(&buf[..n]).await.is_err() {
///                 break;
///             }
///         }
///     });
/// }
/// # }
/// ```
pub struct TcpListener {
    inner: Inner,
}

enum Inner {
    Uring {
        fd: Arc<OwnedFd>,
        /// The accept `poll_accept` is driving.
        accepting: Mutex<Option<Op<Accept>>>,
    },
    Epoll(tokio::net::TcpListener),
}

impl TcpListener {
    /// Binds to `addr` (resolved like Tokio does; the first address that
    /// binds wins), with `SO_REUSEADDR` and a backlog of 1024, as Tokio.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it waits only for the address lookup, so a dropped call
    /// left no socket bound.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(addr, |addr| async move { Self::bind_addr(addr) }).await
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<TcpListener> {
        if !driver::io_uring_active()? {
            let std = std::net::TcpListener::bind(addr)?;
            std.set_nonblocking(true)?;
            return Self::from_std(std);
        }
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(1024)?;
        Ok(Self::uring(socket.into()))
    }

    fn uring(fd: OwnedFd) -> TcpListener {
        TcpListener {
            inner: Inner::Uring {
                fd: Arc::new(fd),
                accepting: Mutex::new(None),
            },
        }
    }

    /// Wraps a listener from the standard library, setting it non-blocking.
    /// Must be called inside a Tokio runtime.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        if driver::io_uring_active()? {
            Ok(Self::uring(OwnedFd::from(listener)))
        } else {
            Ok(TcpListener {
                inner: Inner::Epoll(tokio::net::TcpListener::from_std(listener)?),
            })
        }
    }

    /// Turns this into a standard-library listener (non-blocking). An
    /// accept in flight is cancelled.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        match self.inner {
            Inner::Uring { fd, .. } => Ok(std::net::TcpListener::from(fd.try_clone()?)),
            Inner::Epoll(listener) => listener.into_std(),
        }
    }

    /// Accepts a connection.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, no connection is lost. On
    /// io_uring the accept the call submitted stays with the listener, and a
    /// connection it takes after the drop is returned by the next `accept`
    /// or `poll_accept` (on epoll the connection waits in the backlog, as
    /// with Tokio). Connections it takes after the listener is dropped are
    /// closed.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        if let Inner::Epoll(listener) = &self.inner {
            // Tokio's own accept: every pending call is woken, not the last.
            let (stream, peer) = listener.accept().await?;
            return Ok((TcpStream::from_tokio(stream), peer));
        }
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls to accept a connection; the waker of the last call is woken.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        match &self.inner {
            Inner::Uring { fd, accepting } => {
                let (stream, addr) = ready!(poll_accept(fd, accepting, cx))?;
                let peer = addr.as_socket().ok_or_else(|| {
                    io::Error::other("accepted a connection without an IP address")
                })?;
                Poll::Ready(Ok((TcpStream::from_accepted_fd(stream), peer)))
            }
            Inner::Epoll(listener) => {
                let (stream, peer) = ready!(listener.poll_accept(cx))?;
                Poll::Ready(Ok((TcpStream::from_tokio(stream), peer)))
            }
        }
    }

    /// The local address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock()
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("listener has no IP address"))
    }

    /// `IP_TTL` of the socket.
    pub fn ttl(&self) -> io::Result<u32> {
        self.sock().ttl_v4()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.sock().set_ttl_v4(ttl)
    }

    fn sock(&self) -> SockRef<'_> {
        SockRef::from(self)
    }

    /// The listening socket, when it is on the io_uring path.
    pub(crate) fn uring_fd(&self) -> Option<&Arc<OwnedFd>> {
        match &self.inner {
            Inner::Uring { fd, .. } => Some(fd),
            Inner::Epoll(_) => None,
        }
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// Consumes the standard-library listener and wraps it, as
    /// [`TcpListener::from_std`].
    fn try_from(listener: std::net::TcpListener) -> io::Result<Self> {
        Self::from_std(listener)
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        match &self.inner {
            Inner::Uring { fd, .. } => fd.as_raw_fd(),
            Inner::Epoll(listener) => listener.as_raw_fd(),
        }
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.inner {
            Inner::Uring { fd, .. } => fd.as_fd(),
            Inner::Epoll(listener) => listener.as_fd(),
        }
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .field("io_uring", &matches!(self.inner, Inner::Uring { .. }))
            .finish()
    }
}
