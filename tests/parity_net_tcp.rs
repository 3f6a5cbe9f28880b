//! Every public item of Tokio 1.54's `tokio::net` TCP types, named with its
//! signature: a missing or differently typed item in `shardio::net` fails to
//! compile here. (Behaviour is tested in `net_tcp.rs`.)
#![allow(deprecated, clippy::type_complexity)]

use std::fmt::{Debug, Display};
use std::io::{self, IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd};
use std::task::{Context, Poll};
use std::time::Duration;

use shardio::net::tcp::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
use shardio::net::{TcpListener, TcpSocket, TcpStream, ToSocketAddrs};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf, Ready};

fn assert_send_sync_debug<T: Send + Sync + Debug + Unpin>() {}
fn assert_stream_traits<T: AsyncRead + AsyncWrite + AsRawFd + AsFd + AsRef<T>>() {}

async fn tcp_stream_async<A: ToSocketAddrs>(a: A, s: &TcpStream, buf: &mut [u8]) -> io::Result<()> {
    let _: TcpStream = TcpStream::connect(a).await?;
    let _: Ready = s.ready(Interest::READABLE).await?;
    let _: () = s.readable().await?;
    let _: () = s.writable().await?;
    let _: usize = s.peek(buf).await?;
    let _: u8 = s.async_io(Interest::READABLE, || Ok(1u8)).await?;
    Ok(())
}

fn tcp_stream_sync() {
    let _: fn(std::net::TcpStream) -> io::Result<TcpStream> = TcpStream::from_std;
    let _: fn(TcpStream) -> io::Result<std::net::TcpStream> = TcpStream::into_std;
    let _: fn(&TcpStream) -> io::Result<SocketAddr> = TcpStream::local_addr;
    let _: fn(&TcpStream) -> io::Result<SocketAddr> = TcpStream::peer_addr;
    let _: fn(&TcpStream) -> io::Result<Option<io::Error>> = TcpStream::take_error;
    let _: for<'a, 'b, 'c> fn(
        &TcpStream,
        &mut Context<'a>,
        &mut ReadBuf<'b>,
    ) -> Poll<io::Result<usize>> = TcpStream::poll_peek;
    let _: fn(&TcpStream, &mut Context<'_>) -> Poll<io::Result<()>> = TcpStream::poll_read_ready;
    let _: fn(&TcpStream, &mut Context<'_>) -> Poll<io::Result<()>> = TcpStream::poll_write_ready;
    let _: fn(&TcpStream, &mut [u8]) -> io::Result<usize> = TcpStream::try_read;
    let _: for<'a, 'b> fn(&TcpStream, &mut [IoSliceMut<'a>]) -> io::Result<usize> =
        TcpStream::try_read_vectored;
    let _: fn(&TcpStream, &mut Vec<u8>) -> io::Result<usize> = TcpStream::try_read_buf::<Vec<u8>>;
    let _: fn(&TcpStream, &[u8]) -> io::Result<usize> = TcpStream::try_write;
    let _: for<'a> fn(&TcpStream, &[IoSlice<'a>]) -> io::Result<usize> =
        TcpStream::try_write_vectored;
    let _: fn(&TcpStream) -> io::Result<bool> = TcpStream::nodelay;
    let _: fn(&TcpStream, bool) -> io::Result<()> = TcpStream::set_nodelay;
    let _: fn(&TcpStream) -> io::Result<bool> = TcpStream::quickack;
    let _: fn(&TcpStream, bool) -> io::Result<()> = TcpStream::set_quickack;
    let _: fn(&TcpStream) -> io::Result<Option<Duration>> = TcpStream::linger;
    let _: fn(&TcpStream, Option<Duration>) -> io::Result<()> = TcpStream::set_linger;
    let _: fn(&TcpStream) -> io::Result<()> = TcpStream::set_zero_linger;
    let _: fn(&TcpStream) -> io::Result<u32> = TcpStream::ttl;
    let _: fn(&TcpStream, u32) -> io::Result<()> = TcpStream::set_ttl;
    let _: fn(&mut TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) = TcpStream::split;
    let _: fn(TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) = TcpStream::into_split;
    let _: fn(std::net::TcpStream) -> Result<TcpStream, io::Error> = TcpStream::try_from;
    fn try_io(s: &TcpStream) -> io::Result<u8> {
        s.try_io(Interest::WRITABLE, || Ok(1u8))
    }
    let _ = try_io;
    assert_send_sync_debug::<TcpStream>();
    assert_stream_traits::<TcpStream>();
}

async fn tcp_listener_async<A: ToSocketAddrs>(a: A, l: &TcpListener) -> io::Result<()> {
    let _: TcpListener = TcpListener::bind(a).await?;
    let _: (TcpStream, SocketAddr) = l.accept().await?;
    Ok(())
}

fn tcp_listener_sync() {
    let _: fn(&TcpListener, &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> =
        TcpListener::poll_accept;
    let _: fn(std::net::TcpListener) -> io::Result<TcpListener> = TcpListener::from_std;
    let _: fn(TcpListener) -> io::Result<std::net::TcpListener> = TcpListener::into_std;
    let _: fn(&TcpListener) -> io::Result<SocketAddr> = TcpListener::local_addr;
    let _: fn(&TcpListener) -> io::Result<u32> = TcpListener::ttl;
    let _: fn(&TcpListener, u32) -> io::Result<()> = TcpListener::set_ttl;
    let _: fn(std::net::TcpListener) -> Result<TcpListener, io::Error> = TcpListener::try_from;
    fn traits<T: Send + Sync + Debug + AsRawFd + AsFd>() {}
    traits::<TcpListener>();
}

async fn tcp_socket_async(s: TcpSocket, addr: SocketAddr) -> io::Result<()> {
    let _: TcpStream = s.connect(addr).await?;
    Ok(())
}

fn tcp_socket_sync() {
    let _: fn() -> io::Result<TcpSocket> = TcpSocket::new_v4;
    let _: fn() -> io::Result<TcpSocket> = TcpSocket::new_v6;
    let _: fn(&TcpSocket, bool) -> io::Result<()> = TcpSocket::set_keepalive;
    let _: fn(&TcpSocket) -> io::Result<bool> = TcpSocket::keepalive;
    let _: fn(&TcpSocket, bool) -> io::Result<()> = TcpSocket::set_reuseaddr;
    let _: fn(&TcpSocket) -> io::Result<bool> = TcpSocket::reuseaddr;
    let _: fn(&TcpSocket, bool) -> io::Result<()> = TcpSocket::set_reuseport;
    let _: fn(&TcpSocket) -> io::Result<bool> = TcpSocket::reuseport;
    let _: fn(&TcpSocket, u32) -> io::Result<()> = TcpSocket::set_send_buffer_size;
    let _: fn(&TcpSocket) -> io::Result<u32> = TcpSocket::send_buffer_size;
    let _: fn(&TcpSocket, u32) -> io::Result<()> = TcpSocket::set_recv_buffer_size;
    let _: fn(&TcpSocket) -> io::Result<u32> = TcpSocket::recv_buffer_size;
    let _: fn(&TcpSocket, Option<Duration>) -> io::Result<()> = TcpSocket::set_linger;
    let _: fn(&TcpSocket) -> io::Result<()> = TcpSocket::set_zero_linger;
    let _: fn(&TcpSocket) -> io::Result<Option<Duration>> = TcpSocket::linger;
    let _: fn(&TcpSocket, bool) -> io::Result<()> = TcpSocket::set_nodelay;
    let _: fn(&TcpSocket) -> io::Result<bool> = TcpSocket::nodelay;
    let _: fn(&TcpSocket) -> io::Result<u32> = TcpSocket::tclass_v6;
    let _: fn(&TcpSocket, u32) -> io::Result<()> = TcpSocket::set_tclass_v6;
    let _: fn(&TcpSocket) -> io::Result<u32> = TcpSocket::tos_v4;
    let _: fn(&TcpSocket) -> io::Result<u32> = TcpSocket::tos;
    let _: fn(&TcpSocket, u32) -> io::Result<()> = TcpSocket::set_tos_v4;
    let _: fn(&TcpSocket, u32) -> io::Result<()> = TcpSocket::set_tos;
    let _: fn(&TcpSocket) -> io::Result<Option<Vec<u8>>> = TcpSocket::device;
    let _: fn(&TcpSocket, Option<&[u8]>) -> io::Result<()> = TcpSocket::bind_device;
    let _: fn(&TcpSocket) -> io::Result<SocketAddr> = TcpSocket::local_addr;
    let _: fn(&TcpSocket) -> io::Result<Option<io::Error>> = TcpSocket::take_error;
    let _: fn(&TcpSocket, SocketAddr) -> io::Result<()> = TcpSocket::bind;
    let _: fn(TcpSocket, u32) -> io::Result<TcpListener> = TcpSocket::listen;
    let _: fn(std::net::TcpStream) -> TcpSocket = TcpSocket::from_std_stream;
    fn traits<T: Send + Sync + Debug + AsRawFd + AsFd + FromRawFd + IntoRawFd>() {}
    traits::<TcpSocket>();
}

async fn halves_async(
    r: &mut ReadHalf<'_>,
    w: &WriteHalf<'_>,
    or: &mut OwnedReadHalf,
    ow: &OwnedWriteHalf,
    buf: &mut [u8],
) -> io::Result<()> {
    let _: usize = r.peek(buf).await?;
    let _: Ready = r.ready(Interest::READABLE).await?;
    let _: () = r.readable().await?;
    let _: Ready = w.ready(Interest::WRITABLE).await?;
    let _: () = w.writable().await?;
    let _: usize = or.peek(buf).await?;
    let _: Ready = or.ready(Interest::READABLE).await?;
    let _: () = or.readable().await?;
    let _: Ready = ow.ready(Interest::WRITABLE).await?;
    let _: () = ow.writable().await?;
    Ok(())
}

fn halves_sync() {
    let _: for<'b, 'c, 'd> fn(
        &'d mut ReadHalf<'static>,
        &mut Context<'b>,
        &mut ReadBuf<'c>,
    ) -> Poll<io::Result<usize>> = ReadHalf::poll_peek;
    let _: fn(&ReadHalf<'static>, &mut [u8]) -> io::Result<usize> = ReadHalf::<'static>::try_read;
    let _: for<'a, 'b> fn(&ReadHalf<'static>, &mut [IoSliceMut<'a>]) -> io::Result<usize> =
        ReadHalf::<'static>::try_read_vectored;
    let _: fn(&ReadHalf<'static>, &mut Vec<u8>) -> io::Result<usize> =
        ReadHalf::<'static>::try_read_buf::<Vec<u8>>;
    let _: fn(&ReadHalf<'static>) -> io::Result<SocketAddr> = ReadHalf::<'static>::peer_addr;
    let _: fn(&ReadHalf<'static>) -> io::Result<SocketAddr> = ReadHalf::<'static>::local_addr;
    let _: fn(&WriteHalf<'static>, &[u8]) -> io::Result<usize> = WriteHalf::<'static>::try_write;
    let _: for<'a> fn(&WriteHalf<'static>, &[IoSlice<'a>]) -> io::Result<usize> =
        WriteHalf::<'static>::try_write_vectored;
    let _: fn(&WriteHalf<'static>) -> io::Result<SocketAddr> = WriteHalf::<'static>::peer_addr;
    let _: fn(&WriteHalf<'static>) -> io::Result<SocketAddr> = WriteHalf::<'static>::local_addr;

    let _: fn(OwnedReadHalf, OwnedWriteHalf) -> Result<TcpStream, ReuniteError> =
        OwnedReadHalf::reunite;
    let _: fn(&mut OwnedReadHalf, &mut Context<'_>, &mut ReadBuf<'_>) -> Poll<io::Result<usize>> =
        OwnedReadHalf::poll_peek;
    let _: fn(&OwnedReadHalf, &mut [u8]) -> io::Result<usize> = OwnedReadHalf::try_read;
    let _: for<'a> fn(&OwnedReadHalf, &mut [IoSliceMut<'a>]) -> io::Result<usize> =
        OwnedReadHalf::try_read_vectored;
    let _: fn(&OwnedReadHalf, &mut Vec<u8>) -> io::Result<usize> =
        OwnedReadHalf::try_read_buf::<Vec<u8>>;
    let _: fn(&OwnedReadHalf) -> io::Result<SocketAddr> = OwnedReadHalf::peer_addr;
    let _: fn(&OwnedReadHalf) -> io::Result<SocketAddr> = OwnedReadHalf::local_addr;
    let _: fn(OwnedWriteHalf, OwnedReadHalf) -> Result<TcpStream, ReuniteError> =
        OwnedWriteHalf::reunite;
    let _: fn(OwnedWriteHalf) = OwnedWriteHalf::forget;
    let _: fn(&OwnedWriteHalf, &[u8]) -> io::Result<usize> = OwnedWriteHalf::try_write;
    let _: for<'a> fn(&OwnedWriteHalf, &[IoSlice<'a>]) -> io::Result<usize> =
        OwnedWriteHalf::try_write_vectored;
    let _: fn(&OwnedWriteHalf) -> io::Result<SocketAddr> = OwnedWriteHalf::peer_addr;
    let _: fn(&OwnedWriteHalf) -> io::Result<SocketAddr> = OwnedWriteHalf::local_addr;

    fn read_half<T: AsyncRead + AsRef<TcpStream> + Debug + Unpin>() {}
    fn write_half<T: AsyncWrite + AsRef<TcpStream> + Debug + Unpin>() {}
    read_half::<ReadHalf<'_>>();
    read_half::<OwnedReadHalf>();
    write_half::<WriteHalf<'_>>();
    write_half::<OwnedWriteHalf>();
    assert_send_sync_debug::<ReadHalf<'_>>();
    assert_send_sync_debug::<WriteHalf<'_>>();
    assert_send_sync_debug::<OwnedReadHalf>();
    assert_send_sync_debug::<OwnedWriteHalf>();
    fn error<T: std::error::Error + Display + Debug + Send + Sync>() {}
    error::<ReuniteError>();
    let _ = |e: ReuniteError| -> (OwnedReadHalf, OwnedWriteHalf) { (e.0, e.1) };
}

#[test]
fn every_tokio_tcp_item_is_there() {
    // Type-checked above; nothing needs to run.
    let _ = (
        tcp_stream_sync,
        tcp_listener_sync,
        tcp_socket_sync,
        halves_sync,
    );
    let _ = tcp_stream_async::<SocketAddr>;
    let _ = tcp_listener_async::<SocketAddr>;
    let _ = (tcp_socket_async, halves_async);
}
