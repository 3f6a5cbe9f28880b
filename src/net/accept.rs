//! The io_uring side of `poll_accept`, one body for
//! [`TcpListener`](super::TcpListener) and
//! [`UnixListener`](super::UnixListener): each turns the accepted socket and
//! its peer's address into its own stream and address types.

use std::future::Future as _;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use crate::driver::Op;
use crate::ops::accept::{Accept, accept_now};
use crate::sync::Mutex;

/// Polls to accept a connection on the listening socket `listener`:
/// returns the connection and its peer's address as the kernel gave it.
/// `accepting` holds the accept this drives between polls; the waker of the
/// last call is woken.
pub(crate) fn poll_accept(
    listener: &Arc<OwnedFd>,
    accepting: &Mutex<Option<Op<Accept>>>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<(OwnedFd, socket2::SockAddr)>> {
    let mut slot = accepting.lock();
    if slot.is_none() {
        // A connection already in the backlog is taken at once (as Tokio
        // does), under Tokio's cooperative budget so an accept loop facing a
        // burst still lets other tasks run.
        let coop = ready!(tokio::task::coop::poll_proceed(cx));
        if let Some(accepted) = accept_now(listener)? {
            coop.made_progress();
            return Poll::Ready(Ok(accepted));
        }
    }
    let op = slot.get_or_insert_with(|| Op::new(Accept::new(Arc::clone(listener))));
    let res = ready!(Pin::new(op).poll(cx));
    *slot = None;
    Poll::Ready(res)
}
