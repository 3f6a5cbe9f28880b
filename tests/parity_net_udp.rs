//! Every public item of Tokio 1.54's `tokio::net::UdpSocket` (and
//! `lookup_host`), named with its type: a missing or differently typed item
//! in `shardio::net` fails to compile. Nothing here runs I/O.
#![allow(deprecated, dead_code, clippy::type_complexity)]

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::task::{Context, Poll};

use shardio::net::UdpSocket;
use tokio::io::{Interest, ReadBuf, Ready};

fn is_send_sync<T: Send + Sync + std::fmt::Debug + AsRawFd + AsFd>() {}
fn try_from_std<T: TryFrom<std::net::UdpSocket, Error = io::Error>>() {}

#[test]
fn sync_items() {
    is_send_sync::<UdpSocket>();
    try_from_std::<UdpSocket>();
    let _: fn(std::net::UdpSocket) -> io::Result<UdpSocket> = UdpSocket::from_std;
    let _: fn(UdpSocket) -> io::Result<std::net::UdpSocket> = UdpSocket::into_std;
    let _: fn(&UdpSocket) -> io::Result<SocketAddr> = UdpSocket::local_addr;
    let _: fn(&UdpSocket) -> io::Result<SocketAddr> = UdpSocket::peer_addr;
    let _: fn(&UdpSocket, &mut Context<'_>) -> Poll<io::Result<()>> = UdpSocket::poll_send_ready;
    let _: fn(&UdpSocket, &mut Context<'_>) -> Poll<io::Result<()>> = UdpSocket::poll_recv_ready;
    let _: fn(&UdpSocket, &mut Context<'_>, &[u8]) -> Poll<io::Result<usize>> =
        UdpSocket::poll_send;
    let _: fn(&UdpSocket, &mut Context<'_>, &mut ReadBuf<'_>) -> Poll<io::Result<()>> =
        UdpSocket::poll_recv;
    let _: fn(&UdpSocket, &mut Context<'_>, &[u8], SocketAddr) -> Poll<io::Result<usize>> =
        UdpSocket::poll_send_to;
    let _: fn(&UdpSocket, &mut Context<'_>, &mut ReadBuf<'_>) -> Poll<io::Result<SocketAddr>> =
        UdpSocket::poll_recv_from;
    let _: fn(&UdpSocket, &mut Context<'_>, &mut ReadBuf<'_>) -> Poll<io::Result<()>> =
        UdpSocket::poll_peek;
    let _: fn(&UdpSocket, &mut Context<'_>, &mut ReadBuf<'_>) -> Poll<io::Result<SocketAddr>> =
        UdpSocket::poll_peek_from;
    let _: fn(&UdpSocket, &mut Context<'_>) -> Poll<io::Result<SocketAddr>> =
        UdpSocket::poll_peek_sender;
    let _: fn(&UdpSocket, &[u8]) -> io::Result<usize> = UdpSocket::try_send;
    let _: fn(&UdpSocket, &mut [u8]) -> io::Result<usize> = UdpSocket::try_recv;
    let _: fn(&UdpSocket, &mut Vec<u8>) -> io::Result<usize> = UdpSocket::try_recv_buf::<Vec<u8>>;
    let _: fn(&UdpSocket, &mut Vec<u8>) -> io::Result<(usize, SocketAddr)> =
        UdpSocket::try_recv_buf_from::<Vec<u8>>;
    let _: fn(&UdpSocket, &[u8], SocketAddr) -> io::Result<usize> = UdpSocket::try_send_to;
    let _: fn(&UdpSocket, &mut [u8]) -> io::Result<(usize, SocketAddr)> = UdpSocket::try_recv_from;
    let _: fn(&UdpSocket, &mut [u8]) -> io::Result<usize> = UdpSocket::try_peek;
    let _: fn(&UdpSocket, &mut [u8]) -> io::Result<(usize, SocketAddr)> = UdpSocket::try_peek_from;
    let _: fn(&UdpSocket) -> io::Result<SocketAddr> = UdpSocket::try_peek_sender;
    let _: fn(&UdpSocket, Interest, fn() -> io::Result<u8>) -> io::Result<u8> =
        UdpSocket::try_io::<u8>;
    let _: fn(&UdpSocket) -> io::Result<bool> = UdpSocket::broadcast;
    let _: fn(&UdpSocket, bool) -> io::Result<()> = UdpSocket::set_broadcast;
    let _: fn(&UdpSocket) -> io::Result<bool> = UdpSocket::multicast_loop_v4;
    let _: fn(&UdpSocket, bool) -> io::Result<()> = UdpSocket::set_multicast_loop_v4;
    let _: fn(&UdpSocket) -> io::Result<u32> = UdpSocket::multicast_ttl_v4;
    let _: fn(&UdpSocket, u32) -> io::Result<()> = UdpSocket::set_multicast_ttl_v4;
    let _: fn(&UdpSocket) -> io::Result<bool> = UdpSocket::multicast_loop_v6;
    let _: fn(&UdpSocket, bool) -> io::Result<()> = UdpSocket::set_multicast_loop_v6;
    let _: fn(&UdpSocket) -> io::Result<u32> = UdpSocket::tclass_v6;
    let _: fn(&UdpSocket, u32) -> io::Result<()> = UdpSocket::set_tclass_v6;
    let _: fn(&UdpSocket) -> io::Result<u32> = UdpSocket::ttl;
    let _: fn(&UdpSocket, u32) -> io::Result<()> = UdpSocket::set_ttl;
    let _: fn(&UdpSocket) -> io::Result<u32> = UdpSocket::tos_v4;
    let _: fn(&UdpSocket) -> io::Result<u32> = UdpSocket::tos;
    let _: fn(&UdpSocket, u32) -> io::Result<()> = UdpSocket::set_tos_v4;
    let _: fn(&UdpSocket, u32) -> io::Result<()> = UdpSocket::set_tos;
    let _: fn(&UdpSocket) -> io::Result<Option<Vec<u8>>> = UdpSocket::device;
    let _: fn(&UdpSocket, Option<&[u8]>) -> io::Result<()> = UdpSocket::bind_device;
    let _: fn(&UdpSocket, Ipv4Addr, Ipv4Addr) -> io::Result<()> = UdpSocket::join_multicast_v4;
    let _: fn(&UdpSocket, &Ipv6Addr, u32) -> io::Result<()> = UdpSocket::join_multicast_v6;
    let _: fn(&UdpSocket, Ipv4Addr, Ipv4Addr) -> io::Result<()> = UdpSocket::leave_multicast_v4;
    let _: fn(&UdpSocket, &Ipv6Addr, u32) -> io::Result<()> = UdpSocket::leave_multicast_v6;
    let _: fn(&UdpSocket) -> io::Result<Option<io::Error>> = UdpSocket::take_error;
}

/// The async items, called with the argument types Tokio takes (never run).
async fn async_items(s: &UdpSocket) -> io::Result<()> {
    let mut buf = [0u8; 8];
    let mut vec = Vec::<u8>::new();
    let _: UdpSocket = UdpSocket::bind("127.0.0.1:0").await?;
    let _: UdpSocket = UdpSocket::bind::<SocketAddr>(([127, 0, 0, 1], 0).into()).await?;
    let _: () = s.connect("127.0.0.1:1").await?;
    let _: () = s.connect::<(&str, u16)>(("127.0.0.1", 1)).await?;
    let _: Ready = s.ready(Interest::READABLE).await?;
    let _: () = s.writable().await?;
    let _: () = s.readable().await?;
    let _: usize = s.send(b"x").await?;
    let _: usize = s.recv(&mut buf).await?;
    let _: usize = s.recv_buf(&mut vec).await?;
    let _: (usize, SocketAddr) = s.recv_buf_from(&mut vec).await?;
    let _: usize = s.send_to(b"x", "127.0.0.1:1").await?;
    let _: usize = s
        .send_to::<SocketAddr>(b"x", ([127, 0, 0, 1], 1).into())
        .await?;
    let _: (usize, SocketAddr) = s.recv_from(&mut buf).await?;
    let _: u8 = s.async_io(Interest::READABLE, || Ok(1u8)).await?;
    let _: usize = s.peek(&mut buf).await?;
    let _: (usize, SocketAddr) = s.peek_from(&mut buf).await?;
    let _: SocketAddr = s.peek_sender().await?;
    let addrs = shardio::net::lookup_host("localhost:80").await?;
    let _: Vec<SocketAddr> = addrs.collect();
    let _ = shardio::net::lookup_host::<SocketAddr>(([127, 0, 0, 1], 1).into()).await?;
    Ok(())
}

fn is_send<T: Send>(_: &T) {}

#[test]
fn async_items_are_send() {
    fn check(s: &'static UdpSocket) {
        is_send(&async_items(s));
    }
    let _ = check;
}
