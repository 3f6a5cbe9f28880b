use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::listener::TcpListener;
use super::stream::TcpStream;
use crate::driver;
use crate::ops::connect::connect;

/// A TCP socket not yet connected or listening: Tokio's `TcpSocket`, for
/// setting options before `connect` or `listen`.
///
/// ```no_run
/// use shardio::net::TcpSocket;
///
/// # async fn demo() -> std::io::Result<()> {
/// let socket = TcpSocket::new_v4()?;
/// socket.set_reuseaddr(true)?;
/// socket.bind("127.0.0.1:0".parse().unwrap())?;
/// let listener = socket.listen(1024)?;
/// # drop(listener);
/// # Ok(())
/// # }
/// ```
pub struct TcpSocket {
    inner: Socket,
}

fn new(domain: Domain) -> io::Result<TcpSocket> {
    let inner = Socket::new(
        domain,
        Type::STREAM.nonblocking().cloexec(),
        Some(Protocol::TCP),
    )?;
    Ok(TcpSocket { inner })
}

impl TcpSocket {
    /// An IPv4 TCP socket.
    pub fn new_v4() -> io::Result<TcpSocket> {
        new(Domain::IPV4)
    }

    /// An IPv6 TCP socket.
    pub fn new_v6() -> io::Result<TcpSocket> {
        new(Domain::IPV6)
    }

    /// Sets `SO_KEEPALIVE`.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// `SO_KEEPALIVE`.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Sets `SO_REUSEADDR`.
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// `SO_REUSEADDR`.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`.
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuseport)
    }

    /// `SO_REUSEPORT`.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Sets `SO_SNDBUF`.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// `SO_SNDBUF`.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner.send_buffer_size().map(|n| n as u32)
    }

    /// Sets `SO_RCVBUF`.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// `SO_RCVBUF`.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner.recv_buffer_size().map(|n| n as u32)
    }

    /// Sets `SO_LINGER`.
    ///
    /// Deprecated as in Tokio: a non-zero linger makes closing the socket
    /// block the thread. Use [`set_zero_linger`](TcpSocket::set_zero_linger)
    /// to reset connections on close.
    #[deprecated = "`SO_LINGER` causes the socket to block the thread on drop"]
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(dur)
    }

    /// Sets `SO_LINGER` to zero: closing the socket then resets the
    /// connection (RST) and discards unsent data.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.inner.set_linger(Some(Duration::ZERO))
    }

    /// `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// Sets `TCP_NODELAY`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// `IPV6_TCLASS`: the traffic class of packets sent from this IPv6
    /// socket.
    pub fn tclass_v6(&self) -> io::Result<u32> {
        self.inner.tclass_v6()
    }

    /// Sets `IPV6_TCLASS` (only an IPv6 socket has it).
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        self.inner.set_tclass_v6(tclass)
    }

    /// `IP_TOS`: the type-of-service field of packets sent from this IPv4
    /// socket.
    pub fn tos_v4(&self) -> io::Result<u32> {
        self.inner.tos_v4()
    }

    /// The old name of [`tos_v4`](TcpSocket::tos_v4), deprecated as in Tokio.
    #[deprecated(
        note = "`tos` related methods have been renamed `tos_v4` since they are IPv4-specific."
    )]
    #[doc(hidden)]
    pub fn tos(&self) -> io::Result<u32> {
        self.tos_v4()
    }

    /// Sets `IP_TOS` (only an IPv4 socket has it).
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        self.inner.set_tos_v4(tos)
    }

    /// The old name of [`set_tos_v4`](TcpSocket::set_tos_v4), deprecated as
    /// in Tokio.
    #[deprecated(
        note = "`tos` related methods have been renamed `tos_v4` since they are IPv4-specific."
    )]
    #[doc(hidden)]
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.set_tos_v4(tos)
    }

    /// The network device this socket is bound to (`SO_BINDTODEVICE`), if
    /// any.
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        self.inner.device()
    }

    /// Binds the socket to a network device (`SO_BINDTODEVICE`); `None` unbinds.
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        self.inner.bind_device(interface)
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        super::stream::ip(self.inner.local_addr()?)
    }

    /// Takes the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Binds the socket to `addr`.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// Connects to `addr`, giving a [`TcpStream`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the socket it took, abandoning the attempt as
    /// [`TcpStream::connect`] does.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        if !driver::io_uring_active()? {
            let std = std::net::TcpStream::from(self.inner);
            let socket = tokio::net::TcpSocket::from_std_stream(std);
            return Ok(TcpStream::from_tokio(socket.connect(addr).await?));
        }
        let fd = connect(OwnedFd::from(self.inner), addr.into()).await?;
        Ok(TcpStream::from_uring_fd(fd))
    }

    /// Listens with `backlog`, giving a [`TcpListener`]. Must be called
    /// inside a Tokio runtime.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        self.inner.listen(backlog)?;
        TcpListener::from_std(std::net::TcpListener::from(self.inner))
    }

    /// Wraps a standard-library stream's socket (e.g. to set options on it
    /// before `connect`), setting it non-blocking.
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        let inner = Socket::from(stream);
        let _ = inner.set_nonblocking(true);
        TcpSocket { inner }
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl FromRawFd for TcpSocket {
    /// # Safety
    ///
    /// `fd` must be an open TCP socket that nothing else owns.
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        // SAFETY: the caller passes an owned, open socket fd.
        let inner = unsafe { Socket::from_raw_fd(fd) };
        TcpSocket { inner }
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket")
            .field("addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
