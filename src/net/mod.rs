//! Networking on io_uring with Tokio's names, signatures and semantics.
//!
//! Swap `use tokio::net::TcpStream` for `use shardio::net::TcpStream`: the
//! types implement Tokio's `AsyncRead`/`AsyncWrite`, so hyper, tokio-util
//! codecs and the rest run on them unchanged. Underneath, a connection's
//! reads come from a multishot receive into buffers the kernel picks from a
//! per-ring pool (an idle connection holds no buffer), and writes are copied
//! into owned buffers sent by io_uring, one send in flight per connection.
//!
//! Where io_uring is not in use (see [`metrics()`](crate::metrics)) the same
//! types wrap Tokio's epoll-based ones.
//!
//! # Performance
//!
//! Many busy connections per worker is where this wins: receives need no
//! system call and sends are submitted in batches, so a worker serving 64
//! echo connections made 0.1-0.9 system calls per request where Tokio made
//! 2-3, and served more requests per second (`benches/echo.rs`). A worker
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
mod halves;
mod poll_io;
mod raw_io;
mod stream_io;
#[macro_use]
mod stream_ready;
pub mod tcp;
mod udp;
pub mod unix;

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
