//! Read and write halves of a [`TcpStream`], borrowed or owned (Tokio's
//! `tokio::net::tcp` halves).

use super::stream::{local_ip, peer_ip};

stream_halves! {
    stream: TcpStream,
    tokio: tokio::net::tcp,
    addr: std::net::SocketAddr,
    local: local_ip,
    peer: peer_ip,
}
