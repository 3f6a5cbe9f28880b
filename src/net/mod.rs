//! Networking on io_uring with Tokio's names, signatures and semantics.
//!
//! Swap `use tokio::net::TcpStream` for `use shardio::net::TcpStream`: the
//! types implement Tokio's `AsyncRead`/`AsyncWrite`, so hyper, tokio-util
//! codecs and the rest run on them unchanged. Underneath, a connection's
//! reads come from a multishot receive into buffers the kernel picks from a
//! per-ring pool (an idle connection holds no buffer; a connection whose
//! reader stops holds at most about a socket buffer's worth, and never more
//! than a quarter of the pool, after which the receive stops until the
//! reader takes them, and TCP pushes back on the sender as it would with
//! Tokio). Writes go straight to the socket with a
//! non-blocking `sendmsg`, waiting on the ring for room when its buffer is
//! full: as with Tokio, once a write returned `Ok(n)` the kernel has the
//! `n` bytes, even if the thread blocks or the process exits right after.
//! ([`TcpStream::write_all_owned`] sends owned buffers through io_uring.)
//!
//! Where io_uring is not in use (see [`metrics()`](crate::metrics)) the same
//! types wrap Tokio's epoll-based ones.
//!
//! # Performance
//!
//! Receives need no system call, so a worker serving 64 echo connections
//! makes about one system call per request (the send) where Tokio makes
//! 2-3 (`benches/echo.rs`); since writes became direct `sendmsg` calls
//! (Tokio's write contract), shardio's CPU per request is above Tokio's on
//! that benchmark (README, Performance). A worker
//! that sleeps between requests, as with a single connection, pays more than
//! Tokio for each wake-up: the completion interrupts Tokio's `epoll_wait`
//! and the worker passes through Tokio's park loop twice. If that case
//! matters (a latency-sensitive client with one connection, say), let the
//! worker spin briefly before it sleeps with
//! [`Config::spin_before_park`](crate::Config::spin_before_park).

mod accept;
#[macro_use]
mod class;
#[macro_use]
mod datagram;
#[macro_use]
mod datagram_extra;
mod direct;
#[macro_use]
mod halves;
mod poll_io;
mod raw_io;
mod read_state;
mod ready_recv;
mod sendmsg;
mod stream_io;
mod stream_reactor;
#[macro_use]
mod stream_ready;
mod stream_write;
pub mod tcp;
mod udp;
pub mod unix;
mod unsent;

pub use tcp::incoming::Incoming;
pub use tcp::listener::TcpListener;
pub use tcp::socket::TcpSocket;
pub use tcp::stream::TcpStream;
pub use udp::UdpSocket;
pub use unix::datagram::UnixDatagram;
pub use unix::listener::UnixListener;
pub use unix::socket::UnixSocket;
pub use unix::stream::UnixStream;

/// Tokio's address resolution trait, accepted wherever Tokio accepts it.
pub use tokio::net::ToSocketAddrs;
/// Tokio's `lookup_host`, re-exported: it resolves on Tokio's blocking pool
/// (`getaddrinfo` has no io_uring opcode), off the worker, as in Tokio. An
/// address that needs no lookup (`"127.0.0.1:80"`, a `SocketAddr`) is
/// returned at once.
pub use tokio::net::lookup_host;

use std::io;
use std::net::SocketAddr;

/// Resolves `addr` and tries `f` on each address until one succeeds, like
/// Tokio's `bind` and `connect`.
pub(crate) async fn each_addr<A, F, Fut, T>(addr: A, mut f: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        match f(addr).await {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}
