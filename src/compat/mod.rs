//! Glue for libraries that take Tokio's sockets, one optional Cargo feature
//! each (all off by default; a feature brings in its library only when on):
//!
//! | feature | gives |
//! | --- | --- |
//! | `axum` | [`axum::serve`](::axum::serve()) on [`TcpListener`](crate::net::TcpListener) and [`UnixListener`](crate::net::UnixListener); the peer address for `ConnectInfo` ([`compat::axum`](self::axum)) |
//! | `hyper` | [`Connector`](self::hyper::Connector): a client connector dialing shardio streams, for hyper-util's legacy `Client`, tonic and anything that takes a `tower::Service<Uri>` ([`compat::hyper`](self::hyper)) |
//! | `tonic` | tonic's `Connected` for [`TcpStream`](crate::net::TcpStream) and [`UnixStream`](crate::net::UnixStream), so `serve_with_incoming` takes shardio connections; turns on `hyper` for the client side ([`compat::tonic`](self::tonic)) |
//!
//! reqwest is not here: its connector cannot be given another socket type
//! (see the README's "Optional integrations").

cfg_axum! {
    pub mod axum;
}
cfg_hyper! {
    pub mod hyper;
}
cfg_tonic! {
    pub mod tonic;
}
