//! The reading end of a pipe.

use std::fmt;
use std::fs::File;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, Interest, ReadBuf, Ready};
use tokio::net::unix::pipe as tk;

use super::{check, set_nonblocking};
use crate::driver;
use crate::net::poll_io::{Direction, PollIo, ready_with};

/// The reading end of a Unix pipe or FIFO: Tokio's `pipe::Receiver`,
/// waiting for readiness on the io_uring ring (see the
/// [module docs](super)).
///
/// ```no_run
/// use shardio::net::unix::pipe;
/// use tokio::io::AsyncReadExt;
///
/// # async fn demo() -> std::io::Result<()> {
/// let (_tx, mut rx) = pipe::pipe()?;
/// let mut buf = Vec::new();
/// rx.read_to_end(&mut buf).await?;
/// # Ok(())
/// # }
/// ```
pub struct Receiver {
    inner: Inner,
    /// The ring reported the pipe readable at least once. Until then a read
    /// waits for that instead of trying `read` first, as Tokio's does: a
    /// FIFO opened before any writer reads as end of stream, but is not
    /// reported readable until a writer came (and wrote, or left).
    seen_ready: std::sync::atomic::AtomicBool,
}

enum Inner {
    Uring(Box<PollIo<OwnedFd>>),
    Epoll(tk::Receiver),
}

impl Receiver {
    /// Moves Tokio's end (checked and non-blocking) onto the ring, or keeps
    /// it on the fallback path.
    pub(crate) fn from_tokio(rx: tk::Receiver) -> io::Result<Receiver> {
        let inner = if driver::io_uring_active()? {
            Inner::Uring(Box::new(PollIo::new(rx.into_nonblocking_fd()?)))
        } else {
            Inner::Epoll(rx)
        };
        Ok(Receiver {
            inner,
            seen_ready: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Wraps a FIFO opened for reading (`O_RDONLY` or `O_RDWR`), setting it
    /// non-blocking; fails if it is not a FIFO or not readable. Must be
    /// called inside a Tokio runtime.
    pub fn from_file(file: File) -> io::Result<Receiver> {
        Self::from_tokio(tk::Receiver::from_file(file)?)
    }

    /// Like [`from_file`](Receiver::from_file), from an owned fd.
    pub fn from_owned_fd(owned_fd: OwnedFd) -> io::Result<Receiver> {
        Self::from_tokio(tk::Receiver::from_owned_fd(owned_fd)?)
    }

    /// Like [`from_file`](Receiver::from_file) without the checks; the file
    /// must be non-blocking already and readable.
    pub fn from_file_unchecked(file: File) -> io::Result<Receiver> {
        Self::from_tokio(tk::Receiver::from_file_unchecked(file)?)
    }

    /// Like [`from_file_unchecked`](Receiver::from_file_unchecked), from an
    /// owned fd.
    pub fn from_owned_fd_unchecked(owned_fd: OwnedFd) -> io::Result<Receiver> {
        Self::from_tokio(tk::Receiver::from_owned_fd_unchecked(owned_fd)?)
    }

    /// Waits for any of the requested readiness (usually readable).
    /// Readiness may be spurious: a `try_read` after it can still say
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
            Inner::Epoll(rx) => rx.ready(interest).await,
        }
    }

    /// Waits until the pipe is readable: it holds bytes, or every writer
    /// closed it (a read then gives end of stream).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        match &self.inner {
            Inner::Uring(io) => io.ready(Direction::Read).await,
            Inner::Epoll(rx) => rx.readable().await,
        }
    }

    /// Polls for read readiness, as [`readable`](Receiver::readable).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.inner {
            Inner::Uring(io) => io.poll_ready(Direction::Read, cx),
            Inner::Epoll(rx) => rx.poll_read_ready(cx),
        }
    }

    /// Reads without waiting: `Ok(0)` at end of stream (every writer
    /// closed), `WouldBlock` when the pipe is empty.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.inner {
            // SAFETY: initialized bytes are valid as possibly-uninitialized.
            Inner::Uring(io) => read(io.get_ref().as_fd(), unsafe { as_uninit(buf) }),
            Inner::Epoll(rx) => rx.try_read(buf),
        }
    }

    /// Like [`try_read`](Receiver::try_read), into several buffers in order.
    pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(io) => {
                let count = bufs.len().min(libc::c_int::MAX as usize) as libc::c_int;
                // SAFETY: `IoSliceMut` has the layout of `iovec` and each
                // points to valid writable bytes; the fd is open.
                check(unsafe {
                    libc::readv(io.get_ref().as_raw_fd(), bufs.as_mut_ptr().cast(), count)
                })
            }
            Inner::Epoll(rx) => rx.try_read_vectored(bufs),
        }
    }

    /// Like [`try_read`](Receiver::try_read), appending to a `BufMut` (its
    /// spare capacity).
    pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(io) => {
                // SAFETY: read(2) only writes into the spare capacity, and
                // we advance by what it wrote.
                let dst = unsafe { buf.chunk_mut().as_uninit_slice_mut() };
                let n = read(io.get_ref().as_fd(), dst)?;
                // SAFETY: the kernel initialized `n` bytes of the spare capacity.
                unsafe { buf.advance_mut(n) };
                Ok(n)
            }
            Inner::Epoll(rx) => rx.try_read_buf(buf),
        }
    }

    /// Runs the caller's read `f` (a system call on the fd). On io_uring
    /// readiness is asked from the ring each time [`readable`](Receiver::readable)
    /// waits, so `f` runs whenever it is called and its `WouldBlock` needs
    /// no clearing; on the fallback path this is Tokio's `try_io`.
    pub fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        match &self.inner {
            Inner::Uring(_) => f(),
            Inner::Epoll(rx) => rx.try_io(f),
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
            Inner::Epoll(rx) => rx.into_nonblocking_fd(),
        }
    }
}

/// # Safety
///
/// The caller must only write initialized bytes through the result (read(2)
/// does).
unsafe fn as_uninit(buf: &mut [u8]) -> &mut [MaybeUninit<u8>] {
    // SAFETY: same layout; the caller writes only initialized bytes.
    unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) }
}

fn read(fd: BorrowedFd<'_>, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` writable bytes; the borrow
    // keeps the fd open.
    check(unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) })
}

impl AsyncRead for Receiver {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match &mut this.inner {
            Inner::Uring(io) => {
                use std::sync::atomic::Ordering;
                if !this.seen_ready.load(Ordering::Acquire) {
                    std::task::ready!(io.poll_ready(Direction::Read, cx))?;
                    this.seen_ready.store(true, Ordering::Release);
                }
                io.poll_io(Direction::Read, cx, |fd| {
                    // SAFETY: read(2) writes only initialized bytes into the
                    // unfilled part, and we mark just those filled.
                    let n = read(fd.as_fd(), unsafe { buf.unfilled_mut() })?;
                    // SAFETY: the kernel initialized `n` bytes.
                    unsafe { buf.assume_init(n) };
                    buf.advance(n);
                    Ok(())
                })
            }
            Inner::Epoll(rx) => Pin::new(rx).poll_read(cx, buf),
        }
    }
}

impl AsRawFd for Receiver {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl AsFd for Receiver {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.inner {
            Inner::Uring(io) => io.get_ref().as_fd(),
            Inner::Epoll(rx) => rx.as_fd(),
        }
    }
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("fd", &self.as_raw_fd())
            .field("io_uring", &matches!(self.inner, Inner::Uring(_)))
            .finish()
    }
}
