//! `TcpStream` readiness, `try_*` and `peek`, with Tokio's signatures.
//!
//! On io_uring, readiness means what a caller can rely on: *readable* once
//! shardio holds received bytes for the stream (or saw its end), so
//! `try_read` then succeeds; *writable* once no send is in flight, so
//! `try_write` then succeeds. (`try_io`, which runs arbitrary system calls on
//! the socket, is not offered: a receive of the caller's would race with
//! shardio's armed receive and reorder the stream.)

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use tokio::io::{Interest, ReadBuf, Ready};

use super::stream::{Inner, TcpStream};

impl TcpStream {
    /// Waits for any of the requested readiness; see the module docs for
    /// what readiness means on io_uring.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        match &self.inner {
            Inner::Epoll(s) => s.ready(interest).await,
            Inner::Uring(s) => {
                crate::net::poll_io::ready_with(
                    interest,
                    |cx| s.poll_read_ready(cx),
                    |cx| s.poll_write_ready(cx),
                )
                .await
            }
        }
    }

    /// Waits until a read will not wait: received bytes are held (or the
    /// stream ended).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_read_ready(cx)).await
    }

    /// Polls for read readiness, as [`readable`](TcpStream::readable).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.inner {
            Inner::Uring(s) => s.poll_read_ready(cx),
            Inner::Epoll(s) => s.poll_read_ready(cx),
        }
    }

    /// Reads bytes already received without waiting: `Ok(0)` at end of
    /// stream, `WouldBlock` when none are there yet.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(s) => {
                let mut buf = ReadBuf::new(buf);
                s.try_read(&mut buf)?;
                Ok(buf.filled().len())
            }
            Inner::Epoll(s) => s.try_read(buf),
        }
    }

    /// Like [`try_read`](TcpStream::try_read), into several buffers.
    pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(_) => {
                let mut total = 0;
                for buf in bufs.iter_mut().filter(|b| !b.is_empty()) {
                    match self.try_read(buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            total += n;
                            if n < buf.len() {
                                break;
                            }
                        }
                        Err(e) if total == 0 => return Err(e),
                        Err(_) => break,
                    }
                }
                Ok(total)
            }
            Inner::Epoll(s) => s.try_read_vectored(bufs),
        }
    }

    /// Like [`try_read`](TcpStream::try_read), appending to a `BufMut`.
    pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(s) => {
                let dst = buf.chunk_mut();
                // SAFETY: `ReadBuf::uninit` only writes initialized bytes into
                // the spare capacity, and we advance by what it filled.
                let dst = unsafe { dst.as_uninit_slice_mut() };
                let mut read = ReadBuf::uninit(dst);
                s.try_read(&mut read)?;
                let n = read.filled().len();
                // SAFETY: `n` bytes of the spare capacity were initialized.
                unsafe { buf.advance_mut(n) };
                Ok(n)
            }
            Inner::Epoll(s) => s.try_read_buf(buf),
        }
    }

    /// Waits until a write will be accepted at once (no send in flight).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_write_ready(cx)).await
    }

    /// Polls for write readiness, as [`writable`](TcpStream::writable).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.inner {
            Inner::Uring(s) => s.poll_write_ready(cx),
            Inner::Epoll(s) => s.poll_write_ready(cx),
        }
    }

    /// Writes without waiting, or fails with `WouldBlock` while a send is in
    /// flight. Like `poll_write`, it copies up to 64 KiB and reports the
    /// error of an earlier send.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(s) => s.try_write(buf),
            Inner::Epoll(s) => s.try_write(buf),
        }
    }

    /// Like [`try_write`](TcpStream::try_write), from several buffers.
    pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match &self.inner {
            Inner::Uring(s) => {
                let mut cx = Context::from_waker(std::task::Waker::noop());
                match s.poll_write_vectored(&mut cx, bufs) {
                    Poll::Ready(res) => res,
                    Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
                }
            }
            Inner::Epoll(s) => s.try_write_vectored(bufs),
        }
    }

    /// Receives bytes without consuming them: the next read returns them
    /// again. Waits until some are there (`Ok(0)` at end of stream).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut buf = ReadBuf::new(buf);
        poll_fn(|cx| self.poll_peek(cx, &mut buf)).await
    }

    /// Polls to peek, as [`peek`](TcpStream::peek); fills `buf`.
    pub fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<usize>> {
        match &self.inner {
            Inner::Uring(s) => s.poll_peek(cx, buf),
            Inner::Epoll(s) => s.poll_peek(cx, buf),
        }
    }
}
