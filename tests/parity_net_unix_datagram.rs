//! Every public item of Tokio 1.54's `tokio::net::UnixDatagram`, named
//! with its type: a missing or differently typed item in `shardio::net`
//! fails to compile. Nothing here runs I/O.
#![allow(dead_code, clippy::type_complexity)]

use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixDatagram as StdDatagram;
use std::path::{Path, PathBuf};
use std::task::{Context, Poll};

use shardio::net::UnixDatagram;
use shardio::net::unix::SocketAddr;
use tokio::io::{Interest, ReadBuf, Ready};

fn traits<T: Send + Sync + std::fmt::Debug + AsRawFd + AsFd>() {}
fn try_from_std<T: TryFrom<StdDatagram, Error = io::Error>>() {}

#[test]
fn sync_items() {
    traits::<UnixDatagram>();
    try_from_std::<UnixDatagram>();
    let _: fn(&'static Path) -> io::Result<UnixDatagram> = UnixDatagram::bind::<&Path>;
    let _: fn(PathBuf) -> io::Result<UnixDatagram> = UnixDatagram::bind::<PathBuf>;
    let _: fn() -> io::Result<(UnixDatagram, UnixDatagram)> = UnixDatagram::pair;
    let _: fn(StdDatagram) -> io::Result<UnixDatagram> = UnixDatagram::from_std;
    let _: fn(UnixDatagram) -> io::Result<StdDatagram> = UnixDatagram::into_std;
    let _: fn() -> io::Result<UnixDatagram> = UnixDatagram::unbound;
    let _: fn(&UnixDatagram, &'static str) -> io::Result<()> = UnixDatagram::connect::<&str>;
    let _: fn(&UnixDatagram, &mut Context<'_>) -> Poll<io::Result<()>> =
        UnixDatagram::poll_send_ready;
    let _: fn(&UnixDatagram, &mut Context<'_>) -> Poll<io::Result<()>> =
        UnixDatagram::poll_recv_ready;
    let _: fn(&UnixDatagram, &[u8]) -> io::Result<usize> = UnixDatagram::try_send;
    let _: fn(&UnixDatagram, &[u8], &'static Path) -> io::Result<usize> =
        UnixDatagram::try_send_to::<&Path>;
    let _: fn(&UnixDatagram, &mut [u8]) -> io::Result<usize> = UnixDatagram::try_recv;
    let _: fn(&UnixDatagram, &mut Vec<u8>) -> io::Result<(usize, SocketAddr)> =
        UnixDatagram::try_recv_buf_from::<Vec<u8>>;
    let _: fn(&UnixDatagram, &mut Vec<u8>) -> io::Result<usize> =
        UnixDatagram::try_recv_buf::<Vec<u8>>;
    let _: fn(&UnixDatagram, &mut Context<'_>, &mut ReadBuf<'_>) -> Poll<io::Result<SocketAddr>> =
        UnixDatagram::poll_recv_from;
    let _: fn(&UnixDatagram, &mut Context<'_>, &[u8], &'static Path) -> Poll<io::Result<usize>> =
        UnixDatagram::poll_send_to::<&Path>;
    let _: fn(&UnixDatagram, &mut Context<'_>, &[u8]) -> Poll<io::Result<usize>> =
        UnixDatagram::poll_send;
    let _: fn(&UnixDatagram, &mut Context<'_>, &mut ReadBuf<'_>) -> Poll<io::Result<()>> =
        UnixDatagram::poll_recv;
    let _: fn(&UnixDatagram, &mut [u8]) -> io::Result<(usize, SocketAddr)> =
        UnixDatagram::try_recv_from;
    let _: fn(&UnixDatagram, Interest, fn() -> io::Result<u8>) -> io::Result<u8> =
        UnixDatagram::try_io::<u8>;
    let _: fn(&UnixDatagram) -> io::Result<SocketAddr> = UnixDatagram::local_addr;
    let _: fn(&UnixDatagram) -> io::Result<SocketAddr> = UnixDatagram::peer_addr;
    let _: fn(&UnixDatagram) -> io::Result<Option<io::Error>> = UnixDatagram::take_error;
    let _: fn(&UnixDatagram, Shutdown) -> io::Result<()> = UnixDatagram::shutdown;
}

/// The async items, called with the argument types Tokio takes (never run).
async fn async_items(s: &UnixDatagram) -> io::Result<()> {
    let mut buf = [0u8; 8];
    let mut vec = Vec::<u8>::new();
    let _: Ready = s.ready(Interest::READABLE | Interest::WRITABLE).await?;
    let _: () = s.writable().await?;
    let _: () = s.readable().await?;
    let _: usize = s.send(b"x").await?;
    let _: usize = s.recv(&mut buf).await?;
    let _: (usize, SocketAddr) = s.recv_buf_from(&mut vec).await?;
    let _: usize = s.recv_buf(&mut vec).await?;
    let _: usize = s.send_to(b"x", "/tmp/x").await?;
    let _: usize = s.send_to::<PathBuf>(b"x", PathBuf::from("/tmp/x")).await?;
    let _: (usize, SocketAddr) = s.recv_from(&mut buf).await?;
    let _: u8 = s.async_io(Interest::WRITABLE, || Ok(1u8)).await?;
    Ok(())
}

fn is_send<T: Send>(_: &T) {}

#[test]
fn async_items_are_send() {
    fn check(s: &'static UnixDatagram) {
        is_send(&async_items(s));
    }
    let _ = check;
}
