//! tonic 0.14 on shardio's streams (feature `tonic`, which turns on
//! `hyper` too).
//!
//! [`TcpStream`] and [`UnixStream`] implement tonic's [`Connected`], with
//! the connect info tonic gives for Tokio's streams
//! ([`TcpConnectInfo`], so `request.remote_addr()` works, and
//! [`UdsConnectInfo`]). A server therefore takes shardio connections with
//! `serve_with_incoming`, e.g. from [`TcpListener::incoming`] (one
//! multishot accept for the whole stream):
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let (_reporter, svc) = tonic_health::server::health_reporter();
//! let listener = shardio::net::TcpListener::bind("127.0.0.1:50051").await?;
//! tonic::transport::Server::builder()
//!     .add_service(svc)
//!     .serve_with_incoming(listener.incoming())
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! tonic's `Server` options for TCP (`tcp_nodelay`, `tcp_keepalive`) do
//! not apply to an incoming stream: set them on the listener's streams
//! yourself. tonic stops serving on an accept error other than a
//! connection-level one (e.g. `EMFILE`); wrap the stream if you want to
//! retry instead.
//!
//! A client channel whose connections are shardio streams takes the
//! [`hyper` connector](crate::compat::hyper::Connector):
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:50051")
//!     .connect_with_connector(shardio::compat::hyper::Connector::new())
//!     .await?;
//! # drop(channel);
//! # Ok(())
//! # }
//! ```
//!
//! [`TcpListener::incoming`]: crate::net::TcpListener::incoming

use std::os::fd::AsFd;
use std::sync::Arc;

use ::tonic::transport::server::{Connected, TcpConnectInfo, UdsConnectInfo};

use crate::net::{TcpStream, UnixStream};

impl Connected for TcpStream {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        TcpConnectInfo {
            local_addr: self.local_addr().ok(),
            remote_addr: self.peer_addr().ok(),
        }
    }
}

impl Connected for UnixStream {
    type ConnectInfo = UdsConnectInfo;

    fn connect_info(&self) -> UdsConnectInfo {
        UdsConnectInfo {
            peer_addr: self.peer_addr().ok().map(Arc::new),
            peer_cred: tokio_peer_cred(self),
        }
    }
}

/// The peer's credentials as Tokio's `UCred`, the type tonic's
/// `UdsConnectInfo` holds. Tokio's `UCred` can only be made by Tokio's
/// `UnixStream::peer_cred`, so this asks it on a duplicate of the socket's
/// descriptor (registered with Tokio's reactor for the call, then closed;
/// the connection itself is untouched). `None` outside a Tokio runtime, or
/// if any step fails. tonic asks once per connection, when it accepts it.
fn tokio_peer_cred(stream: &UnixStream) -> Option<tokio::net::unix::UCred> {
    // `from_std` needs a runtime (with I/O enabled, as every shardio socket
    // does).
    tokio::runtime::Handle::try_current().ok()?;
    let fd = stream.as_fd().try_clone_to_owned().ok()?;
    // The duplicate shares the original's file status flags, so it is
    // already non-blocking, as `from_std` requires.
    let dup = tokio::net::UnixStream::from_std(std::os::unix::net::UnixStream::from(fd));
    dup.ok()?.peer_cred().ok()
}
