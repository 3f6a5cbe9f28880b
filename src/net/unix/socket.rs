//! `UnixSocket`: a Unix socket not yet connected or listening (Tokio's).

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

use super::datagram::UnixDatagram;
use super::listener::UnixListener;
use super::stream::UnixStream;
use crate::driver;
use crate::ops::connect::connect;

/// A Unix socket that has not been turned into a stream, listener or
/// datagram socket yet: Tokio's `UnixSocket`, for binding or setting
/// options before `connect`, `listen` or `datagram`.
///
/// ```no_run
/// use shardio::net::UnixSocket;
///
/// # async fn demo() -> std::io::Result<()> {
/// let socket = UnixSocket::new_stream()?;
/// socket.bind("/tmp/shardio-listener.sock")?;
/// let listener = socket.listen(1024)?;
/// # drop(listener);
/// # Ok(())
/// # }
/// ```
pub struct UnixSocket {
    inner: Socket,
}

impl UnixSocket {
    fn new(ty: Type) -> io::Result<UnixSocket> {
        let inner = Socket::new(Domain::UNIX, ty.nonblocking().cloexec(), None)?;
        Ok(UnixSocket { inner })
    }

    fn ty(&self) -> io::Result<Type> {
        self.inner.r#type()
    }

    /// A Unix datagram socket (`SOCK_DGRAM`), to become a
    /// [`UnixDatagram`] with [`datagram`](UnixSocket::datagram).
    pub fn new_datagram() -> io::Result<UnixSocket> {
        UnixSocket::new(Type::DGRAM)
    }

    /// A Unix stream socket (`SOCK_STREAM`), to become a [`UnixStream`] with
    /// [`connect`](UnixSocket::connect) or a [`UnixListener`] with
    /// [`listen`](UnixSocket::listen).
    pub fn new_stream() -> io::Result<UnixSocket> {
        UnixSocket::new(Type::STREAM)
    }

    /// Binds the socket to `path` (which must not exist).
    pub fn bind(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.inner.bind(&SockAddr::unix(path)?)
    }

    /// Listens with `backlog`, giving a [`UnixListener`]. Fails on a
    /// datagram socket. Must be called inside a Tokio runtime.
    pub fn listen(self, backlog: u32) -> io::Result<UnixListener> {
        if self.ty()? == Type::DGRAM {
            return Err(io::Error::other(
                "listen cannot be called on a datagram socket",
            ));
        }
        self.inner
            .listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        UnixListener::from_std(std::os::unix::net::UnixListener::from(OwnedFd::from(
            self.inner,
        )))
    }

    /// Connects to the socket at `path`, giving a [`UnixStream`]. Fails on a
    /// datagram socket.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes the socket, as
    /// [`UnixStream::connect`] does.
    pub async fn connect(self, path: impl AsRef<Path>) -> io::Result<UnixStream> {
        if self.ty()? == Type::DGRAM {
            return Err(io::Error::other(
                "connect cannot be called on a datagram socket",
            ));
        }
        if !driver::io_uring_active()? {
            // SAFETY: the fd is an open Unix socket that this call owns.
            let socket = unsafe { tokio::net::UnixSocket::from_raw_fd(self.inner.into_raw_fd()) };
            return Ok(UnixStream::from_tokio(socket.connect(path).await?));
        }
        let addr = SockAddr::unix(path)?;
        let fd = connect(OwnedFd::from(self.inner), addr).await?;
        Ok(UnixStream::from_uring_fd(fd))
    }

    /// Turns the socket into a [`UnixDatagram`]. Fails on a stream socket.
    /// Must be called inside a Tokio runtime.
    pub fn datagram(self) -> io::Result<UnixDatagram> {
        if self.ty()? == Type::STREAM {
            return Err(io::Error::other(
                "datagram cannot be called on a stream socket",
            ));
        }
        UnixDatagram::from_std(std::os::unix::net::UnixDatagram::from(OwnedFd::from(
            self.inner,
        )))
    }
}

impl AsRawFd for UnixSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for UnixSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl FromRawFd for UnixSocket {
    /// # Safety
    ///
    /// `fd` must be an open Unix socket that nothing else owns.
    unsafe fn from_raw_fd(fd: RawFd) -> UnixSocket {
        // SAFETY: the caller passes an owned, open socket fd.
        let inner = unsafe { Socket::from_raw_fd(fd) };
        UnixSocket { inner }
    }
}

impl IntoRawFd for UnixSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}

impl fmt::Debug for UnixSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixSocket")
            .field("fd", &self.inner.as_raw_fd())
            .field("type", &self.ty().ok())
            .finish()
    }
}
