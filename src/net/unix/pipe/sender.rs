//! The writing end of a pipe.

use std::fmt;
use std::fs::File;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncWrite, Interest, Ready};
use tokio::net::unix::pipe as tk;

use super::{check, set_nonblocking};
use crate::driver;
use crate::net::poll_io::{Direction, PollIo, ready_with};

/// The writing end of a Unix pipe or FIFO: Tokio's `pipe::Sender`, waiting
/// for readiness on the io_uring ring (see the [module docs](super)).
///
/// ```no_run
/// use shardio::net::unix::pipe;
/// use tokio::io::AsyncWriteExt;
///
/// # async fn demo() -> std::io::Result<()> {
/// let (mut tx, _rx) = pipe::pipe()?;
/// tx.write_all(b"hello").await?;
/// # Ok(())
/// # }
/// ```
pub struct Sender {
    inner: Inner,
}

enum Inner {
    Uring(Box<PollIo<OwnedFd>>),
    Epoll(tk::Sender),
}

impl Sender {
    /// Moves Tokio's end (checked and non-blocking) onto the ring, or keeps
    /// it on the fallback path.
    pub(crate) fn from_tokio(tx: tk::Sender) -> io::Result<Sender> {
        let inner = if driver::io_uring_active()? {
            Inner::Uring(Box::new(PollIo::new(tx.into_nonblocking_fd()?)))
        } else {
            Inner::Epoll(tx)
        };
        Ok(Sender { inner })
    }

    /// Wraps a FIFO opened for writing (`O_WRONLY` or `O_RDWR`), setting it
    /// non-blocking; fails if it is not a FIFO or not writable. Must be
    /// called inside a Tokio runtime.
    pub fn from_file(file: File) -> io::Result<Sender> {
        Self::from_tokio(tk::Sender::from_file(file)?)
    }

    /// Like [`from_file`](Sender::from_file), from an owned fd.
    pub fn from_owned_fd(owned_fd: OwnedFd) -> io::Result<Sender> {
        Self::from_tokio(tk::Sender::from_owned_fd(owned_fd)?)
    }

    /// Like [`from_file`](Sender::from_file) without the checks; the file
    /// must be non-blocking already and writable.
    pub fn from_file_unchecked(file: File) -> io::Result<Sender> {
        Self::from_tokio(tk::Sender::from_file_unchecked(file)?)
    }

    /// Like [`from_file_unchecked`](Sender::from_file_unchecked), from an
    /// owned fd.
    pub fn from_owned_fd_unchecked(owned_fd: OwnedFd) -> io::Result<Sender> {
        Self::from_tokio(tk::Sender::from_owned_fd_unchecked(owned_fd)?)
    }

    /// Waits for any of the requested readiness (usually writable).
    /// Readiness may be spurious: a `try_write` after it can still say
    /// `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        match &self.inner {
            Inner::Uring(io) => {
                ready_with(
                    interest,
                    |cx| io.poll_ready(Direction::Read, cx),
                    |cx| io.poll_ready(Direction::Write, cx),
                )
                .await
            }
            Inner::Epoll(tx) => tx.ready(interest).await,
        }
    }

    /// Waits until the pipe is writable (has room, or the reader is gone so
    /// that a write fails at once).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        match &self.inner {
            Inner::Uring(io) => io.ready(Direction::Write).await,
            Inner::Epoll(tx) => tx.writable().await,
        }
    }

    /// Polls for write readiness, as [`writable`](Sender::writable).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.inner {
            Inner::Uring(io) => io.poll_ready(Direction::Write, cx),
            Inner::Epoll(tx) => tx.poll_write_ready(cx),
        }
    }

    /// Writes without waiting: how many bytes the pipe took, or
    /// `WouldBlock` when it is full. Writes of up to `PIPE_BUF` bytes are
    /// atomic.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(io) => write(io.get_ref().as_fd(), buf),
            Inner::Epoll(tx) => tx.try_write(buf),
        }
    }

    /// Like [`try_write`](Sender::try_write), from several buffers in order.
    pub fn try_write_vectored(&self, buf: &[IoSlice<'_>]) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(io) => writev(io.get_ref().as_fd(), buf),
            Inner::Epoll(tx) => tx.try_write_vectored(buf),
        }
    }

    /// Runs the caller's write `f` (a system call on the fd). On io_uring
    /// readiness is asked from the ring each time [`writable`](Sender::writable)
    /// waits, so `f` runs whenever it is called and its `WouldBlock` needs
    /// no clearing; on the fallback path this is Tokio's `try_io`.
    pub fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        match &self.inner {
            Inner::Uring(_) => f(),
            Inner::Epoll(tx) => tx.try_io(f),
        }
    }

    /// Hands the fd back in blocking mode.
    pub fn into_blocking_fd(self) -> io::Result<OwnedFd> {
        let fd = self.into_nonblocking_fd()?;
        set_nonblocking(fd.as_fd(), false)?;
        Ok(fd)
    }

    /// Hands the fd back, still non-blocking. On io_uring it is a duplicate
    /// of shardio's fd, which closes once a readiness poll still on the ring
    /// let go of it.
    pub fn into_nonblocking_fd(self) -> io::Result<OwnedFd> {
        match self.inner {
            Inner::Uring(io) => io.get_ref().try_clone(),
            Inner::Epoll(tx) => tx.into_nonblocking_fd(),
        }
    }
}

fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` bytes; the borrow keeps the fd open.
    check(unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) })
}

fn writev(fd: BorrowedFd<'_>, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let count = bufs.len().min(libc::c_int::MAX as usize) as libc::c_int;
    // SAFETY: `IoSlice` has the layout of `iovec` and each points to valid
    // bytes; the borrow keeps the fd open.
    check(unsafe { libc::writev(fd.as_raw_fd(), bufs.as_ptr().cast(), count) })
}

impl AsyncWrite for Sender {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Uring(io) => io.poll_io(Direction::Write, cx, |fd| write(fd.as_fd(), buf)),
            Inner::Epoll(tx) => Pin::new(tx).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Uring(io) => io.poll_io(Direction::Write, cx, |fd| writev(fd.as_fd(), bufs)),
            Inner::Epoll(tx) => Pin::new(tx).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsRawFd for Sender {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl AsFd for Sender {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.inner {
            Inner::Uring(io) => io.get_ref().as_fd(),
            Inner::Epoll(tx) => tx.as_fd(),
        }
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("fd", &self.as_raw_fd())
            .field("io_uring", &matches!(self.inner, Inner::Uring(_)))
            .finish()
    }
}
