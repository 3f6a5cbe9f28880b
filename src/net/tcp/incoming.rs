//! `TcpListener::incoming`: a stream of connections from one multishot accept.

use std::fmt;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures::Stream;

use super::listener::TcpListener;
use super::stream::TcpStream;
use crate::driver::Multishot;
use crate::ops::accept_multi::AcceptMulti;

/// The connections a [`TcpListener`] accepts, from
/// [`TcpListener::incoming`].
///
/// On io_uring one multishot accept is armed for the whole stream: the
/// kernel accepts each connection as it arrives and posts it, with no
/// submission per connection. Connections are accepted as long as the stream
/// exists, whether or not it is polled; drop it to stop accepting (the
/// connections accepted but not yet taken are then closed).
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    inner: Inner<'a>,
}

enum Inner<'a> {
    Uring(Multishot<AcceptMulti>),
    Listener(&'a TcpListener),
}

impl TcpListener {
    /// A stream of accepted connections (see [`Incoming`]).
    ///
    /// ```no_run
    /// use futures::StreamExt;
    ///
    /// # async fn serve(listener: shardio::net::TcpListener) -> std::io::Result<()> {
    /// let mut incoming = listener.incoming();
    /// while let Some(stream) = incoming.next().await {
    ///     let stream = stream?;
    ///     tokio::spawn(async move { drop(stream) });
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        let inner = match self.uring_fd() {
            Some(fd) => Inner::Uring(Multishot::new(AcceptMulti { fd: Arc::clone(fd) })),
            None => Inner::Listener(self),
        };
        Incoming { inner }
    }
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match &mut this.inner {
                Inner::Listener(listener) => {
                    let (stream, _) = ready!(listener.poll_accept(cx))?;
                    return Poll::Ready(Some(Ok(stream)));
                }
                Inner::Uring(accepts) => match ready!(Pin::new(accepts).poll_next(cx)) {
                    Some(Ok(fd)) => return Poll::Ready(Some(Ok(TcpStream::from_accepted_fd(fd)))),
                    Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                    // The kernel ended the multishot (e.g. after an error):
                    // arm a new one.
                    None => {
                        if let Inner::Uring(old) = &this.inner {
                            let fd = Arc::clone(&old.data_ref().fd);
                            this.inner = Inner::Uring(Multishot::new(AcceptMulti { fd }));
                        }
                    }
                },
            }
        }
    }
}

impl fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (fd, io_uring) = match &self.inner {
            Inner::Uring(accepts) => (accepts.data_ref().fd.as_raw_fd(), true),
            Inner::Listener(listener) => (listener.as_raw_fd(), false),
        };
        f.debug_struct("Incoming")
            .field("fd", &fd)
            .field("io_uring", &io_uring)
            .finish()
    }
}
