//! The rest of what [`UdpSocket`](super::UdpSocket) and
//! [`UnixDatagram`](super::UnixDatagram) share with Tokio's: readiness
//! polling, `try_io`/`async_io` for the caller's own system calls, receives
//! into a `BufMut`, and `TryFrom` the standard-library socket. Expanded in
//! each type by [`datagram_extra!`], beside
//! [`datagram_socket!`](super::datagram); the helpers the expansions call
//! live here too.
//!
//! On io_uring, readiness is [`PollIo`](super::poll_io::PollIo)'s: a
//! `POLL_ADD` on the ring, shared by every task waiting in that direction.
//! shardio keeps no readiness flag between calls (each wait asks the kernel
//! afresh, level-triggered), so a `WouldBlock` from a closure passed to
//! `try_io`/`async_io` "clears" readiness the way Tokio's does: the next wait
//! reports the socket ready only once it is.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::BufMut;
use tokio::io::Interest;

use super::poll_io::{Direction, PollIo};

/// What a datagram socket on io_uring knows of its readiness, as Tokio's
/// registration does: a direction is ready from a completed wait (or a
/// `poll(2)` that says so) until an operation in it gets `WouldBlock`. So
/// `writable()` returns at once while no send has failed, even when the
/// kernel would not report the socket writable now (a Unix datagram
/// socket whose peer's queue is full), and the following `try_send` says
/// `WouldBlock`, as with Tokio.
#[derive(Debug, Default)]
pub(crate) struct ReadyFlags {
    read: AtomicBool,
    write: AtomicBool,
}

impl ReadyFlags {
    /// Flags for a fresh socket pair: writable, as Tokio's `pair()` assumes.
    pub(crate) fn writable() -> ReadyFlags {
        ReadyFlags {
            read: AtomicBool::new(false),
            write: AtomicBool::new(true),
        }
    }

    fn flag(&self, dir: Direction) -> &AtomicBool {
        match dir {
            Direction::Read => &self.read,
            Direction::Write => &self.write,
        }
    }

    /// Passes `res` through, clearing `dir`'s readiness on `WouldBlock`.
    pub(crate) fn track<R>(&self, dir: Direction, res: io::Result<R>) -> io::Result<R> {
        if matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.flag(dir).store(false, Ordering::Release);
        }
        res
    }

    /// Ready at once if `dir` is known ready (or `poll(2)` says so now);
    /// else waits for the ring's poll, and remembers its answer.
    pub(crate) fn poll_ready<S: AsRawFd + Send + Sync + 'static>(
        &self,
        io: &PollIo<S>,
        dir: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let flag = self.flag(dir);
        if flag.load(Ordering::Acquire) || ready_now(io.get_ref(), dir) {
            flag.store(true, Ordering::Release);
            return Poll::Ready(Ok(()));
        }
        let res = std::task::ready!(io.poll_ready(dir, cx));
        if res.is_ok() {
            flag.store(true, Ordering::Release);
        }
        Poll::Ready(res)
    }
}

/// The direction a `try_io`/`async_io` closure waits in: writable for a
/// write-only interest, readable otherwise (an `ERROR` interest waits with
/// the readable poll, which the kernel completes on an error too; `PRIORITY`
/// waits for plain readability).
pub(crate) fn direction(interest: Interest) -> Direction {
    if interest.is_writable() && !interest.is_readable() {
        Direction::Write
    } else {
        Direction::Read
    }
}

/// Whether `fd` is ready in `dir` right now (a `poll(2)` that does not
/// wait), so a readiness wait answers at once for a socket that is, as
/// Tokio's does for readiness it already knows.
fn ready_now(fd: &impl AsRawFd, dir: Direction) -> bool {
    let events = match dir {
        Direction::Read => libc::POLLIN,
        Direction::Write => libc::POLLOUT,
    };
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd for the duration of the call, and a
    // timeout of 0 makes it return at once.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n == 1 && pfd.revents != 0
}

/// The uninitialized spare capacity of `buf` as `MaybeUninit` bytes.
fn spare<B: BufMut>(buf: &mut B) -> &mut [MaybeUninit<u8>] {
    // SAFETY: the slice is only written through (by the kernel) and only the
    // bytes it reports written are then declared initialized.
    unsafe { buf.chunk_mut().as_uninit_slice_mut() }
}

/// Receives one datagram into `buf`'s spare capacity (without
/// initializing it first) and advances `buf` by its length.
pub(crate) fn recv_into<B: BufMut>(sock: &impl AsFd, buf: &mut B) -> io::Result<usize> {
    let n = socket2::SockRef::from(sock).recv(spare(buf))?;
    // SAFETY: `recv` initialized the first `n` bytes of the spare capacity.
    unsafe { buf.advance_mut(n) };
    Ok(n)
}

/// [`recv_into`] that also returns the sender's raw address.
pub(crate) fn recv_from_into<B: BufMut>(
    sock: &impl AsFd,
    buf: &mut B,
) -> io::Result<(usize, socket2::SockAddr)> {
    let (n, addr) = socket2::SockRef::from(sock).recv_from(spare(buf))?;
    // SAFETY: `recv_from` initialized the first `n` bytes of the spare
    // capacity.
    unsafe { buf.advance_mut(n) };
    Ok((n, addr))
}

/// The methods of [`datagram_socket!`]'s types that Tokio has beside the
/// plain sends and receives. `from_sockaddr` turns a `socket2::SockAddr`
/// into the type's address.
macro_rules! datagram_extra {
    (
        type: $Type:ident,
        std: $Std:ty,
        addr: $Addr:ty,
        from_sockaddr: $from_sockaddr:path $(,)?
    ) => {
        impl $Type {
            /// Polls for read readiness.
            ///
            /// If the socket is not currently ready for receiving, this method
            /// will store a clone of the `Waker` from the provided `Context`.
            /// When the socket becomes ready for reading, `Waker::wake` will be
            /// called on the waker.
            ///
            /// Like Tokio's, this is intended for cases where creating and
            /// pinning a future via [`readable`](Self::readable) is not
            /// feasible. On shardio every waker given here is woken (Tokio
            /// keeps only the most recent one), which is a superset of Tokio's
            /// behaviour.
            ///
            /// # Return value
            ///
            /// * `Poll::Pending` if the socket is not ready for reading.
            /// * `Poll::Ready(Ok(()))` if the socket is ready for reading.
            /// * `Poll::Ready(Err(e))` if an error is encountered.
            pub fn poll_recv_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                use crate::net::poll_io::Direction;
                match &self.inner {
                    Inner::Uring(io) => self.ready.poll_ready(io, Direction::Read, cx),
                    Inner::Epoll(t) => t.poll_recv_ready(cx),
                }
            }

            /// Polls for write readiness.
            ///
            /// If the socket is not currently ready for sending, this method
            /// will store a clone of the `Waker` from the provided `Context`.
            /// When the socket becomes ready for writing, `Waker::wake` will be
            /// called on the waker.
            ///
            /// # Return value
            ///
            /// * `Poll::Pending` if the socket is not ready for writing.
            /// * `Poll::Ready(Ok(()))` if the socket is ready for writing.
            /// * `Poll::Ready(Err(e))` if an error is encountered.
            pub fn poll_send_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                use crate::net::poll_io::Direction;
                match &self.inner {
                    Inner::Uring(io) => self.ready.poll_ready(io, Direction::Write, cx),
                    Inner::Epoll(t) => t.poll_send_ready(cx),
                }
            }

            /// Tries to read or write from the socket using a user-provided IO
            /// operation: `f` should make one non-blocking system call on
            /// this socket (e.g. `recvmsg` with control messages) and return
            /// `WouldBlock` only if that call did.
            ///
            /// Usually [`readable`](Self::readable),
            /// [`writable`](Self::writable) or [`ready`](Self::ready) is
            /// awaited first. The closure should not use this type's own I/O
            /// methods, and `interest` should name one direction, as with
            /// Tokio.
            ///
            /// On io_uring, shardio keeps no readiness flag: `f` always runs
            /// (Tokio returns `WouldBlock` without calling it when it knows
            /// the socket is not ready; a closure that makes the system call
            /// gets the same answer from the kernel either way).
            pub fn try_io<R>(
                &self,
                interest: tokio::io::Interest,
                f: impl FnOnce() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                match &self.inner {
                    Inner::Uring(_) => self
                        .ready
                        .track(crate::net::datagram_extra::direction(interest), f()),
                    Inner::Epoll(t) => t.try_io(interest, f),
                }
            }

            /// Reads or writes from the socket using a user-provided IO
            /// operation, waiting for readiness in `interest`'s direction
            /// whenever `f` returns `WouldBlock`, until it returns `Ok` or
            /// another error.
            ///
            /// `f` should make one non-blocking system call on this socket
            /// and return `WouldBlock` only if that call did; it should not
            /// use this type's own I/O methods.
            ///
            /// On io_uring, `f` is tried first and readiness (a ring poll) is
            /// awaited only after a `WouldBlock`; Tokio waits for readiness
            /// first, which its registration usually already holds.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe as far as shardio goes: if dropped, `f` is not
            /// called again; whatever a completed call of `f` did stays done.
            pub async fn async_io<R>(
                &self,
                interest: tokio::io::Interest,
                mut f: impl FnMut() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                match &self.inner {
                    Inner::Uring(io) => {
                        io.io(crate::net::datagram_extra::direction(interest), |_| f())
                            .await
                    }
                    Inner::Epoll(t) => t.async_io(interest, f).await,
                }
            }

            /// Tries to receive a datagram from the connected peer into
            /// `buf`'s spare capacity (it may be uninitialized), advancing
            /// `buf`; returns the bytes received. `WouldBlock` if none is
            /// waiting. Excess bytes of a datagram longer than the spare
            /// capacity are discarded.
            pub fn try_recv_buf<B: bytes::BufMut>(&self, buf: &mut B) -> std::io::Result<usize> {
                match &self.inner {
                    Inner::Uring(io) => io.charged(
                        crate::net::poll_io::Direction::Read,
                        self.ready.track(
                            crate::net::poll_io::Direction::Read,
                            crate::net::datagram_extra::recv_into(io.get_ref(), buf),
                        ),
                        |n| *n,
                    ),
                    Inner::Epoll(t) => t.try_recv_buf(buf),
                }
            }

            /// Receives a datagram from the connected peer into `buf`'s spare
            /// capacity (it may be uninitialized), advancing `buf`; returns
            /// the bytes received.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: if dropped before completing, no datagram was
            /// taken.
            pub async fn recv_buf<B: bytes::BufMut>(&self, buf: &mut B) -> std::io::Result<usize> {
                match &self.inner {
                    Inner::Uring(io) => {
                        io.recv(|s| crate::net::datagram_extra::recv_into(s, buf), |n| *n)
                            .await
                    }
                    Inner::Epoll(t) => t.recv_buf(buf).await,
                }
            }

            /// Tries to receive a datagram into `buf`'s spare capacity (it
            /// may be uninitialized), advancing `buf`; returns the bytes
            /// received and the sender. `WouldBlock` if none is waiting.
            pub fn try_recv_buf_from<B: bytes::BufMut>(
                &self,
                buf: &mut B,
            ) -> std::io::Result<(usize, $Addr)> {
                match &self.inner {
                    Inner::Uring(io) => {
                        let res = crate::net::datagram_extra::recv_from_into(io.get_ref(), buf)
                            .and_then(|(n, a)| Ok((n, $from_sockaddr(a)?)));
                        let res = self.ready.track(crate::net::poll_io::Direction::Read, res);
                        io.charged(crate::net::poll_io::Direction::Read, res, |(n, _)| *n)
                    }
                    Inner::Epoll(t) => t.try_recv_buf_from(buf),
                }
            }

            /// Receives a datagram into `buf`'s spare capacity (it may be
            /// uninitialized), advancing `buf`; returns the bytes received
            /// and the sender.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: if dropped before completing, no datagram was
            /// taken.
            pub async fn recv_buf_from<B: bytes::BufMut>(
                &self,
                buf: &mut B,
            ) -> std::io::Result<(usize, $Addr)> {
                match &self.inner {
                    Inner::Uring(io) => {
                        let (n, a) = io
                            .recv(
                                |s| crate::net::datagram_extra::recv_from_into(s, buf),
                                |(n, _)| *n,
                            )
                            .await?;
                        Ok((n, $from_sockaddr(a)?))
                    }
                    Inner::Epoll(t) => t.recv_buf_from(buf).await,
                }
            }
        }

        impl TryFrom<$Std> for $Type {
            type Error = std::io::Error;

            /// Consumes the standard-library socket, returning shardio's:
            /// the same as [`from_std`](Self::from_std).
            fn try_from(socket: $Std) -> Result<Self, Self::Error> {
                Self::from_std(socket)
            }
        }
    };
}
