//! `TcpStream` readiness, `try_*`, `try_io`/`async_io` (see
//! `net::stream_ready`) and `peek`, with Tokio's signatures.

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use tokio::io::ReadBuf;

use super::stream::{Inner, TcpStream};

impl TcpStream {
    stream_ready_methods!(TcpStream);

    /// Receives bytes without consuming them: the next read returns them
    /// again. Waits until some are there (`Ok(0)` at end of stream).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: if dropped before it completes, nothing
    /// was peeked and `buf` is unchanged.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut buf = ReadBuf::new(buf);
        poll_fn(|cx| self.poll_peek(cx, &mut buf)).await
    }

    /// Polls to peek, as [`peek`](TcpStream::peek): on `Ready(Ok(n))` the
    /// `n` bytes were put into `buf` and stay to be read again.
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
