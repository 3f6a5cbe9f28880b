//! Readiness, `try_*`, `try_io` and `async_io` with Tokio's signatures, one
//! body for [`TcpStream`](crate::net::TcpStream) and
//! [`UnixStream`](crate::net::UnixStream) (each has `inner: Inner` with an
//! io_uring `UringStream` and Tokio's stream for the fallback, and
//! `raw: OnceLock<Box<RawIo>>`).
//!
//! On io_uring, readiness means what a caller can rely on: *readable* once
//! shardio holds received bytes for the stream (or saw its end), so
//! `try_read` then succeeds; *writable* once no send is in flight, so
//! `try_write` then succeeds. `try_io`/`async_io` add the socket's own
//! readiness from the ring (see `net::raw_io`).

/// Expands to the readiness and `try_*` methods inside a stream type's
/// `impl`; `$Stream` names the type in the docs.
macro_rules! stream_ready_methods {
    ($Stream:ident) => {
        /// Waits for any of the requested readiness and returns which is
        /// there. On io_uring: readable once shardio holds received bytes (or
        /// the stream ended), writable once no send is in flight; after a
        #[doc = concat!("[`try_io`](", stringify!($Stream), "::try_io)")]
        /// asked for `READABLE`, readable means the socket is.
        ///
        /// Readiness may be spurious: a `try_*` call after it can still say
        /// `WouldBlock`, as with Tokio.
        ///
        /// # Cancel safety
        ///
        /// This method is cancel safe. Once a readiness event occurs, the
        /// method will continue to return immediately until the readiness
        /// is cleared by a `try_*` call saying `WouldBlock`.
        pub async fn ready(&self, interest: tokio::io::Interest) -> std::io::Result<tokio::io::Ready> {
            match &self.inner {
                Inner::Epoll(s) => s.ready(interest).await,
                Inner::Uring(_) => {
                    crate::net::poll_io::ready_with(
                        interest,
                        |cx| self.poll_read_ready(cx),
                        |cx| self.poll_write_ready(cx),
                    )
                    .await
                }
            }
        }

        /// Waits until the stream is readable: a read will not wait
        /// (received bytes are held, or the stream ended).
        ///
        /// # Cancel safety
        ///
        /// This method is cancel safe. Once a readiness event occurs, the
        /// method will continue to return immediately until the readiness
        /// is cleared by a `try_read` saying `WouldBlock`.
        pub async fn readable(&self) -> std::io::Result<()> {
            match &self.inner {
                Inner::Epoll(s) => s.readable().await,
                Inner::Uring(_) => std::future::poll_fn(|cx| self.poll_read_ready(cx)).await,
            }
        }

        #[doc = concat!("Polls for read readiness, as [`readable`](", stringify!($Stream), "::readable).")]
        ///
        /// Only the waker of the last task to call this is woken, as with
        /// Tokio.
        pub fn poll_read_ready(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
            match &self.inner {
                Inner::Uring(s) => crate::net::raw_io::poll_read_ready(self.raw.get().map(|r| &**r), s, cx),
                Inner::Epoll(s) => s.poll_read_ready(cx),
            }
        }

        /// Reads bytes already received without waiting: `Ok(0)` at end of
        /// stream (or for an empty `buf`), `WouldBlock` when none are there
        /// yet.
        pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
            match &self.inner {
                Inner::Uring(s) => {
                    let mut buf = tokio::io::ReadBuf::new(buf);
                    s.try_read(&mut buf)?;
                    Ok(buf.filled().len())
                }
                Inner::Epoll(s) => s.try_read(buf),
            }
        }

        #[doc = concat!("Like [`try_read`](", stringify!($Stream), "::try_read), into several buffers in order.")]
        pub fn try_read_vectored(&self, bufs: &mut [std::io::IoSliceMut<'_>]) -> std::io::Result<usize> {
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

        #[doc = concat!("Like [`try_read`](", stringify!($Stream), "::try_read), appending to a `BufMut` (its spare capacity).")]
        pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> std::io::Result<usize> {
            match &self.inner {
                Inner::Uring(s) => {
                    let dst = buf.chunk_mut();
                    // SAFETY: `ReadBuf::uninit` only writes initialized bytes
                    // into the spare capacity, and we advance by what it filled.
                    let dst = unsafe { dst.as_uninit_slice_mut() };
                    let mut read = tokio::io::ReadBuf::uninit(dst);
                    s.try_read(&mut read)?;
                    let n = read.filled().len();
                    // SAFETY: `n` bytes of the spare capacity were initialized.
                    unsafe { buf.advance_mut(n) };
                    Ok(n)
                }
                Inner::Epoll(s) => s.try_read_buf(buf),
            }
        }

        /// Waits until the stream is writable: a write will be accepted at
        /// once (no send in flight).
        ///
        /// # Cancel safety
        ///
        /// This method is cancel safe. Once a readiness event occurs, the
        /// method will continue to return immediately until the readiness
        /// is cleared by a `try_write` saying `WouldBlock`.
        pub async fn writable(&self) -> std::io::Result<()> {
            match &self.inner {
                Inner::Epoll(s) => s.writable().await,
                Inner::Uring(_) => std::future::poll_fn(|cx| self.poll_write_ready(cx)).await,
            }
        }

        #[doc = concat!("Polls for write readiness, as [`writable`](", stringify!($Stream), "::writable).")]
        ///
        /// Only the waker of the last task to call this is woken, as with
        /// Tokio.
        pub fn poll_write_ready(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
            match &self.inner {
                Inner::Uring(s) => crate::net::raw_io::poll_write_ready(self.raw.get().map(|r| &**r), s, cx),
                Inner::Epoll(s) => s.poll_write_ready(cx),
            }
        }

        /// Writes without waiting, or fails with `WouldBlock` while a send is
        /// in flight. Like `poll_write`, it takes up to 64 KiB and reports the
        /// error of an earlier send.
        pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
            match &self.inner {
                Inner::Uring(s) => s.try_write(buf),
                Inner::Epoll(s) => s.try_write(buf),
            }
        }

        #[doc = concat!("Like [`try_write`](", stringify!($Stream), "::try_write), from several buffers in order.")]
        pub fn try_write_vectored(&self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
            match &self.inner {
                Inner::Uring(s) => {
                    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                    match s.poll_write_vectored(&mut cx, bufs) {
                        std::task::Poll::Ready(res) => res,
                        std::task::Poll::Pending => Err(std::io::ErrorKind::WouldBlock.into()),
                    }
                }
                Inner::Epoll(s) => s.try_write_vectored(bufs),
            }
        }

        /// Tries a read or write of the caller's (a system call on the
        /// socket, through [`AsRawFd`](std::os::fd::AsRawFd)) if the stream
        /// is ready for `interest`; `WouldBlock` without calling `f` if it is
        /// not. If `f` says `WouldBlock`, the readiness is cleared until the
        /// socket is ready again, so `f` must say so only when its system
        /// call did.
        ///
        /// On io_uring the readiness is the socket's, from a `POLL_ADD` on
        /// the ring; a write waits for shardio's own send in flight first,
        /// so the bytes stay in order. Once `f` was asked to read, the
        /// stream's read readiness is the socket's too; bytes shardio's own
        /// receive already took (through `AsyncRead`, `try_read` or `peek`)
        /// are not seen by `f`, so read a stream one way or the other.
        ///
        /// Use it with one interest at a time, as with Tokio.
        pub fn try_io<R>(
            &self,
            interest: tokio::io::Interest,
            f: impl FnOnce() -> std::io::Result<R>,
        ) -> std::io::Result<R> {
            match &self.inner {
                Inner::Uring(s) => {
                    let raw = self.raw.get_or_init(|| Box::new(crate::net::raw_io::RawIo::new(s.fd())));
                    crate::net::raw_io::try_io(raw, s, interest, f)
                }
                Inner::Epoll(s) => s.try_io(interest, f),
            }
        }

        /// Waits for `interest` and runs the caller's read or write `f`,
        /// again after each `WouldBlock` (which clears the readiness), until
        /// it gives something else. See
        #[doc = concat!("[`try_io`](", stringify!($Stream), "::try_io)")]
        /// for what readiness means on io_uring.
        ///
        /// # Cancel safety
        ///
        /// Cancel safe as far as shardio is concerned: if dropped, `f` was
        /// not running, and whatever its last call did is done.
        pub async fn async_io<R>(
            &self,
            interest: tokio::io::Interest,
            mut f: impl FnMut() -> std::io::Result<R>,
        ) -> std::io::Result<R> {
            if let Inner::Epoll(s) = &self.inner {
                return s.async_io(interest, f).await;
            }
            loop {
                match self.try_io(interest, &mut f) {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        self.ready(interest).await?;
                    }
                    res => return res,
                }
            }
        }
    };
}
