//! Read and write halves of a [`UnixStream`], borrowed or owned (Tokio's
//! `tokio::net::unix` halves).

use super::{local_addr_of, peer_addr_of};

stream_halves! {
    stream: UnixStream,
    tokio: tokio::net::unix,
    addr: super::SocketAddr,
    local: local_addr_of,
    peer: peer_addr_of,
}
