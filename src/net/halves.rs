//! Read and write halves of a stream socket, borrowed or owned, generated
//! for each stream type (TCP, Unix) by [`stream_halves!`] so that the two
//! families share one implementation and keep Tokio's type names.
//!
//! As in Tokio, a borrowed half holds `&Stream` and an owned half
//! `Arc<Stream>`: every method of a half is its stream's (the stream's
//! `&self` polls, `poll_read_priv` and friends from [`stream_traits!`]), and
//! `AsRef` gives the stream.

/// Generates `ReadHalf`, `WriteHalf`, `OwnedReadHalf`, `OwnedWriteHalf`,
/// `ReuniteError` and the `split`/`into_split` functions in the calling
/// module; `stream_halves!(@peek)` adds `peek`/`poll_peek` to the read
/// halves (TCP only, as in Tokio).
macro_rules! stream_halves {
    (stream: $Stream:ident, addr: $Addr:ty $(,)?) => {
        use std::io::{self, IoSlice};
        use std::pin::Pin;
        use std::sync::Arc;
        use std::task::{Context, Poll};

        use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf, Ready};

        use super::stream::$Stream;

        #[doc = concat!("The read half of a [`", stringify!($Stream), "`] borrowed by `split`.")]
        #[derive(Debug)]
        pub struct ReadHalf<'a>(&'a $Stream);

        #[doc = concat!("The write half of a [`", stringify!($Stream), "`] borrowed by `split`.")]
        #[derive(Debug)]
        pub struct WriteHalf<'a>(&'a $Stream);

        #[doc = concat!("The read half of a [`", stringify!($Stream), "`] from `into_split`.")]
        #[derive(Debug)]
        pub struct OwnedReadHalf {
            inner: Arc<$Stream>,
        }

        #[doc = concat!("The write half of a [`", stringify!($Stream), "`] from `into_split`.")]
        /// Dropping it shuts the write direction down (after the data already
        /// written), unless [`forget`](OwnedWriteHalf::forget) was called.
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            inner: Arc<$Stream>,
            shutdown_on_drop: bool,
        }

        pub(crate) fn split(stream: &mut $Stream) -> (ReadHalf<'_>, WriteHalf<'_>) {
            (ReadHalf(&*stream), WriteHalf(&*stream))
        }

        pub(crate) fn into_split(stream: $Stream) -> (OwnedReadHalf, OwnedWriteHalf) {
            let arc = Arc::new(stream);
            let read = OwnedReadHalf { inner: Arc::clone(&arc) };
            let write = OwnedWriteHalf { inner: arc, shutdown_on_drop: true };
            (read, write)
        }

        fn reunite(read: OwnedReadHalf, write: OwnedWriteHalf) -> Result<$Stream, ReuniteError> {
            if Arc::ptr_eq(&read.inner, &write.inner) {
                write.forget();
                // This unwrap cannot fail: the two halves were the only
                // holders of the stream, and the write half is gone.
                Ok(Arc::try_unwrap(read.inner).expect(concat!(
                    stringify!($Stream),
                    ": try_unwrap failed in reunite"
                )))
            } else {
                Err(ReuniteError(read, write))
            }
        }

        /// The halves passed to `reunite` came from different streams.
        #[derive(Debug)]
        pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

        impl std::fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("tried to reunite halves that are not from the same socket")
            }
        }

        impl std::error::Error for ReuniteError {}

        impl OwnedReadHalf {
            /// Puts the halves of one stream back together; fails (handing
            /// both back) if they come from different streams.
            pub fn reunite(self, other: OwnedWriteHalf) -> Result<$Stream, ReuniteError> {
                reunite(self, other)
            }
        }

        impl OwnedWriteHalf {
            /// Puts the halves of one stream back together; fails (handing
            /// both back) if they come from different streams.
            pub fn reunite(self, other: OwnedReadHalf) -> Result<$Stream, ReuniteError> {
                reunite(other, self)
            }

            /// Drops the half without shutting the write direction down.
            pub fn forget(mut self) {
                self.shutdown_on_drop = false;
                drop(self);
            }
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    self.inner.shutdown_on_drop();
                }
            }
        }

        stream_halves!(@read ReadHalf<'_>, |this| this.0, $Stream, $Addr);
        stream_halves!(@read OwnedReadHalf, |this| &*this.inner, $Stream, $Addr);
        stream_halves!(@write WriteHalf<'_>, |this| this.0, $Stream, $Addr);
        stream_halves!(@write OwnedWriteHalf, |this| &*this.inner, $Stream, $Addr);
    };

    (@read $Ty:ty, |$this:ident| $get:expr, $Stream:ident, $Addr:ty) => {
        impl $Ty {
            #[doc = concat!("Waits for any of the requested readiness, as [`", stringify!($Stream), "::ready`].")]
            ///
            /// # Cancel safety
            ///
            /// This method is cancel safe.
            pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
                let $this = self;
                $get.ready(interest).await
            }

            #[doc = concat!("Waits until the stream is readable, as [`", stringify!($Stream), "::readable`].")]
            ///
            /// # Cancel safety
            ///
            /// This method is cancel safe.
            pub async fn readable(&self) -> io::Result<()> {
                let $this = self;
                $get.readable().await
            }

            #[doc = concat!("Reads without waiting, as [`", stringify!($Stream), "::try_read`].")]
            pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                let $this = self;
                $get.try_read(buf)
            }

            #[doc = concat!("Reads into several buffers without waiting, as [`", stringify!($Stream), "::try_read_vectored`].")]
            pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
                let $this = self;
                $get.try_read_vectored(bufs)
            }

            #[doc = concat!("Reads into a `BufMut` without waiting, as [`", stringify!($Stream), "::try_read_buf`].")]
            pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
                let $this = self;
                $get.try_read_buf(buf)
            }

            /// The remote address of the connection.
            pub fn peer_addr(&self) -> io::Result<$Addr> {
                let $this = self;
                $get.peer_addr()
            }

            /// The local address of the connection.
            pub fn local_addr(&self) -> io::Result<$Addr> {
                let $this = self;
                $get.local_addr()
            }
        }

        impl AsyncRead for $Ty {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
                let $this = &*self;
                $get.poll_read_priv(cx, buf)
            }
        }

        impl AsRef<$Stream> for $Ty {
            fn as_ref(&self) -> &$Stream {
                let $this = self;
                $get
            }
        }
    };

    (@write $Ty:ty, |$this:ident| $get:expr, $Stream:ident, $Addr:ty) => {
        impl $Ty {
            #[doc = concat!("Waits for any of the requested readiness, as [`", stringify!($Stream), "::ready`].")]
            ///
            /// # Cancel safety
            ///
            /// This method is cancel safe.
            pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
                let $this = self;
                $get.ready(interest).await
            }

            #[doc = concat!("Waits until the stream is writable, as [`", stringify!($Stream), "::writable`].")]
            ///
            /// # Cancel safety
            ///
            /// This method is cancel safe.
            pub async fn writable(&self) -> io::Result<()> {
                let $this = self;
                $get.writable().await
            }

            #[doc = concat!("Writes without waiting, as [`", stringify!($Stream), "::try_write`].")]
            pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
                let $this = self;
                $get.try_write(buf)
            }

            #[doc = concat!("Writes from several buffers without waiting, as [`", stringify!($Stream), "::try_write_vectored`].")]
            pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
                let $this = self;
                $get.try_write_vectored(bufs)
            }

            /// The remote address of the connection.
            pub fn peer_addr(&self) -> io::Result<$Addr> {
                let $this = self;
                $get.peer_addr()
            }

            /// The local address of the connection.
            pub fn local_addr(&self) -> io::Result<$Addr> {
                let $this = self;
                $get.local_addr()
            }
        }

        impl AsyncWrite for $Ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $get.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $get.poll_write_vectored_priv(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $this = &*self;
                $get.poll_flush_priv(cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $this = &*self;
                $get.poll_shutdown_priv(cx)
            }
        }

        impl AsRef<$Stream> for $Ty {
            fn as_ref(&self) -> &$Stream {
                let $this = self;
                $get
            }
        }
    };

    (@peek) => {
        stream_halves!(@peek_on ReadHalf<'_>, |this| this.0);
        stream_halves!(@peek_on OwnedReadHalf, |this| &*this.inner);
    };

    (@peek_on $Ty:ty, |$this:ident| $get:expr) => {
        impl $Ty {
            /// Polls to peek, as [`TcpStream::poll_peek`]: the bytes put into
            /// `buf` stay to be read again.
            pub fn poll_peek(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $get.poll_peek(cx, buf)
            }

            /// Receives bytes without consuming them, as [`TcpStream::peek`].
            ///
            /// # Cancel safety
            ///
            /// This method is cancel safe: if dropped before it completes,
            /// nothing was peeked and `buf` is unchanged.
            pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let mut buf = ReadBuf::new(buf);
                std::future::poll_fn(|cx| self.poll_peek(cx, &mut buf)).await
            }
        }
    };
}

/// `AsyncRead`, `AsyncWrite`, `AsRawFd`, `AsFd`, `AsRef<Self>` and
/// `TryFrom<$Std>` for a stream type with `inner: Inner` (an io_uring
/// `UringStream` or Tokio's stream), and the `&self` polls its halves use.
macro_rules! stream_traits {
    ($Stream:ident, $Std:ty) => {
        impl $Stream {
            pub(crate) fn poll_read_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match &self.inner {
                    Inner::Uring(s) => s.poll_read(cx, buf),
                    // What Tokio's `AsyncRead` does, through its `&self` API.
                    Inner::Epoll(s) => loop {
                        std::task::ready!(s.poll_read_ready(cx))?;
                        match s.try_read(buf.initialize_unfilled()) {
                            Ok(n) => {
                                buf.advance(n);
                                return std::task::Poll::Ready(Ok(()));
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                            Err(e) => return std::task::Poll::Ready(Err(e)),
                        }
                    },
                }
            }

            pub(crate) fn poll_write_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.poll_write_vectored_priv(cx, &[std::io::IoSlice::new(buf)])
            }

            pub(crate) fn poll_write_vectored_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                match &self.inner {
                    Inner::Uring(s) => s.poll_write_vectored(cx, bufs),
                    Inner::Epoll(s) => loop {
                        std::task::ready!(s.poll_write_ready(cx))?;
                        match s.try_write_vectored(bufs) {
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                            res => return std::task::Poll::Ready(res),
                        }
                    },
                }
            }

            pub(crate) fn poll_flush_priv(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match &self.inner {
                    Inner::Uring(s) => s.poll_flush(cx),
                    Inner::Epoll(_) => std::task::Poll::Ready(Ok(())),
                }
            }

            pub(crate) fn poll_shutdown_priv(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match &self.inner {
                    Inner::Uring(s) => s.poll_shutdown(cx),
                    Inner::Epoll(s) => std::task::Poll::Ready(crate::net::direct::shutdown_fd(
                        std::os::fd::AsFd::as_fd(s),
                        std::net::Shutdown::Write,
                    )),
                }
            }

            /// What dropping an owned write half does: shut the write
            /// direction down after the data already written.
            pub(crate) fn shutdown_on_drop(&self) {
                match &self.inner {
                    // The bytes of every accepted write are in the kernel
                    // already: the FIN follows them.
                    Inner::Uring(s) => {
                        let _ = s.shutdown(std::net::Shutdown::Write);
                    }
                    Inner::Epoll(s) => {
                        let _ = crate::net::direct::shutdown_fd(
                            std::os::fd::AsFd::as_fd(s),
                            std::net::Shutdown::Write,
                        );
                    }
                }
            }
        }

        impl AsRef<$Stream> for $Stream {
            fn as_ref(&self) -> &Self {
                self
            }
        }

        impl TryFrom<$Std> for $Stream {
            type Error = std::io::Error;

            /// Consumes the standard-library stream and wraps it, as
            #[doc = concat!("[`", stringify!($Stream), "::from_std`].")]
            fn try_from(stream: $Std) -> Result<Self, Self::Error> {
                Self::from_std(stream)
            }
        }

        impl tokio::io::AsyncRead for $Stream {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match &mut self.get_mut().inner {
                    Inner::Uring(s) => s.poll_read(cx, buf),
                    Inner::Epoll(s) => std::pin::Pin::new(s).poll_read(cx, buf),
                }
            }
        }

        impl tokio::io::AsyncWrite for $Stream {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                match &mut self.get_mut().inner {
                    Inner::Uring(s) => s.poll_write(cx, buf),
                    Inner::Epoll(s) => std::pin::Pin::new(s).poll_write(cx, buf),
                }
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                match &mut self.get_mut().inner {
                    Inner::Uring(s) => s.poll_write_vectored(cx, bufs),
                    Inner::Epoll(s) => std::pin::Pin::new(s).poll_write_vectored(cx, bufs),
                }
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match &mut self.get_mut().inner {
                    Inner::Uring(s) => s.poll_flush(cx),
                    Inner::Epoll(s) => std::pin::Pin::new(s).poll_flush(cx),
                }
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                match &mut self.get_mut().inner {
                    Inner::Uring(s) => s.poll_shutdown(cx),
                    Inner::Epoll(s) => std::pin::Pin::new(s).poll_shutdown(cx),
                }
            }
        }

        impl std::os::fd::AsRawFd for $Stream {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                match &self.inner {
                    Inner::Uring(s) => s.as_raw_fd(),
                    Inner::Epoll(s) => s.as_raw_fd(),
                }
            }
        }

        impl std::os::fd::AsFd for $Stream {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                match &self.inner {
                    Inner::Uring(s) => s.fd().as_fd(),
                    Inner::Epoll(s) => s.as_fd(),
                }
            }
        }
    };
}
