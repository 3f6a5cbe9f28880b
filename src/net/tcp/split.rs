//! Read and write halves of a [`TcpStream`], borrowed or owned.

use std::error::Error;
use std::fmt;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use socket2::SockRef;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::stream::{Inner, TcpStream, ip};
use crate::net::stream_io::UringStream;

/// The read half of a [`TcpStream`] borrowed by [`TcpStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(Borrowed<'a, tokio::net::tcp::ReadHalf<'a>>);

/// The write half of a [`TcpStream`] borrowed by [`TcpStream::split`].
#[derive(Debug)]
pub struct WriteHalf<'a>(Borrowed<'a, tokio::net::tcp::WriteHalf<'a>>);

#[derive(Debug)]
enum Borrowed<'a, T> {
    Uring(&'a UringStream),
    Epoll(T),
}

/// The read half of a [`TcpStream`] from [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf(Owned<tokio::net::tcp::OwnedReadHalf>);

/// The write half of a [`TcpStream`] from [`TcpStream::into_split`].
/// Dropping it shuts the write direction down (after data already written),
/// unless [`forget`](OwnedWriteHalf::forget) was called.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    inner: Owned<tokio::net::tcp::OwnedWriteHalf>,
    shutdown_on_drop: bool,
}

#[derive(Debug)]
enum Owned<T> {
    Uring(Arc<UringStream>),
    Epoll(T),
}

pub(crate) fn split(stream: &mut TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    match &mut stream.inner {
        Inner::Uring(s) => (ReadHalf(Borrowed::Uring(s)), WriteHalf(Borrowed::Uring(s))),
        Inner::Epoll(s) => {
            let (r, w) = s.split();
            (ReadHalf(Borrowed::Epoll(r)), WriteHalf(Borrowed::Epoll(w)))
        }
    }
}

pub(crate) fn into_split(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
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
            inner: w,
            shutdown_on_drop: true,
        },
    )
}

/// The halves passed to [`OwnedReadHalf::reunite`] came from different streams.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl Error for ReuniteError {}

impl OwnedReadHalf {
    /// Puts the halves of one stream back together.
    pub fn reunite(self, mut other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        match (
            self.0,
            std::mem::replace(&mut other.inner, Owned::Uring(dangling())),
        ) {
            (Owned::Uring(r), Owned::Uring(w)) if Arc::ptr_eq(&r, &w) => {
                other.shutdown_on_drop = false;
                drop(w);
                Ok(TcpStream {
                    inner: Inner::Uring(r),
                })
            }
            (Owned::Epoll(r), Owned::Epoll(w)) => match r.reunite(w) {
                Ok(s) => {
                    other.shutdown_on_drop = false;
                    Ok(TcpStream::from_tokio(s))
                }
                Err(tokio::net::tcp::ReuniteError(r, w)) => {
                    other.inner = Owned::Epoll(w);
                    Err(ReuniteError(OwnedReadHalf(Owned::Epoll(r)), other))
                }
            },
            (r, w) => {
                other.inner = w;
                Err(ReuniteError(OwnedReadHalf(r), other))
            }
        }
    }

    /// The remote address of the connection.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        ip(self.sock().peer_addr()?)
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        ip(self.sock().local_addr()?)
    }

    fn sock(&self) -> SockRef<'_> {
        match &self.0 {
            Owned::Uring(s) => SockRef::from(&**s.fd()),
            Owned::Epoll(r) => SockRef::from(r.as_ref()),
        }
    }
}

/// A placeholder while `reunite` moves the real half out; never used for I/O.
fn dangling() -> Arc<UringStream> {
    static PLACEHOLDER: std::sync::OnceLock<Arc<UringStream>> = std::sync::OnceLock::new();
    Arc::clone(PLACEHOLDER.get_or_init(|| {
        let (a, _b) = std::os::unix::net::UnixStream::pair().expect("socketpair for a placeholder");
        Arc::new(UringStream::new(a.into()))
    }))
}

impl OwnedWriteHalf {
    /// Drops the half without shutting the write direction down.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// The remote address of the connection.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        ip(self.sock().peer_addr()?)
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        ip(self.sock().local_addr()?)
    }

    fn sock(&self) -> SockRef<'_> {
        match &self.inner {
            Owned::Uring(s) => SockRef::from(&**s.fd()),
            Owned::Epoll(w) => SockRef::from(w.as_ref()),
        }
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if !self.shutdown_on_drop {
            return;
        }
        if let Owned::Uring(stream) = &self.inner {
            stream.shutdown_when_flushed();
        }
        // Tokio's own write half shuts down in its Drop.
    }
}

impl AsyncRead for ReadHalf<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            Borrowed::Uring(s) => s.poll_read(cx, buf),
            Borrowed::Epoll(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}

impl AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            Owned::Uring(s) => s.poll_read(cx, buf),
            Owned::Epoll(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}

macro_rules! impl_write {
    ($ty:ty, $field:tt, $uring:path, $epoll:path) => {
        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                match &mut self.get_mut().$field {
                    $uring(s) => s.poll_write(cx, buf),
                    $epoll(w) => Pin::new(w).poll_write(cx, buf),
                }
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                match &mut self.get_mut().$field {
                    $uring(s) => s.poll_write_vectored(cx, bufs),
                    $epoll(w) => Pin::new(w).poll_write_vectored(cx, bufs),
                }
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match &mut self.get_mut().$field {
                    $uring(s) => s.poll_flush(cx),
                    $epoll(w) => Pin::new(w).poll_flush(cx),
                }
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match &mut self.get_mut().$field {
                    $uring(s) => s.poll_shutdown(cx),
                    $epoll(w) => Pin::new(w).poll_shutdown(cx),
                }
            }
        }
    };
}

impl_write!(WriteHalf<'_>, 0, Borrowed::Uring, Borrowed::Epoll);
impl_write!(OwnedWriteHalf, inner, Owned::Uring, Owned::Epoll);
