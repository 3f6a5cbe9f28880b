//! Unix pipes and FIFOs (Tokio's `tokio::net::unix::pipe`): [`pipe()`],
//! [`Sender`], [`Receiver`] and [`OpenOptions`] with Tokio's names,
//! signatures and semantics.
//!
//! On io_uring a pipe end waits for readiness with a `POLL_ADD` on the
//! thread's ring and then reads or writes with a non-blocking `read`/`write`
//! into or from the caller's buffer, the path datagram sockets take. It does
//! not take the path of stream sockets (a multishot receive into the ring's
//! buffer pool, sends from owned buffers): those opcodes (`RECV`, `SEND`)
//! work on sockets only, and this way a pipe keeps Tokio's semantics
//! exactly: `try_read`/`try_write` and every `AsyncRead`/`AsyncWrite` call
//! move bytes between the caller's buffer and the kernel's pipe buffer, so an
//! awaited write is in the pipe and a dropped read lost nothing. Pipes are
//! not charged to a priority class. On the fallback path they are Tokio's.
//!
//! The checks on an fd handed in (a FIFO, open for the right direction) and
//! the opening of FIFOs are Tokio's own: the ends are made by Tokio's types
//! and, on io_uring, taken out of Tokio's reactor.

mod receiver;
mod sender;

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

pub use receiver::Receiver;
pub use sender::Sender;
use tokio::net::unix::pipe as tk;

/// Creates an anonymous pipe: the bytes written to the [`Sender`] are read
/// from the [`Receiver`]. Both ends are non-blocking and close-on-exec.
/// Must be called inside a Tokio runtime.
pub fn pipe() -> io::Result<(Sender, Receiver)> {
    let (tx, rx) = tk::pipe()?;
    Ok((Sender::from_tokio(tx)?, Receiver::from_tokio(rx)?))
}

/// Options for opening a FIFO (named pipe) as a [`Sender`] or a
/// [`Receiver`], as Tokio's `OpenOptions`.
///
/// ```no_run
/// use shardio::net::unix::pipe;
///
/// # async fn demo() -> std::io::Result<()> {
/// let rx = pipe::OpenOptions::new().open_receiver("/tmp/my-fifo")?;
/// # drop(rx);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    inner: tk::OpenOptions,
}

impl OpenOptions {
    /// Options with Tokio's defaults: not read-write, checked.
    pub fn new() -> OpenOptions {
        OpenOptions {
            inner: tk::OpenOptions::new(),
        }
    }

    /// Opens the FIFO for reading and writing (Linux): a sender then opens
    /// without a reader and a receiver never sees end of stream.
    pub fn read_write(&mut self, value: bool) -> &mut Self {
        self.inner.read_write(value);
        self
    }

    /// Skips the check that the file opened is a FIFO.
    pub fn unchecked(&mut self, value: bool) -> &mut Self {
        self.inner.unchecked(value);
        self
    }

    /// Opens the FIFO at `path` as a [`Receiver`]. Must be called inside a
    /// Tokio runtime.
    pub fn open_receiver<P: AsRef<Path>>(&self, path: P) -> io::Result<Receiver> {
        Receiver::from_tokio(self.inner.open_receiver(path)?)
    }

    /// Opens the FIFO at `path` as a [`Sender`]; fails with `ENXIO` when no
    /// reader has it open (unless read-write). Must be called inside a
    /// Tokio runtime.
    pub fn open_sender<P: AsRef<Path>>(&self, path: P) -> io::Result<Sender> {
        Sender::from_tokio(self.inner.open_sender(path)?)
    }
}

/// Turns a system call's return value into a byte count.
fn check(ret: isize) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// Sets or clears `O_NONBLOCK` on `fd`.
fn set_nonblocking(fd: BorrowedFd<'_>, nonblocking: bool) -> io::Result<()> {
    // SAFETY: fcntl on an fd the borrow keeps open.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let flags = if nonblocking {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    // SAFETY: as above; F_SETFL takes an int.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
