//! `try_io` / `async_io` on an io_uring stream: the caller's own system
//! calls on the socket, with readiness from the ring.
//!
//! Readiness is Tokio's: a flag per direction, set until a closure reports
//! `WouldBlock`; once cleared, the direction waits for a single-shot
//! `POLL_ADD` on the ring (the readiness [`PollIo`] gives datagram sockets)
//! before the closure is tried again.
//!
//! Two things differ from a socket that only the caller reads and writes:
//!
//! - a write through the closure waits until shardio's own send in flight
//!   (from `AsyncWrite` or `try_write`) completed, so that the caller's
//!   bytes follow the ones shardio already accepted;
//! - once a closure asked for `READABLE`, the stream's read readiness
//!   (`readable`, `ready`, `poll_read_ready`, and those of its halves) is the
//!   socket's, from the ring, no longer "shardio holds received bytes". Bytes
//!   shardio's own receive already took (if the stream was also read through
//!   `AsyncRead`, `try_read` or `peek`) are returned by those, not by the
//!   closure's system call: read a stream one way or the other.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker, ready};

use tokio::io::Interest;

use crate::net::poll_io::{Direction, PollIo};
use crate::net::stream_io::UringStream;

/// The raw-I/O readiness of one stream, created on its first `try_io`.
pub(crate) struct RawIo {
    poll: PollIo<Arc<OwnedFd>>,
    /// A closure said `WouldBlock` since the ring last reported readiness.
    read_blocked: AtomicBool,
    write_blocked: AtomicBool,
    /// A closure asked for `READABLE`: read readiness is the socket's.
    raw_reads: AtomicBool,
}

impl RawIo {
    pub(crate) fn new(fd: &Arc<OwnedFd>) -> RawIo {
        RawIo {
            poll: PollIo::new(Arc::clone(fd)),
            read_blocked: AtomicBool::new(false),
            write_blocked: AtomicBool::new(false),
            raw_reads: AtomicBool::new(false),
        }
    }

    fn blocked(&self, dir: Direction) -> &AtomicBool {
        match dir {
            Direction::Read => &self.read_blocked,
            Direction::Write => &self.write_blocked,
        }
    }

    /// Ready at once unless a closure cleared `dir`'s readiness; then once
    /// the ring reports the socket ready in `dir`.
    fn poll_dir(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.blocked(dir).load(Ordering::Acquire) {
            return Poll::Ready(Ok(()));
        }
        ready!(self.poll.poll_ready(dir, cx))?;
        self.blocked(dir).store(false, Ordering::Release);
        Poll::Ready(Ok(()))
    }
}

/// The stream's read readiness: shardio's (received bytes held) until a
/// closure asked for `READABLE`, the socket's from then on.
pub(crate) fn poll_read_ready(
    raw: Option<&RawIo>,
    s: &UringStream,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    match raw {
        Some(raw) if raw.raw_reads.load(Ordering::Acquire) => raw.poll_dir(Direction::Read, cx),
        _ => s.poll_read_ready(cx),
    }
}

/// The stream's write readiness: no send of shardio's in flight and, if a
/// closure said `WouldBlock` for writing, the socket writable again.
pub(crate) fn poll_write_ready(
    raw: Option<&RawIo>,
    s: &UringStream,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    ready!(s.poll_write_ready(cx))?;
    match raw {
        Some(raw) => raw.poll_dir(Direction::Write, cx),
        None => Poll::Ready(Ok(())),
    }
}

/// Tokio's `try_io`: runs `f` if the stream is ready for `interest`, and
/// clears that readiness if `f` says `WouldBlock`.
pub(crate) fn try_io<R>(
    raw: &RawIo,
    s: &UringStream,
    interest: Interest,
    f: impl FnOnce() -> io::Result<R>,
) -> io::Result<R> {
    if interest.is_readable() {
        raw.raw_reads.store(true, Ordering::Release);
    }
    let read = interest.is_readable() && !raw.read_blocked.load(Ordering::Acquire);
    let write = interest.is_writable() && !raw.write_blocked.load(Ordering::Acquire) && {
        // A send shardio accepted goes out before the caller's bytes.
        let mut cx = Context::from_waker(Waker::noop());
        s.poll_write_ready(&mut cx).is_ready()
    };
    if !read && !write {
        return Err(io::ErrorKind::WouldBlock.into());
    }
    let res = f();
    if matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
        if read {
            raw.read_blocked.store(true, Ordering::Release);
        }
        if write {
            raw.write_blocked.store(true, Ordering::Release);
        }
    }
    res
}

impl std::fmt::Debug for RawIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawIo")
            .field("read_blocked", &self.read_blocked)
            .field("write_blocked", &self.write_blocked)
            .field("raw_reads", &self.raw_reads)
            .finish()
    }
}
