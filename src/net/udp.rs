use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::task::{Context, Poll};

use tokio::io::ReadBuf;

use super::datagram_extra::ReadyFlags;
use super::poll_io::{Direction, PollIo};
use super::{ToSocketAddrs, each_addr};
use crate::driver;

/// A UDP socket: Tokio's `UdpSocket`, with readiness from io_uring.
///
/// Datagram I/O uses non-blocking system calls into the caller's buffer;
/// when one would block, the task waits for an io_uring poll of the socket.
/// So the API is Tokio's to the letter (borrowed buffers, `&self` methods
/// usable from many tasks at once) and so is its cancel safety: a datagram
/// is only received into a buffer while its caller is there.
///
/// ```no_run
/// use shardio::net::UdpSocket;
///
/// # async fn demo() -> std::io::Result<()> {
/// let socket = UdpSocket::bind("127.0.0.1:0").await?;
/// socket.send_to(b"ping", "127.0.0.1:9000").await?;
/// let mut buf = [0u8; 1500];
/// let (n, from) = socket.recv_from(&mut buf).await?;
/// # let _ = (n, from);
/// # Ok(())
/// # }
/// ```
pub struct UdpSocket {
    inner: Inner,
    /// Known readiness on io_uring (see `ReadyFlags`).
    ready: ReadyFlags,
}

// The io_uring variant is the common one; boxing it would add an
// indirection to every operation for the benefit of the fallback's size.
#[allow(clippy::large_enum_variant)]
enum Inner {
    Uring(PollIo<std::net::UdpSocket>),
    Epoll(tokio::net::UdpSocket),
}

datagram_socket! {
    type: UdpSocket,
    std: std::net::UdpSocket,
    addr: SocketAddr,
    target: SocketAddr,
    resolved: SocketAddr,
}

datagram_extra! {
    type: UdpSocket,
    std: std::net::UdpSocket,
    addr: SocketAddr,
    from_sockaddr: inet_addr,
}

/// The sender of a received datagram as an internet address.
fn inet_addr(addr: socket2::SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::other("sender not available"))
}

/// The sender of the next datagram, without taking it (`MSG_PEEK`).
fn peek_sender_of(sock: &impl AsFd) -> io::Result<SocketAddr> {
    inet_addr(socket2::SockRef::from(sock).peek_sender()?)
}

impl UdpSocket {
    /// Binds to `addr` (the first resolved address that binds).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it waits only for the address lookup, so a dropped call
    /// left no socket bound.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        each_addr(addr, |addr| async move {
            UdpSocket::from_std(std::net::UdpSocket::bind(addr)?)
        })
        .await
    }

    /// Wraps a standard-library socket, setting it non-blocking. Must be
    /// called inside a Tokio runtime.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        let inner = if driver::io_uring_active()? {
            Inner::Uring(PollIo::new(socket))
        } else {
            Inner::Epoll(tokio::net::UdpSocket::from_std(socket)?)
        };
        Ok(UdpSocket {
            inner,
            ready: ReadyFlags::default(),
        })
    }

    /// Connects the socket to `addr`: `send`/`recv` then use it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it waits only for the address lookup, so a dropped call
    /// left the socket's peer as it was.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        each_addr(addr, |addr| async move {
            both!(self, s => s.connect(addr), t => t.connect(addr).await)
        })
        .await
    }

    /// Sends to `target` (the first resolved address).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, nothing was sent.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let addr = tokio::net::lookup_host(target)
            .await?
            .next()
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to")
            })?;
        self.send_to_resolved(buf, addr).await
    }

    /// Receives from the connected peer without taking the datagram.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, nothing was written into
    /// `buf` (and a peek takes no datagram in any case).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(io) => io.io(Direction::Read, |s| s.peek(buf)).await,
            Inner::Epoll(t) => t.peek(buf).await,
        }
    }

    /// Receives a datagram and its sender without taking it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, nothing was written into
    /// `buf` (and a peek takes no datagram in any case).
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        match &self.inner {
            Inner::Uring(io) => io.io(Direction::Read, |s| s.peek_from(buf)).await,
            Inner::Epoll(t) => t.peek_from(buf).await,
        }
    }

    /// The sender of the next datagram, without taking it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a peek takes no datagram, whether or not it completes.
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        match &self.inner {
            Inner::Uring(io) => io.io(Direction::Read, peek_sender_of).await,
            Inner::Epoll(t) => t.peek_sender().await,
        }
    }

    /// Polls to learn the sender of the next datagram without taking it
    /// (see [`peek_sender`](Self::peek_sender)).
    ///
    /// # Return value
    ///
    /// * `Poll::Pending` if no datagram is waiting.
    /// * `Poll::Ready(Ok(addr))` with the sender's address.
    /// * `Poll::Ready(Err(e))` if an error is encountered.
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        match &self.inner {
            Inner::Uring(io) => io.poll_io(Direction::Read, cx, peek_sender_of),
            Inner::Epoll(t) => t.poll_peek_sender(cx),
        }
    }

    /// The sender of the next datagram without taking it and without
    /// waiting: `WouldBlock` if none is waiting.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        both!(self, s => self.ready.track(Direction::Read, peek_sender_of(s)), t => t.try_peek_sender())
    }

    /// Polls to receive from the connected peer into `buf` without taking
    /// the datagram. Like Tokio's, it does not return the sender; a datagram
    /// longer than `buf` has its excess bytes left out.
    ///
    /// # Return value
    ///
    /// * `Poll::Pending` if no datagram is waiting.
    /// * `Poll::Ready(Ok(()))` with the bytes in `buf`'s filled part.
    /// * `Poll::Ready(Err(e))` if an error is encountered.
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &self.inner {
            Inner::Uring(io) => io.poll_io(Direction::Read, cx, |s| {
                let n = s.peek(buf.initialize_unfilled())?;
                buf.advance(n);
                Ok(())
            }),
            Inner::Epoll(t) => t.poll_peek(cx, buf),
        }
    }

    /// Receives from the connected peer without taking the datagram and
    /// without waiting: `WouldBlock` if none is waiting.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        both!(self, s => self.ready.track(Direction::Read, s.peek(buf)), t => t.try_peek(buf))
    }

    /// Polls to send `buf` to `target`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        match &self.inner {
            Inner::Uring(io) => io.poll_send(cx, buf.len(), |s| s.send_to(buf, target)),
            Inner::Epoll(t) => t.poll_send_to(cx, buf, target),
        }
    }

    /// Polls to peek at a datagram; returns its sender.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        match &self.inner {
            Inner::Uring(io) => io.poll_io(Direction::Read, cx, |s| {
                let (n, addr) = s.peek_from(buf.initialize_unfilled())?;
                buf.advance(n);
                Ok(addr)
            }),
            Inner::Epoll(t) => t.poll_peek_from(cx, buf),
        }
    }

    /// Sends to `target` without waiting: `WouldBlock` if the socket's
    /// send buffer is full.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.try_send_to_resolved(buf, target)
    }

    /// Peeks at a datagram without waiting.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        both!(self, s => self.ready.track(Direction::Read, s.peek_from(buf)), t => t.try_peek_from(buf))
    }

    /// `SO_BROADCAST`.
    pub fn broadcast(&self) -> io::Result<bool> {
        both!(self, s => s.broadcast(), t => t.broadcast())
    }

    /// Sets `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        both!(self, s => s.set_broadcast(on), t => t.set_broadcast(on))
    }

    /// `IP_MULTICAST_LOOP`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        both!(self, s => s.multicast_loop_v4(), t => t.multicast_loop_v4())
    }

    /// Sets `IP_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        both!(self, s => s.set_multicast_loop_v4(on), t => t.set_multicast_loop_v4(on))
    }

    /// `IP_MULTICAST_TTL`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        both!(self, s => s.multicast_ttl_v4(), t => t.multicast_ttl_v4())
    }

    /// Sets `IP_MULTICAST_TTL`.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        both!(self, s => s.set_multicast_ttl_v4(ttl), t => t.set_multicast_ttl_v4(ttl))
    }

    /// `IPV6_MULTICAST_LOOP`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        both!(self, s => s.multicast_loop_v6(), t => t.multicast_loop_v6())
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        both!(self, s => s.set_multicast_loop_v6(on), t => t.set_multicast_loop_v6(on))
    }

    /// Joins an IPv4 multicast group on `interface`.
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        both!(self, s => s.join_multicast_v4(&multiaddr, &interface), t => t.join_multicast_v4(multiaddr, interface))
    }

    /// Joins an IPv6 multicast group on interface index `interface`.
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        both!(self, s => s.join_multicast_v6(multiaddr, interface), t => t.join_multicast_v6(multiaddr, interface))
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        both!(self, s => s.leave_multicast_v4(&multiaddr, &interface), t => t.leave_multicast_v4(multiaddr, interface))
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        both!(self, s => s.leave_multicast_v6(multiaddr, interface), t => t.leave_multicast_v6(multiaddr, interface))
    }

    /// `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        both!(self, s => s.ttl(), t => t.ttl())
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        both!(self, s => s.set_ttl(ttl), t => t.set_ttl(ttl))
    }

    /// Gets the value of the `IP_TOS` option for this socket (the
    /// type-of-service field of every packet it sends).
    ///
    /// This may not have any effect on IPv6 sockets.
    pub fn tos_v4(&self) -> io::Result<u32> {
        socket2::SockRef::from(self).tos_v4()
    }

    /// Sets the value for the `IP_TOS` option on this socket.
    ///
    /// This may not have any effect on IPv6 sockets.
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        socket2::SockRef::from(self).set_tos_v4(tos)
    }

    /// Deprecated. Use [`tos_v4()`](Self::tos_v4) instead.
    #[deprecated(
        note = "`tos` related methods have been renamed `tos_v4` since they are IPv4-specific."
    )]
    #[doc(hidden)]
    pub fn tos(&self) -> io::Result<u32> {
        self.tos_v4()
    }

    /// Deprecated. Use [`set_tos_v4()`](Self::set_tos_v4) instead.
    #[deprecated(
        note = "`tos` related methods have been renamed `tos_v4` since they are IPv4-specific."
    )]
    #[doc(hidden)]
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.set_tos_v4(tos)
    }

    /// Gets the value of the `IPV6_TCLASS` option for this socket (the
    /// traffic class of every packet it sends).
    ///
    /// This may not have any effect on IPv4 sockets.
    pub fn tclass_v6(&self) -> io::Result<u32> {
        socket2::SockRef::from(self).tclass_v6()
    }

    /// Sets the value for the `IPV6_TCLASS` option on this socket.
    ///
    /// This may not have any effect on IPv4 sockets.
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        socket2::SockRef::from(self).set_tclass_v6(tclass)
    }

    /// Gets the value of the `SO_BINDTODEVICE` option on this socket: the
    /// name of the interface it is bound to, if any.
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        socket2::SockRef::from(self).device()
    }

    /// Sets the value for the `SO_BINDTODEVICE` option on this socket.
    ///
    /// If a socket is bound to an interface, only packets received from that
    /// particular interface are processed by the socket. `None` or an empty
    /// name removes the binding. Binding usually needs `CAP_NET_RAW`.
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        socket2::SockRef::from(self).bind_device(interface)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .field("io_uring", &matches!(self.inner, Inner::Uring(_)))
            .finish()
    }
}
