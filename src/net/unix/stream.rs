use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use socket2::{Domain, SockAddr, SockRef, Socket, Type};

use super::{SocketAddr, UCred, local_addr_of, peer_addr_of, peer_cred};
use crate::driver;
use crate::net::raw_io::RawIo;
use crate::net::stream_io::UringStream;
use crate::ops::connect::connect;

/// A Unix stream socket: Tokio's `UnixStream` on io_uring, with the same
/// reads, writes and buffer handling as [`TcpStream`](crate::net::TcpStream).
///
/// ```no_run
/// use shardio::net::UnixStream;
/// use tokio::io::AsyncWriteExt;
///
/// # async fn demo() -> std::io::Result<()> {
/// let mut stream = UnixStream::connect("/run/my.sock").await?;
/// stream.write_all(b"hello").await?;
/// # Ok(())
/// # }
/// ```
pub struct UnixStream {
    pub(crate) inner: Inner,
    /// Readiness for `try_io`/`async_io` on io_uring, made on first use.
    pub(crate) raw: OnceLock<Box<RawIo>>,
}

pub(crate) enum Inner {
    Uring(Arc<UringStream>),
    Epoll(tokio::net::UnixStream),
}

impl UnixStream {
    stream_ready_methods!(UnixStream);

    class_methods! {
        /// Makes `class` this socket's priority class: its sends are charged
        /// to it before they are submitted, and its receives when they arrive
        /// (see [`shardio::sched`](crate::sched)). Both halves of a split
        /// stream share it. Without it, operations run in the class of the
        /// future that issues them. On the epoll fallback path sockets are not
        /// scheduled and this has no effect.
        ///
        /// ```no_run
        /// # async fn demo(stream: shardio::net::UnixStream) {
        /// let bulk = shardio::sched::PriorityClass::new("replication", 100);
        /// stream.set_class(&bulk);
        /// assert_eq!(stream.class(), Some(bulk));
        /// # }
        /// ```
    }

    /// Connects to the socket at `path`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes its socket (on
    /// io_uring once the kernel let go of the cancelled connect), so a
    /// connection the peer already accepted is closed too.
    pub async fn connect<P>(path: P) -> io::Result<UnixStream>
    where
        P: AsRef<Path>,
    {
        let path = path.as_ref();
        if !driver::io_uring_active()? {
            return Ok(Self::from_tokio(
                tokio::net::UnixStream::connect(path).await?,
            ));
        }
        let addr = SockAddr::unix(path)?;
        let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?;
        let fd = connect(OwnedFd::from(socket), addr).await?;
        Ok(Self::from_uring_fd(fd))
    }

    /// Connects to the socket at `socket_addr`: a path, or on Linux an
    /// abstract name (`std::os::linux::net::SocketAddrExt`).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes its socket, as
    /// [`connect`](UnixStream::connect) does.
    pub async fn connect_addr(socket_addr: &SocketAddr) -> io::Result<UnixStream> {
        if !driver::io_uring_active()? {
            return Ok(Self::from_tokio(
                tokio::net::UnixStream::connect_addr(socket_addr).await?,
            ));
        }
        let addr = sock_addr(socket_addr)?;
        let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?;
        let fd = connect(OwnedFd::from(socket), addr).await?;
        Ok(Self::from_uring_fd(fd))
    }

    /// A pair of connected, unnamed sockets.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        if !driver::io_uring_active()? {
            // Tokio's own pair starts writable without a reactor event.
            let (a, b) = tokio::net::UnixStream::pair()?;
            return Ok((Self::from_tokio(a), Self::from_tokio(b)));
        }
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((Self::from_std(a)?, Self::from_std(b)?))
    }

    /// An accepted connection on io_uring: readable until a read finds
    /// nothing, as Tokio's accepted streams.
    pub(crate) fn from_accepted_fd(fd: OwnedFd) -> UnixStream {
        let stream = Self::from_uring_fd(fd);
        if let Inner::Uring(s) = &stream.inner {
            s.assume_readable();
        }
        stream
    }

    pub(crate) fn from_uring_fd(fd: OwnedFd) -> UnixStream {
        UnixStream {
            inner: Inner::Uring(Arc::new(UringStream::new(fd))),
            raw: OnceLock::new(),
        }
    }

    pub(crate) fn from_tokio(stream: tokio::net::UnixStream) -> UnixStream {
        UnixStream {
            inner: Inner::Epoll(stream),
            raw: OnceLock::new(),
        }
    }

    /// Wraps a standard-library stream, setting it non-blocking. Must be
    /// called inside a Tokio runtime.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        if driver::io_uring_active()? {
            Ok(Self::from_uring_fd(OwnedFd::from(stream)))
        } else {
            Ok(Self::from_tokio(tokio::net::UnixStream::from_std(stream)?))
        }
    }

    /// Turns this into a standard-library stream (non-blocking); data
    /// shardio received but the caller did not read is dropped.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        match self.inner {
            Inner::Uring(s) => Ok(std::os::unix::net::UnixStream::from(s.std_fd()?)),
            Inner::Epoll(s) => s.into_std(),
        }
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        local_addr_of(self.as_fd())
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        peer_addr_of(self.as_fd())
    }

    /// The peer process's credentials.
    pub fn peer_cred(&self) -> io::Result<UCred> {
        peer_cred(self.as_fd())
    }

    /// Takes the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        SockRef::from(self).take_error()
    }
}

/// socket2's form of a Unix socket address (a path or an abstract name).
pub(crate) fn sock_addr(addr: &SocketAddr) -> io::Result<SockAddr> {
    use std::os::unix::ffi::OsStrExt;
    if let Some(path) = addr.as_pathname() {
        return SockAddr::unix(path);
    }
    match addr.as_abstract_name() {
        Some(name) => {
            // socket2 reads a leading NUL as the abstract namespace.
            let mut bytes = vec![0u8];
            bytes.extend_from_slice(name);
            SockAddr::unix(std::ffi::OsStr::from_bytes(&bytes))
        }
        None => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot connect to an unnamed socket address",
        )),
    }
}

stream_traits!(UnixStream, std::os::unix::net::UnixStream);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .field("io_uring", &matches!(self.inner, Inner::Uring(_)))
            .finish()
    }
}
