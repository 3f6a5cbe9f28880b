use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::driver;
use crate::net::raw_io::RawIo;
use crate::net::stream_io::UringStream;
use crate::net::{ToSocketAddrs, each_addr};
use crate::ops::connect::connect;

/// A TCP connection: Tokio's `TcpStream` on io_uring.
///
/// Implements Tokio's [`AsyncRead`](tokio::io::AsyncRead) and [`AsyncWrite`](tokio::io::AsyncWrite), so `AsyncReadExt`,
/// `AsyncWriteExt`, codecs, hyper and friends work on it unchanged.
///
/// # Reads, writes and buffers
///
/// Received data lands in buffers the kernel takes from a pool shared by all
/// connections of the thread's ring; `poll_read` copies from there, and a
/// connection holds at most about a socket receive buffer (`SO_RCVBUF`, at
/// most 1 MiB: a quarter of the pool) of bytes nobody read yet. A write is a non-blocking `sendmsg` from the
/// caller's buffers (up to 64 KiB per call), as with Tokio: once it returns
/// `Ok(n)` the kernel has those `n` bytes, so they are sent even if the
/// stream is dropped or the process exits right after; when the socket's
/// send buffer is full the write waits on the ring for room.
///
/// ```no_run
/// use shardio::net::TcpStream;
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// # async fn demo() -> std::io::Result<()> {
/// let mut stream = TcpStream::connect("127.0.0.1:8080").await?;
/// stream.write_all(b"ping").await?;
/// let mut reply = [0u8; 4];
/// stream.read_exact(&mut reply).await?;
/// # Ok(())
/// # }
/// ```
pub struct TcpStream {
    pub(crate) inner: Inner,
    /// Readiness for `try_io`/`async_io` on io_uring, made on first use.
    pub(crate) raw: OnceLock<Box<RawIo>>,
}

pub(crate) enum Inner {
    Uring(Arc<UringStream>),
    Epoll(tokio::net::TcpStream),
}

impl TcpStream {
    class_methods! {
        /// Makes `class` this socket's priority class: its sends are charged
        /// to it before they are submitted, and its receives when they arrive
        /// (see [`shardio::sched`](crate::sched)). Both halves of a split
        /// stream share it. Without it, operations run in the class of the
        /// future that issues them. On the epoll fallback path sockets are not
        /// scheduled and this has no effect.
        ///
        /// ```no_run
        /// # async fn demo(stream: shardio::net::TcpStream) {
        /// let bulk = shardio::sched::PriorityClass::new("replication", 100);
        /// stream.set_class(&bulk);
        /// assert_eq!(stream.class(), Some(bulk));
        /// # }
        /// ```
    }

    /// Opens a connection to `addr`, trying each resolved address in turn.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes its socket (on
    /// io_uring once the kernel let go of the cancelled connect), so a
    /// connection the peer already accepted is closed too.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(addr, Self::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        if !driver::io_uring_active()? {
            return Ok(Self::from_tokio(
                tokio::net::TcpStream::connect(addr).await?,
            ));
        }
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        let fd = connect(OwnedFd::from(socket), addr.into()).await?;
        Ok(Self::from_uring_fd(fd))
    }

    /// An accepted connection on io_uring: readable until a read finds
    /// nothing, as Tokio's accepted streams.
    pub(crate) fn from_accepted_fd(fd: OwnedFd) -> TcpStream {
        let stream = Self::from_uring_fd(fd);
        if let Inner::Uring(s) = &stream.inner {
            s.assume_readable();
        }
        stream
    }

    pub(crate) fn from_uring_fd(fd: OwnedFd) -> TcpStream {
        TcpStream {
            inner: Inner::Uring(Arc::new(UringStream::new(fd))),
            raw: OnceLock::new(),
        }
    }

    pub(crate) fn from_tokio(stream: tokio::net::TcpStream) -> TcpStream {
        TcpStream {
            inner: Inner::Epoll(stream),
            raw: OnceLock::new(),
        }
    }

    /// Wraps a connected standard-library stream, setting it non-blocking.
    /// Must be called inside a Tokio runtime.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        if driver::io_uring_active()? {
            Ok(Self::from_uring_fd(OwnedFd::from(stream)))
        } else {
            Ok(Self::from_tokio(tokio::net::TcpStream::from_std(stream)?))
        }
    }

    /// Turns this into a standard-library stream (non-blocking). shardio's
    /// receive on the socket is stopped first, so nothing of shardio's is
    /// left taking its bytes.
    ///
    /// # Errors
    ///
    /// If shardio had already received bytes the caller has not read: they
    /// cannot be put back into the socket, so rather than drop them the
    /// call fails and says how many (read until `try_read` says
    /// `WouldBlock` first).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        match self.inner {
            Inner::Uring(stream) => Ok(std::net::TcpStream::from(stream.std_fd()?)),
            Inner::Epoll(stream) => stream.into_std(),
        }
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        ip(self.sock().local_addr()?)
    }

    /// The remote address of the connection.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        ip(self.sock().peer_addr()?)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.sock().tcp_nodelay()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.sock().set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_QUICKACK` is set (Linux).
    pub fn quickack(&self) -> io::Result<bool> {
        self.sock().tcp_quickack()
    }

    /// Sets `TCP_QUICKACK` (Linux): send ACKs at once instead of delaying
    /// them. The kernel may clear it again on its own, as Tokio's docs say.
    pub fn set_quickack(&self, quickack: bool) -> io::Result<()> {
        self.sock().set_tcp_quickack(quickack)
    }

    /// `SO_LINGER` of the socket.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.sock().linger()
    }

    /// Sets `SO_LINGER`.
    ///
    /// Deprecated as in Tokio: a non-zero linger makes closing the socket
    /// block the thread. Use [`set_zero_linger`](TcpStream::set_zero_linger)
    /// to reset the connection on close.
    #[deprecated = "`SO_LINGER` causes the socket to block the thread on drop"]
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        self.sock().set_linger(dur)
    }

    /// Sets `SO_LINGER` to zero: closing the socket then resets the
    /// connection (RST) and discards unsent data instead of a graceful FIN.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.sock().set_linger(Some(Duration::ZERO))
    }

    /// Takes the pending socket error (`SO_ERROR`), clearing it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock().take_error()
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
}

pub(crate) fn ip(addr: socket2::SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::other("socket has no IP address"))
}

stream_traits!(TcpStream, std::net::TcpStream);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .field("io_uring", &matches!(self.inner, Inner::Uring(_)))
            .finish()
    }
}
