//! What [`UdpSocket`](super::UdpSocket) and
//! [`UnixDatagram`](super::UnixDatagram) share: every method whose body is
//! the same for both, written once here and expanded in each type by
//! [`datagram_socket!`].
//!
//! A type using it has `inner: Inner` with `Inner::Uring(PollIo<Std>)` (the
//! standard-library socket, non-blocking system calls with readiness from
//! the ring: [`PollIo`](super::poll_io::PollIo), the layer both types share
//! the way Tokio's share its registration) and `Inner::Epoll(<Tokio's
//! socket>)`. Tokio's two socket types have the same method names but no
//! common trait, so the sharing is a macro, as for the stream halves
//! (`halves.rs`): a trait would need one forwarding method per type and
//! method, as many lines as the twins it replaces.

/// Matches on a datagram socket's `inner`: `$uring` runs with `$s` the
/// standard-library socket, `$epoll` with `$t` Tokio's.
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

/// The shared methods (and `AsRawFd`/`AsFd`) of a datagram socket type:
/// `std` is its standard-library socket, `addr` the sender address it
/// reports (a `From` of std's), `target` what `try_send_to` resolves to and
/// `resolved` what `send_to` resolves its target to before it sends.
macro_rules! datagram_socket {
    (
        type: $Type:ident,
        std: $Std:ty,
        addr: $Addr:ty,
        target: $Target:ty,
        resolved: $Resolved:ty $(,)?
    ) => {
        impl $Type {
            class_methods! {
                /// Makes `class` this socket's priority class: sends are charged to it
                /// before they are tried (`send`, `send_to`, `poll_send*`; `try_send*`
                /// cannot wait and is charged after), receives when they complete (see
                /// [`shardio::sched`](crate::sched)). Without it, operations run in the
                /// class of the future that issues them. On the epoll fallback path
                /// sockets are not scheduled and this has no effect.
            }

            /// Turns this into a standard-library socket (non-blocking).
            pub fn into_std(self) -> std::io::Result<$Std> {
                match self.inner {
                    Inner::Uring(io) => io.get_ref().try_clone(),
                    Inner::Epoll(t) => t.into_std(),
                }
            }

            /// Sends to the connected peer.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: if dropped before completing, nothing was sent.
            pub async fn send(&self, buf: &[u8]) -> std::io::Result<usize> {
                match &self.inner {
                    Inner::Uring(io) => io.send(buf.len(), |s| s.send(buf)).await,
                    Inner::Epoll(t) => t.send(buf).await,
                }
            }

            /// Receives from the connected peer.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: if dropped before completing, no datagram was taken.
            pub async fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                match &self.inner {
                    Inner::Uring(io) => io.recv(|s| s.recv(buf), |n| *n).await,
                    Inner::Epoll(t) => t.recv(buf).await,
                }
            }

            /// The body of `send_to` once its target is resolved.
            async fn send_to_resolved(
                &self,
                buf: &[u8],
                target: $Resolved,
            ) -> std::io::Result<usize> {
                match &self.inner {
                    Inner::Uring(io) => io.send(buf.len(), |s| s.send_to(buf, target)).await,
                    Inner::Epoll(t) => t.send_to(buf, target).await,
                }
            }

            /// Receives a datagram and the address it came from.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: if dropped before completing, no datagram was taken.
            pub async fn recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, $Addr)> {
                match &self.inner {
                    Inner::Uring(io) => {
                        let (n, addr) = io.recv(|s| s.recv_from(buf), |(n, _)| *n).await?;
                        Ok((n, <$Addr>::from(addr)))
                    }
                    Inner::Epoll(t) => t.recv_from(buf).await,
                }
            }

            /// Polls to receive from the connected peer into `buf`.
            pub fn poll_recv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match &self.inner {
                    Inner::Uring(io) => io.poll_recv_buf(cx, buf, |s, b| Ok((s.recv(b)?, ()))),
                    Inner::Epoll(t) => t.poll_recv(cx, buf),
                }
            }

            /// Polls to send to the connected peer.
            pub fn poll_send(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                match &self.inner {
                    Inner::Uring(io) => io.poll_send(cx, buf.len(), |s| s.send(buf)),
                    Inner::Epoll(t) => t.poll_send(cx, buf),
                }
            }

            /// Polls to receive a datagram into `buf`; returns its sender.
            pub fn poll_recv_from(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<$Addr>> {
                match &self.inner {
                    Inner::Uring(io) => io
                        .poll_recv_buf(cx, buf, |s, b| s.recv_from(b))
                        .map_ok(<$Addr>::from),
                    Inner::Epoll(t) => t.poll_recv_from(cx, buf),
                }
            }

            /// Waits for any of the requested readiness (a following `try_*` call
            /// may still say `WouldBlock`, as with Tokio).
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: dropping the future loses no readiness. Readiness
            /// that arrives after the drop is returned at once by the next call
            /// (on io_uring the poll the call submitted stays with the socket),
            /// unless another call took it first.
            pub async fn ready(
                &self,
                interest: tokio::io::Interest,
            ) -> std::io::Result<tokio::io::Ready> {
                match &self.inner {
                    Inner::Uring(io) => {
                        crate::net::poll_io::ready_with(
                            interest,
                            |cx| {
                                self.ready
                                    .poll_ready(io, crate::net::poll_io::Direction::Read, cx)
                            },
                            |cx| {
                                self.ready
                                    .poll_ready(io, crate::net::poll_io::Direction::Write, cx)
                            },
                        )
                        .await
                    }
                    Inner::Epoll(t) => t.ready(interest).await,
                }
            }

            /// Waits until the socket is readable.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: dropping the future loses no readiness. Readiness
            /// that arrives after the drop is returned at once by the next call
            /// (on io_uring the poll the call submitted stays with the socket),
            /// unless another call took it first.
            pub async fn readable(&self) -> std::io::Result<()> {
                match &self.inner {
                    Inner::Uring(io) => {
                        std::future::poll_fn(|cx| {
                            self.ready
                                .poll_ready(io, crate::net::poll_io::Direction::Read, cx)
                        })
                        .await
                    }
                    Inner::Epoll(t) => t.readable().await,
                }
            }

            /// Waits until the socket is writable.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: dropping the future loses no readiness. Readiness
            /// that arrives after the drop is returned at once by the next call
            /// (on io_uring the poll the call submitted stays with the socket),
            /// unless another call took it first.
            pub async fn writable(&self) -> std::io::Result<()> {
                match &self.inner {
                    Inner::Uring(io) => {
                        std::future::poll_fn(|cx| {
                            self.ready
                                .poll_ready(io, crate::net::poll_io::Direction::Write, cx)
                        })
                        .await
                    }
                    Inner::Epoll(t) => t.writable().await,
                }
            }

            /// Sends to the connected peer without waiting.
            pub fn try_send(&self, buf: &[u8]) -> std::io::Result<usize> {
                match &self.inner {
                    Inner::Uring(io) => io.charged(
                        crate::net::poll_io::Direction::Write,
                        self.ready
                            .track(crate::net::poll_io::Direction::Write, io.get_ref().send(buf)),
                        |n| *n,
                    ),
                    Inner::Epoll(t) => t.try_send(buf),
                }
            }

            /// Receives from the connected peer without waiting.
            pub fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                match &self.inner {
                    Inner::Uring(io) => io.charged(
                        crate::net::poll_io::Direction::Read,
                        self.ready
                            .track(crate::net::poll_io::Direction::Read, io.get_ref().recv(buf)),
                        |n| *n,
                    ),
                    Inner::Epoll(t) => t.try_recv(buf),
                }
            }

            /// Sends to `target` without waiting (the body of each type's
            /// `try_send_to`, whose target type differs).
            fn try_send_to_resolved(&self, buf: &[u8], target: $Target) -> std::io::Result<usize> {
                match &self.inner {
                    Inner::Uring(io) => io.charged(
                        crate::net::poll_io::Direction::Write,
                        self.ready
                            .track(crate::net::poll_io::Direction::Write, io.get_ref().send_to(buf, target)),
                        |n| *n,
                    ),
                    Inner::Epoll(t) => t.try_send_to(buf, target),
                }
            }

            /// Receives a datagram without waiting.
            pub fn try_recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, $Addr)> {
                match &self.inner {
                    Inner::Uring(io) => io.charged(
                        crate::net::poll_io::Direction::Read,
                        self.ready.track(
                            crate::net::poll_io::Direction::Read,
                            io.get_ref()
                                .recv_from(buf)
                                .map(|(n, a)| (n, <$Addr>::from(a))),
                        ),
                        |(n, _)| *n,
                    ),
                    Inner::Epoll(t) => t.try_recv_from(buf),
                }
            }

            /// The local address.
            pub fn local_addr(&self) -> std::io::Result<$Addr> {
                both!(self, s => s.local_addr().map(<$Addr>::from), t => t.local_addr())
            }

            /// The connected peer's address.
            pub fn peer_addr(&self) -> std::io::Result<$Addr> {
                both!(self, s => s.peer_addr().map(<$Addr>::from), t => t.peer_addr())
            }

            /// Takes the pending socket error (`SO_ERROR`).
            pub fn take_error(&self) -> std::io::Result<Option<std::io::Error>> {
                both!(self, s => s.take_error(), t => t.take_error())
            }
        }

        impl std::os::fd::AsRawFd for $Type {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                both!(self, s => s.as_raw_fd(), t => t.as_raw_fd())
            }
        }

        impl std::os::fd::AsFd for $Type {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                both!(self, s => s.as_fd(), t => t.as_fd())
            }
        }
    };
}
