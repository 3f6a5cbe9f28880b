//! Read and write halves of a stream socket, borrowed or owned, generated
//! for each stream type (TCP, Unix) by [`stream_halves!`] so that the two
//! families share one implementation and keep Tokio's type names.
//!
//! A stream type using it has `inner: Inner` with `Inner::Uring(Arc<UringStream>)`
//! and `Inner::Epoll(<Tokio's stream>)`, and a `from_tokio` constructor.

/// Generates `ReadHalf`, `WriteHalf`, `OwnedReadHalf`, `OwnedWriteHalf`,
/// `ReuniteError` and the `split`/`into_split` functions in the calling
/// module.
macro_rules! stream_halves {
    (
        stream: $Stream:ident,
        tokio: $tk:path,
        addr: $Addr:ty,
        local: $local:path,
        peer: $peer:path $(,)?
    ) => {
        use std::io::{self, IoSlice};
        use std::pin::Pin;
        use std::sync::Arc;
        use std::task::{Context, Poll};

        use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
        use $tk as tk;

        use super::stream::{Inner, $Stream};
        use crate::net::stream_io::UringStream;

        #[doc = concat!("The read half of a [`", stringify!($Stream), "`] borrowed by `split`.")]
        #[derive(Debug)]
        pub struct ReadHalf<'a>(Borrowed<'a, tk::ReadHalf<'a>>);

        #[doc = concat!("The write half of a [`", stringify!($Stream), "`] borrowed by `split`.")]
        #[derive(Debug)]
        pub struct WriteHalf<'a>(Borrowed<'a, tk::WriteHalf<'a>>);

        #[derive(Debug)]
        enum Borrowed<'a, T> {
            Uring(&'a UringStream),
            Epoll(T),
        }

        #[doc = concat!("The read half of a [`", stringify!($Stream), "`] from `into_split`.")]
        #[derive(Debug)]
        pub struct OwnedReadHalf(Owned<tk::OwnedReadHalf>);

        #[doc = concat!("The write half of a [`", stringify!($Stream), "`] from `into_split`.")]
        /// Dropping it shuts the write direction down (after the data already
        /// written), unless [`forget`](OwnedWriteHalf::forget) was called.
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            /// `None` only while `reunite` takes it apart.
            inner: Option<Owned<tk::OwnedWriteHalf>>,
            shutdown_on_drop: bool,
        }

        #[derive(Debug)]
        enum Owned<T> {
            Uring(Arc<UringStream>),
            Epoll(T),
        }

        pub(crate) fn split(stream: &mut $Stream) -> (ReadHalf<'_>, WriteHalf<'_>) {
            match &mut stream.inner {
                Inner::Uring(s) => (ReadHalf(Borrowed::Uring(s)), WriteHalf(Borrowed::Uring(s))),
                Inner::Epoll(s) => {
                    let (r, w) = s.split();
                    (ReadHalf(Borrowed::Epoll(r)), WriteHalf(Borrowed::Epoll(w)))
                }
            }
        }

        pub(crate) fn into_split(stream: $Stream) -> (OwnedReadHalf, OwnedWriteHalf) {
            let (r, w) = match stream.inner {
                Inner::Uring(s) => (Owned::Uring(Arc::clone(&s)), Owned::Uring(s)),
                Inner::Epoll(s) => {
                    let (r, w) = s.into_split();
                    (Owned::Epoll(r), Owned::Epoll(w))
                }
            };
            (
                OwnedReadHalf(r),
                OwnedWriteHalf {
                    inner: Some(w),
                    shutdown_on_drop: true,
                },
            )
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
            /// Puts the halves of one stream back together.
            pub fn reunite(self, mut other: OwnedWriteHalf) -> Result<$Stream, ReuniteError> {
                let Some(write) = other.inner.take() else {
                    unreachable!("a write half holds its stream until reunited");
                };
                match (self.0, write) {
                    (Owned::Uring(r), Owned::Uring(w)) if Arc::ptr_eq(&r, &w) => {
                        other.shutdown_on_drop = false;
                        drop(w);
                        Ok($Stream { inner: Inner::Uring(r) })
                    }
                    (Owned::Epoll(r), Owned::Epoll(w)) => match r.reunite(w) {
                        Ok(s) => {
                            other.shutdown_on_drop = false;
                            Ok($Stream::from_tokio(s))
                        }
                        Err(tk::ReuniteError(r, w)) => {
                            other.inner = Some(Owned::Epoll(w));
                            Err(ReuniteError(OwnedReadHalf(Owned::Epoll(r)), other))
                        }
                    },
                    (r, w) => {
                        other.inner = Some(w);
                        Err(ReuniteError(OwnedReadHalf(r), other))
                    }
                }
            }

            /// The remote address of the connection.
            pub fn peer_addr(&self) -> io::Result<$Addr> {
                $peer(self.fd())
            }

            /// The local address of the connection.
            pub fn local_addr(&self) -> io::Result<$Addr> {
                $local(self.fd())
            }

            fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
                use std::os::fd::AsFd;
                match &self.0 {
                    Owned::Uring(s) => s.fd().as_fd(),
                    Owned::Epoll(r) => r.as_ref().as_fd(),
                }
            }
        }

        impl OwnedWriteHalf {
            /// Drops the half without shutting the write direction down.
            pub fn forget(mut self) {
                self.shutdown_on_drop = false;
            }

            /// The remote address of the connection.
            pub fn peer_addr(&self) -> io::Result<$Addr> {
                $peer(self.fd())
            }

            /// The local address of the connection.
            pub fn local_addr(&self) -> io::Result<$Addr> {
                $local(self.fd())
            }

            fn owned(&mut self) -> &mut Owned<tk::OwnedWriteHalf> {
                match &mut self.inner {
                    Some(owned) => owned,
                    None => unreachable!("a write half holds its stream until reunited"),
                }
            }

            fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
                use std::os::fd::AsFd;
                match &self.inner {
                    Some(Owned::Uring(s)) => s.fd().as_fd(),
                    Some(Owned::Epoll(w)) => w.as_ref().as_fd(),
                    None => unreachable!("a write half holds its stream until reunited"),
                }
            }
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if !self.shutdown_on_drop {
                    if let Some(Owned::Epoll(w)) = self.inner.take() {
                        w.forget();
                    }
                    return;
                }
                if let Some(Owned::Uring(stream)) = &self.inner {
                    // The bytes of every accepted write are in the kernel
                    // already: the FIN follows them.
                    let _ = stream.shutdown(std::net::Shutdown::Write);
                }
                // Tokio's own write half shuts down in its Drop.
            }
        }

        impl AsyncRead for ReadHalf<'_> {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
                match &mut self.get_mut().0 {
                    Borrowed::Uring(s) => s.poll_read(cx, buf),
                    Borrowed::Epoll(r) => Pin::new(r).poll_read(cx, buf),
                }
            }
        }

        impl AsyncRead for OwnedReadHalf {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
                match &mut self.get_mut().0 {
                    Owned::Uring(s) => s.poll_read(cx, buf),
                    Owned::Epoll(r) => Pin::new(r).poll_read(cx, buf),
                }
            }
        }

        stream_halves!(@write WriteHalf<'_>, |this| &mut this.0, Borrowed);
        stream_halves!(@write OwnedWriteHalf, |this| this.owned(), Owned);
    };

    (@write $Ty:ty, |$this:ident| $get:expr, $Enum:ident) => {
        impl AsyncWrite for $Ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                let $this = self.get_mut();
                match $get {
                    $Enum::Uring(s) => s.poll_write(cx, buf),
                    $Enum::Epoll(w) => Pin::new(w).poll_write(cx, buf),
                }
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $this = self.get_mut();
                match $get {
                    $Enum::Uring(s) => s.poll_write_vectored(cx, bufs),
                    $Enum::Epoll(w) => Pin::new(w).poll_write_vectored(cx, bufs),
                }
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $this = self.get_mut();
                match $get {
                    $Enum::Uring(s) => s.poll_flush(cx),
                    $Enum::Epoll(w) => Pin::new(w).poll_flush(cx),
                }
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $this = self.get_mut();
                match $get {
                    $Enum::Uring(s) => s.poll_shutdown(cx),
                    $Enum::Epoll(w) => Pin::new(w).poll_shutdown(cx),
                }
            }
        }
    };
}

/// `AsyncRead`, `AsyncWrite`, `AsRawFd` and `AsFd` for a stream type with
/// `inner: Inner` as described in the module docs.
macro_rules! stream_traits {
    ($Stream:ident) => {
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
