//! A client connector dialing shardio streams (feature `hyper`).
//!
//! [`Connector`] is a `tower::Service<Uri>` like hyper-util's
//! `HttpConnector`, with the same setter names, whose connections are
//! shardio [`TcpStream`]s wrapped in hyper-util's [`TokioIo`]. It works
//! wherever a connector is taken: hyper-util's legacy `Client`, tonic's
//! `Endpoint::connect_with_connector`, TLS connectors that wrap an HTTP
//! connector.
//!
//! ```no_run
//! use http_body_util::Empty;
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder(TokioExecutor::new())
//!     .build::<_, Empty<bytes::Bytes>>(shardio::compat::hyper::Connector::new());
//! let resp = client.get("http://127.0.0.1:8080/".parse()?).await?;
//! println!("{}", resp.status());
//! # Ok(())
//! # }
//! ```
//!
//! # https
//!
//! The connector speaks plain TCP. For https, wrap it in a TLS connector
//! that takes an inner HTTP connector (e.g. hyper-rustls's
//! `HttpsConnectorBuilder::wrap_connector`) and call
//! [`Connector::enforce_http(false)`](Connector::enforce_http) so it
//! accepts `https` URIs for the TLS layer to secure.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ::hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use socket2::{SockRef, TcpKeepalive};

use crate::net::{TcpSocket, TcpStream, UnixStream};
use crate::sched::PriorityClass;

/// A connector whose connections are shardio [`TcpStream`]s: a
/// `tower::Service<Uri>` answering with `TokioIo<TcpStream>` (hyper's
/// `rt::Read` + `rt::Write`, and hyper-util's [`Connection`]).
///
/// For each URI it takes the host and port (80 for `http`, 443 for
/// `https`), resolves the host off the runtime's workers (an IP literal is
/// not resolved), and tries every resolved address in order until one
/// connects. Its options mirror hyper-util's `HttpConnector`: connect
/// timeout, `TCP_NODELAY`, TCP keepalive, and whether only `http` URIs are
/// taken; beside them, a [`PriorityClass`] for the connections it makes.
///
/// Cloning is cheap and clones share nothing mutable: a setter called on a
/// clone changes that clone only.
///
/// Errors are [`io::Error`]s whose message names the cause and what to do,
/// e.g. `connect to 10.0.0.1:80 timed out after 5s`.
#[derive(Clone, Debug, Default)]
pub struct Connector {
    config: Arc<Config>,
}

#[derive(Clone, Debug)]
struct Config {
    connect_timeout: Option<Duration>,
    nodelay: bool,
    keepalive: Option<Duration>,
    class: Option<PriorityClass>,
    enforce_http: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            connect_timeout: None,
            nodelay: false,
            keepalive: None,
            class: None,
            enforce_http: true,
        }
    }
}

impl Connector {
    /// A connector with hyper-util's defaults: no connect timeout, Nagle's
    /// algorithm on (`TCP_NODELAY` off), no keepalive, `http` URIs only, no
    /// priority class.
    pub fn new() -> Connector {
        Connector::default()
    }

    fn config(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Bounds the time to connect (`None`, the default: no bound beyond
    /// the kernel's). Name resolution is not included. When a host resolves
    /// to several addresses, the time is split evenly between them, as in
    /// hyper-util, so the whole connect stays within it.
    pub fn set_connect_timeout(&mut self, timeout: Option<Duration>) {
        self.config().connect_timeout = timeout;
    }

    /// Sets `TCP_NODELAY` on every connection (default: off).
    pub fn set_nodelay(&mut self, nodelay: bool) {
        self.config().nodelay = nodelay;
    }

    /// Turns on TCP keepalive with `time` idle before the first probe
    /// (`SO_KEEPALIVE` and `TCP_KEEPIDLE`); `None`, the default, leaves it
    /// off.
    pub fn set_keepalive(&mut self, time: Option<Duration>) {
        self.config().keepalive = time;
    }

    /// Puts every connection this connector makes in `class` (see
    /// [`TcpStream::set_class`]): its sends and receives are scheduled in
    /// that class. On the epoll fallback path sockets are not scheduled and
    /// this has no effect.
    pub fn set_class(&mut self, class: &PriorityClass) {
        self.config().class = Some(class.clone());
    }

    /// The class set with [`set_class`](Self::set_class), if any.
    pub fn class(&self) -> Option<&PriorityClass> {
        self.config.class.as_ref()
    }

    /// Whether only `http` URIs are taken (default: `true`). Turn it off
    /// when a TLS connector wraps this one and hands it `https` URIs.
    pub fn enforce_http(&mut self, enforce: bool) {
        self.config().enforce_http = enforce;
    }

    /// Connects to `uri`'s host and port, as the `Service` impl does.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes its socket, as
    /// [`TcpStream::connect`] does.
    pub async fn connect(&self, uri: Uri) -> io::Result<TcpStream> {
        self.config.connect(&uri).await
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<TcpStream>;
    type Error = io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Connecting {
        let config = Arc::clone(&self.config);
        Connecting {
            inner: Box::pin(async move { config.connect(&uri).await.map(TokioIo::new) }),
        }
    }
}

/// The future of a [`Connector`] call.
///
/// Dropping it abandons the attempt and closes its socket, as dropping
/// [`TcpStream::connect`] does.
#[must_use = "futures do nothing unless polled"]
pub struct Connecting {
    inner: Pin<Box<dyn Future<Output = io::Result<TokioIo<TcpStream>>> + Send>>,
}

impl Future for Connecting {
    type Output = io::Result<TokioIo<TcpStream>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl fmt::Debug for Connecting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connecting").finish_non_exhaustive()
    }
}

impl Config {
    async fn connect(&self, uri: &Uri) -> io::Result<TcpStream> {
        let (host, port) = self.host_port(uri)?;
        let addrs = resolve(host, port).await?;
        let n = addrs.len();
        let each = self
            .connect_timeout
            .and_then(|t| t.checked_div(u32::try_from(n).unwrap_or(u32::MAX)));
        let mut failures = Vec::with_capacity(n);
        for addr in addrs {
            match self.connect_addr(addr, each, n).await {
                Ok(stream) => return Ok(stream),
                Err(e) => failures.push((addr, e)),
            }
        }
        Err(all_failed(host, port, failures))
    }

    fn host_port<'u>(&self, uri: &'u Uri) -> io::Result<(&'u str, u16)> {
        let invalid = |why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid URI {uri:?} for shardio::compat::hyper::Connector: {why}"),
            )
        };
        let scheme = uri.scheme_str();
        if self.enforce_http && scheme != Some("http") {
            return Err(invalid(
                "the scheme is not http (the connector speaks plain TCP; for https wrap \
                 it in a TLS connector and call Connector::enforce_http(false))",
            ));
        }
        if scheme.is_none() {
            return Err(invalid("no scheme (write http://host:port/...)"));
        }
        let host = uri
            .host()
            .ok_or_else(|| invalid("no host (write http://host:port/...)"))?;
        let port = match uri.port_u16() {
            Some(port) => port,
            None if scheme == Some("https") => 443,
            None => 80,
        };
        Ok((host.trim_start_matches('[').trim_end_matches(']'), port))
    }

    async fn connect_addr(
        &self,
        addr: SocketAddr,
        timeout: Option<Duration>,
        n: usize,
    ) -> io::Result<TcpStream> {
        let socket = match addr {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        if self.nodelay {
            socket.set_nodelay(true)?;
        }
        if let Some(time) = self.keepalive {
            SockRef::from(&socket).set_tcp_keepalive(&TcpKeepalive::new().with_time(time))?;
        }
        let connecting = socket.connect(addr);
        let stream = match timeout {
            None => connecting.await?,
            Some(t) => match tokio::time::timeout(t, connecting).await {
                Ok(res) => res?,
                Err(_) => {
                    let shared = match (self.connect_timeout, n) {
                        (Some(total), 2..) => {
                            format!(" (the {total:?} connect timeout split over {n} addresses)")
                        }
                        _ => String::new(),
                    };
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "connect to {addr} timed out after {t:?}{shared}; \
                             raise it with Connector::set_connect_timeout if the peer is slow"
                        ),
                    ));
                }
            },
        };
        if let Some(class) = &self.class {
            stream.set_class(class);
        }
        Ok(stream)
    }
}

/// The addresses of `host` (an IP literal as it is, a name through
/// `getaddrinfo` on Tokio's blocking pool, so a slow resolver never holds a
/// worker).
async fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("resolving {host}:{port} failed: {e} (check the host name and DNS)"),
            )
        })?
        .collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no address for {host}:{port}: the name resolved to none"),
        ));
    }
    Ok(addrs)
}

/// One error for a connect that failed at every address, naming each.
fn all_failed(host: &str, port: u16, mut failures: Vec<(SocketAddr, io::Error)>) -> io::Error {
    if failures.len() == 1 {
        let (addr, e) = failures.remove(0);
        if e.kind() == io::ErrorKind::TimedOut {
            return e;
        }
        return io::Error::new(e.kind(), format!("connect to {addr} failed: {e}"));
    }
    let kind = failures
        .last()
        .map_or(io::ErrorKind::Other, |(_, e)| e.kind());
    let each: Vec<String> = failures
        .iter()
        .map(|(addr, e)| format!("{addr}: {e}"))
        .collect();
    io::Error::new(
        kind,
        format!(
            "connect to {host}:{port} failed at each of its {} addresses: {}",
            failures.len(),
            each.join("; ")
        ),
    )
}

/// What a [`Connector`]'s connection tells hyper-util's `Client`: responses
/// carry it in their extensions
/// (`response.extensions().get::<HttpInfo>()`), as hyper-util's own
/// `HttpInfo` for its connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpInfo {
    remote_addr: SocketAddr,
    local_addr: SocketAddr,
}

impl HttpInfo {
    /// The peer's address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// This end's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Connection for TcpStream {
    fn connected(&self) -> Connected {
        let connected = Connected::new();
        match (self.peer_addr(), self.local_addr()) {
            (Ok(remote_addr), Ok(local_addr)) => connected.extra(HttpInfo {
                remote_addr,
                local_addr,
            }),
            _ => connected,
        }
    }
}

impl Connection for UnixStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}
