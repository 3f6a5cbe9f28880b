//! Every public item of Tokio 1.54's `tokio::net` Unix types (`UnixStream`,
//! `UnixListener`, `UnixSocket`, `tokio::net::unix` and `unix::pipe`), named
//! with its signature: a missing or differently typed item in
//! `shardio::net` fails to compile here. `UnixDatagram` is in its own
//! parity file. (Behaviour: `net_unix.rs`, `net_pipe.rs`.)
#![allow(clippy::type_complexity)]

use std::fmt::{Debug, Display};
use std::fs::File;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::path::Path;
use std::task::{Context, Poll};

use shardio::net::unix::pipe::{self, Receiver, Sender};
use shardio::net::unix::{
    OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, SocketAddr, UCred, WriteHalf, gid_t,
    pid_t, uid_t,
};
use shardio::net::{UnixDatagram, UnixListener, UnixSocket, UnixStream};
use tokio::io::{AsyncRead, AsyncWrite, Interest, Ready};

fn assert_send_sync_debug<T: Send + Sync + Debug + Unpin>() {}

async fn unix_stream_async(p: &Path, addr: &SocketAddr, s: &UnixStream) -> io::Result<()> {
    let _: UnixStream = UnixStream::connect::<&Path>(p).await?;
    let _: UnixStream = UnixStream::connect_addr(addr).await?;
    let _: Ready = s.ready(Interest::READABLE).await?;
    let _: () = s.readable().await?;
    let _: () = s.writable().await?;
    let _: u8 = s.async_io(Interest::READABLE, || Ok(1u8)).await?;
    Ok(())
}

fn unix_stream_sync() {
    let _: fn(&UnixStream, &mut Context<'_>) -> Poll<io::Result<()>> = UnixStream::poll_read_ready;
    let _: fn(&UnixStream, &mut Context<'_>) -> Poll<io::Result<()>> = UnixStream::poll_write_ready;
    let _: fn(&UnixStream, &mut [u8]) -> io::Result<usize> = UnixStream::try_read;
    let _: for<'a> fn(&UnixStream, &mut [IoSliceMut<'a>]) -> io::Result<usize> =
        UnixStream::try_read_vectored;
    let _: fn(&UnixStream, &mut Vec<u8>) -> io::Result<usize> = UnixStream::try_read_buf::<Vec<u8>>;
    let _: fn(&UnixStream, &[u8]) -> io::Result<usize> = UnixStream::try_write;
    let _: for<'a> fn(&UnixStream, &[IoSlice<'a>]) -> io::Result<usize> =
        UnixStream::try_write_vectored;
    let _: fn(std::os::unix::net::UnixStream) -> io::Result<UnixStream> = UnixStream::from_std;
    let _: fn(UnixStream) -> io::Result<std::os::unix::net::UnixStream> = UnixStream::into_std;
    let _: fn() -> io::Result<(UnixStream, UnixStream)> = UnixStream::pair;
    let _: fn(&UnixStream) -> io::Result<SocketAddr> = UnixStream::local_addr;
    let _: fn(&UnixStream) -> io::Result<SocketAddr> = UnixStream::peer_addr;
    let _: fn(&UnixStream) -> io::Result<UCred> = UnixStream::peer_cred;
    let _: fn(&UnixStream) -> io::Result<Option<io::Error>> = UnixStream::take_error;
    let _: fn(&mut UnixStream) -> (ReadHalf<'_>, WriteHalf<'_>) = UnixStream::split;
    let _: fn(UnixStream) -> (OwnedReadHalf, OwnedWriteHalf) = UnixStream::into_split;
    let _: fn(std::os::unix::net::UnixStream) -> Result<UnixStream, io::Error> =
        UnixStream::try_from;
    fn try_io(s: &UnixStream) -> io::Result<u8> {
        s.try_io(Interest::WRITABLE, || Ok(1u8))
    }
    let _ = try_io;
    fn traits<T: AsyncRead + AsyncWrite + AsRawFd + AsFd + AsRef<T>>() {}
    traits::<UnixStream>();
    assert_send_sync_debug::<UnixStream>();
}

async fn unix_listener_async(l: &UnixListener) -> io::Result<()> {
    let _: (UnixStream, SocketAddr) = l.accept().await?;
    Ok(())
}

fn unix_listener_sync() {
    let _: fn(&'static str) -> io::Result<UnixListener> = UnixListener::bind::<&'static str>;
    let _: fn(&SocketAddr) -> io::Result<UnixListener> = UnixListener::bind_addr;
    let _: fn(std::os::unix::net::UnixListener) -> io::Result<UnixListener> =
        UnixListener::from_std;
    let _: fn(UnixListener) -> io::Result<std::os::unix::net::UnixListener> =
        UnixListener::into_std;
    let _: fn(&UnixListener) -> io::Result<SocketAddr> = UnixListener::local_addr;
    let _: fn(&UnixListener) -> io::Result<Option<io::Error>> = UnixListener::take_error;
    let _: fn(&UnixListener, &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> =
        UnixListener::poll_accept;
    let _: fn(std::os::unix::net::UnixListener) -> Result<UnixListener, io::Error> =
        UnixListener::try_from;
    fn traits<T: AsRawFd + AsFd>() {}
    traits::<UnixListener>();
    assert_send_sync_debug::<UnixListener>();
}

async fn unix_socket_async(s: UnixSocket, p: &Path) -> io::Result<()> {
    let _: UnixStream = s.connect(p).await?;
    Ok(())
}

fn unix_socket_sync() {
    let _: fn() -> io::Result<UnixSocket> = UnixSocket::new_datagram;
    let _: fn() -> io::Result<UnixSocket> = UnixSocket::new_stream;
    fn bind(s: &UnixSocket, p: &str) -> io::Result<()> {
        s.bind(p)
    }
    let _ = bind;
    let _: fn(UnixSocket, u32) -> io::Result<UnixListener> = UnixSocket::listen;
    let _: fn(UnixSocket) -> io::Result<UnixDatagram> = UnixSocket::datagram;
    fn traits<T: AsRawFd + AsFd + FromRawFd + IntoRawFd>() {}
    traits::<UnixSocket>();
    assert_send_sync_debug::<UnixSocket>();
}

async fn halves_async(
    r: &ReadHalf<'_>,
    w: &WriteHalf<'_>,
    or: &OwnedReadHalf,
    ow: &OwnedWriteHalf,
) -> io::Result<()> {
    let _: Ready = r.ready(Interest::READABLE).await?;
    let _: () = r.readable().await?;
    let _: Ready = w.ready(Interest::WRITABLE).await?;
    let _: () = w.writable().await?;
    let _: Ready = or.ready(Interest::READABLE).await?;
    let _: () = or.readable().await?;
    let _: Ready = ow.ready(Interest::WRITABLE).await?;
    let _: () = ow.writable().await?;
    Ok(())
}

fn halves_sync() {
    let _: fn(&ReadHalf<'static>, &mut [u8]) -> io::Result<usize> = ReadHalf::<'static>::try_read;
    let _: fn(&ReadHalf<'static>, &mut Vec<u8>) -> io::Result<usize> =
        ReadHalf::<'static>::try_read_buf::<Vec<u8>>;
    let _: for<'a> fn(&ReadHalf<'static>, &mut [IoSliceMut<'a>]) -> io::Result<usize> =
        ReadHalf::<'static>::try_read_vectored;
    let _: fn(&ReadHalf<'static>) -> io::Result<SocketAddr> = ReadHalf::<'static>::peer_addr;
    let _: fn(&ReadHalf<'static>) -> io::Result<SocketAddr> = ReadHalf::<'static>::local_addr;
    let _: fn(&WriteHalf<'static>, &[u8]) -> io::Result<usize> = WriteHalf::<'static>::try_write;
    let _: for<'a> fn(&WriteHalf<'static>, &[IoSlice<'a>]) -> io::Result<usize> =
        WriteHalf::<'static>::try_write_vectored;
    let _: fn(&WriteHalf<'static>) -> io::Result<SocketAddr> = WriteHalf::<'static>::peer_addr;
    let _: fn(&WriteHalf<'static>) -> io::Result<SocketAddr> = WriteHalf::<'static>::local_addr;
    let _: fn(OwnedReadHalf, OwnedWriteHalf) -> Result<UnixStream, ReuniteError> =
        OwnedReadHalf::reunite;
    let _: fn(&OwnedReadHalf, &mut [u8]) -> io::Result<usize> = OwnedReadHalf::try_read;
    let _: fn(&OwnedReadHalf, &mut Vec<u8>) -> io::Result<usize> =
        OwnedReadHalf::try_read_buf::<Vec<u8>>;
    let _: for<'a> fn(&OwnedReadHalf, &mut [IoSliceMut<'a>]) -> io::Result<usize> =
        OwnedReadHalf::try_read_vectored;
    let _: fn(&OwnedReadHalf) -> io::Result<SocketAddr> = OwnedReadHalf::peer_addr;
    let _: fn(&OwnedReadHalf) -> io::Result<SocketAddr> = OwnedReadHalf::local_addr;
    let _: fn(OwnedWriteHalf, OwnedReadHalf) -> Result<UnixStream, ReuniteError> =
        OwnedWriteHalf::reunite;
    let _: fn(OwnedWriteHalf) = OwnedWriteHalf::forget;
    let _: fn(&OwnedWriteHalf, &[u8]) -> io::Result<usize> = OwnedWriteHalf::try_write;
    let _: for<'a> fn(&OwnedWriteHalf, &[IoSlice<'a>]) -> io::Result<usize> =
        OwnedWriteHalf::try_write_vectored;
    let _: fn(&OwnedWriteHalf) -> io::Result<SocketAddr> = OwnedWriteHalf::peer_addr;
    let _: fn(&OwnedWriteHalf) -> io::Result<SocketAddr> = OwnedWriteHalf::local_addr;
    fn read_half<T: AsyncRead + AsRef<UnixStream> + Debug + Unpin>() {}
    fn write_half<T: AsyncWrite + AsRef<UnixStream> + Debug + Unpin>() {}
    read_half::<ReadHalf<'_>>();
    read_half::<OwnedReadHalf>();
    write_half::<WriteHalf<'_>>();
    write_half::<OwnedWriteHalf>();
    assert_send_sync_debug::<OwnedReadHalf>();
    assert_send_sync_debug::<OwnedWriteHalf>();
    fn error<T: std::error::Error + Display + Debug + Send + Sync>() {}
    error::<ReuniteError>();
    let _ = |e: ReuniteError| -> (OwnedReadHalf, OwnedWriteHalf) { (e.0, e.1) };
}

fn unix_module() {
    let _: fn(&SocketAddr) -> bool = SocketAddr::is_unnamed;
    let _: fn(&SocketAddr) -> Option<&Path> = SocketAddr::as_pathname;
    let _: fn(&SocketAddr) -> Option<&[u8]> = SocketAddr::as_abstract_name;
    let _: fn(&UCred) -> uid_t = UCred::uid;
    let _: fn(&UCred) -> gid_t = UCred::gid;
    let _: fn(&UCred) -> Option<pid_t> = UCred::pid;
    fn ucred<T: Copy + Clone + Eq + PartialEq + std::hash::Hash + Debug + Send + Sync>() {}
    ucred::<UCred>();
    fn addr<
        T: Clone + Debug + From<std::os::unix::net::SocketAddr> + Into<std::os::unix::net::SocketAddr>,
    >() {
    }
    addr::<SocketAddr>();
    let _: (uid_t, gid_t, pid_t) = (0u32, 0u32, 0i32);
}

async fn pipe_async(tx: &Sender, rx: &Receiver) -> io::Result<()> {
    let _: Ready = tx.ready(Interest::WRITABLE).await?;
    let _: () = tx.writable().await?;
    let _: Ready = rx.ready(Interest::READABLE).await?;
    let _: () = rx.readable().await?;
    Ok(())
}

fn pipe_sync() {
    let _: fn() -> io::Result<(Sender, Receiver)> = pipe::pipe;
    let _: fn() -> pipe::OpenOptions = pipe::OpenOptions::new;
    let _: fn(&mut pipe::OpenOptions, bool) -> &mut pipe::OpenOptions =
        pipe::OpenOptions::read_write;
    let _: fn(&mut pipe::OpenOptions, bool) -> &mut pipe::OpenOptions =
        pipe::OpenOptions::unchecked;
    let _: fn(&pipe::OpenOptions, &'static str) -> io::Result<Receiver> =
        pipe::OpenOptions::open_receiver::<&'static str>;
    let _: fn(&pipe::OpenOptions, &'static str) -> io::Result<Sender> =
        pipe::OpenOptions::open_sender::<&'static str>;
    fn options<T: Clone + Debug + Default + Send + Sync>() {}
    options::<pipe::OpenOptions>();

    let _: fn(File) -> io::Result<Sender> = Sender::from_file;
    let _: fn(OwnedFd) -> io::Result<Sender> = Sender::from_owned_fd;
    let _: fn(File) -> io::Result<Sender> = Sender::from_file_unchecked;
    let _: fn(OwnedFd) -> io::Result<Sender> = Sender::from_owned_fd_unchecked;
    let _: fn(&Sender, &mut Context<'_>) -> Poll<io::Result<()>> = Sender::poll_write_ready;
    let _: fn(&Sender, &[u8]) -> io::Result<usize> = Sender::try_write;
    let _: for<'a> fn(&Sender, &[IoSlice<'a>]) -> io::Result<usize> = Sender::try_write_vectored;
    let _: fn(Sender) -> io::Result<OwnedFd> = Sender::into_blocking_fd;
    let _: fn(Sender) -> io::Result<OwnedFd> = Sender::into_nonblocking_fd;
    fn sender_try_io(tx: &Sender) -> io::Result<u8> {
        tx.try_io(|| Ok(1u8))
    }
    let _ = sender_try_io;
    fn sender<T: AsyncWrite + AsRawFd + AsFd + Debug + Send + Sync + Unpin>() {}
    sender::<Sender>();

    let _: fn(File) -> io::Result<Receiver> = Receiver::from_file;
    let _: fn(OwnedFd) -> io::Result<Receiver> = Receiver::from_owned_fd;
    let _: fn(File) -> io::Result<Receiver> = Receiver::from_file_unchecked;
    let _: fn(OwnedFd) -> io::Result<Receiver> = Receiver::from_owned_fd_unchecked;
    let _: fn(&Receiver, &mut Context<'_>) -> Poll<io::Result<()>> = Receiver::poll_read_ready;
    let _: fn(&Receiver, &mut [u8]) -> io::Result<usize> = Receiver::try_read;
    let _: for<'a> fn(&Receiver, &mut [IoSliceMut<'a>]) -> io::Result<usize> =
        Receiver::try_read_vectored;
    let _: fn(&Receiver, &mut Vec<u8>) -> io::Result<usize> = Receiver::try_read_buf::<Vec<u8>>;
    let _: fn(Receiver) -> io::Result<OwnedFd> = Receiver::into_blocking_fd;
    let _: fn(Receiver) -> io::Result<OwnedFd> = Receiver::into_nonblocking_fd;
    fn receiver_try_io(rx: &Receiver) -> io::Result<u8> {
        rx.try_io(|| Ok(1u8))
    }
    let _ = receiver_try_io;
    fn receiver<T: AsyncRead + AsRawFd + AsFd + Debug + Send + Sync + Unpin>() {}
    receiver::<Receiver>();
}

#[test]
fn every_tokio_unix_item_is_there() {
    // Type-checked above; nothing needs to run.
    let _ = (
        unix_stream_sync,
        unix_listener_sync,
        unix_socket_sync,
        halves_sync,
        unix_module,
        pipe_sync,
    );
    let _ = (
        unix_stream_async,
        unix_listener_async,
        unix_socket_async,
        halves_async,
        pipe_async,
    );
}
