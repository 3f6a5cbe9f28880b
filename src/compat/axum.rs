//! axum 0.8 on shardio's listeners (feature `axum`).
//!
//! [`TcpListener`] and [`UnixListener`] implement axum's
//! [`Listener`], so `axum::serve` takes them as it takes Tokio's:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let app = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
//! let listener = shardio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! # `ConnectInfo`
//!
//! axum gives `ConnectInfo<SocketAddr>` for Tokio's listener through an
//! impl of its `Connected` trait for `IncomingStream<'_, tokio::net::TcpListener>`;
//! the same impl for shardio's listener would be a foreign trait on foreign
//! types, which the orphan rule allows in neither shardio nor your crate.
//! axum does provide it for every listener wrapped by its
//! [`ListenerExt::tap_io`], with the listener's own address type.
//! [`with_connect_info`] wraps a shardio listener so, and the peer address
//! reaches handlers with no type of your own:
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use axum::extract::ConnectInfo;
//!
//! # async fn demo() -> std::io::Result<()> {
//! let app = axum::Router::new().route(
//!     "/whoami",
//!     axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
//!         peer.to_string()
//!     }),
//! );
//! let listener = shardio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(
//!     shardio::compat::axum::with_connect_info(listener),
//!     app.into_make_service_with_connect_info::<SocketAddr>(),
//! )
//! .await
//! # }
//! ```
//!
//! A listener you already wrap with `tap_io` (e.g. to set a priority class
//! on each accepted stream) gets `ConnectInfo` the same way, without
//! [`with_connect_info`].

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ::axum::serve::{Listener, ListenerExt, TapIo};

use crate::net::{TcpListener, TcpStream, UnixListener, UnixStream};

impl Listener for TcpListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    /// Accepts the next connection, retrying on errors as axum does for
    /// Tokio's listener (see [`TcpListener::accept`] for the semantics).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`TcpListener::accept`]: a dropped call loses no
    /// connection.
    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match TcpListener::accept(self).await {
                Ok(accepted) => return accepted,
                Err(e) => accept_error(e).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpListener::local_addr(self)
    }
}

impl Listener for UnixListener {
    type Io = UnixStream;
    type Addr = crate::net::unix::SocketAddr;

    /// Accepts the next connection, retrying on errors as axum does for
    /// Tokio's listener.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`UnixListener::accept`]: a dropped call loses no
    /// connection.
    async fn accept(&mut self) -> (UnixStream, crate::net::unix::SocketAddr) {
        loop {
            match UnixListener::accept(self).await {
                Ok(accepted) => return accepted,
                Err(e) => accept_error(e).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<crate::net::unix::SocketAddr> {
        UnixListener::local_addr(self)
    }
}

/// What axum does with an accept error on Tokio's listener: a connection
/// that failed before it was accepted is skipped; anything else (e.g.
/// `EMFILE`, out of file descriptors) is logged and retried after a second.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(
        target: "shardio::compat",
        "accept error: {e} (axum::serve retries in 1 s; if this is EMFILE, raise `ulimit -n`)"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// A listener wrapped by [`with_connect_info`]: axum's [`TapIo`] with a tap
/// that does nothing.
pub type WithConnectInfo<L> = TapIo<L, fn(&mut <L as Listener>::Io)>;

/// Wraps `listener` so `into_make_service_with_connect_info::<A>()` works
/// on it, `A` being the listener's address type: [`SocketAddr`] for a
/// [`TcpListener`], [`net::unix::SocketAddr`](crate::net::unix::SocketAddr)
/// for a [`UnixListener`]. Accepting is unchanged. See the
/// [module documentation](self) for why this wrapper is needed and an
/// example.
pub fn with_connect_info<L: Listener>(listener: L) -> WithConnectInfo<L> {
    fn untouched<Io>(_: &mut Io) {}
    listener.tap_io(untouched::<L::Io> as fn(&mut L::Io))
}
