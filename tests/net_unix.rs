//! shardio::net Unix sockets behave like Tokio's.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use shardio::net::{UnixDatagram, UnixListener, UnixStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test timed out after 20 s")
}

fn sock_path(name: &str) -> std::path::PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "shardio-unix-{}-{}-{name}.sock",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_echo_a_mebibyte_through_split_halves() -> io::Result<()> {
    bounded(async {
        let (a, mut b) = UnixStream::pair()?;
        let data: Vec<u8> = (0..1024 * 1024).map(|i: u32| (i % 253) as u8).collect();
        let echo = tokio::spawn(async move {
            let (mut r, mut w) = b.split();
            tokio::io::copy(&mut r, &mut w).await?;
            w.shutdown().await?;
            io::Result::Ok(())
        });
        let (mut r, mut w) = a.into_split();
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            w.write_all(&sent).await?;
            w.shutdown().await?;
            io::Result::Ok(w)
        });
        let mut got = Vec::new();
        r.read_to_end(&mut got).await?;
        let w = writer.await.map_err(io::Error::other)??;
        echo.await.map_err(io::Error::other)??;
        assert!(got == data, "got {} of {} bytes", got.len(), data.len());
        let stream = r.reunite(w).expect("same stream");
        assert!(stream.peer_addr()?.is_unnamed());
        Ok(())
    })
    .await
}

#[tokio::test]
async fn listener_accepts_with_addresses_and_credentials() -> io::Result<()> {
    bounded(async {
        let path = sock_path("listener");
        let listener = UnixListener::bind(&path)?;
        assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
        let client = tokio::spawn({
            let path = path.clone();
            async move {
                let mut s = UnixStream::connect(&path).await?;
                s.write_all(b"hi").await?;
                io::Result::Ok(s)
            }
        });
        let (mut server, peer) = listener.accept().await?;
        assert!(peer.is_unnamed());
        let mut buf = [0u8; 2];
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"hi");
        let cred = server.peer_cred()?;
        // SAFETY: getuid has no preconditions.
        assert_eq!(cred.uid(), unsafe { libc::getuid() });
        assert_eq!(cred.pid(), Some(std::process::id() as i32));
        let client = client.await.map_err(io::Error::other)??;
        assert_eq!(client.peer_addr()?.as_pathname(), Some(path.as_path()));

        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        std::fs::remove_file(&path)?;
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn datagrams_pair_and_bound() -> io::Result<()> {
    bounded(async {
        let (a, b) = UnixDatagram::pair()?;
        let mut buf = [0u8; 64];
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        a.send(b"one").await?;
        let n = b.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"one");

        let path = sock_path("dgram");
        let server = UnixDatagram::bind(&path)?;
        let client_path = sock_path("dgram-client");
        let client = UnixDatagram::bind(&client_path)?;
        for i in 0..100u8 {
            client.send_to(&[i; 10], &path).await?;
            let (n, from) = server.recv_from(&mut buf).await?;
            assert_eq!(&buf[..n], &[i; 10]);
            assert_eq!(from.as_pathname(), Some(client_path.as_path()));
        }
        // A dropped receive loses no datagram.
        let res = tokio::time::timeout(Duration::from_millis(50), server.recv(&mut buf)).await;
        assert!(res.is_err());
        client.send_to(b"kept", &path).await?;
        let n = server.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"kept");
        std::fs::remove_file(&path)?;
        std::fs::remove_file(&client_path)
    })
    .await
}

/// A dropped `accept` loses no connection (see the TCP test of the same name).
#[tokio::test]
async fn dropped_accept_loses_no_connection() -> io::Result<()> {
    bounded(async {
        let path = sock_path("dropped-accept");
        let listener = UnixListener::bind(&path)?;
        let res = tokio::time::timeout(Duration::from_millis(50), listener.accept()).await;
        assert!(res.is_err(), "accepted with no client");
        let mut client = UnixStream::connect(&path).await?;
        let (mut server, _) = listener.accept().await?;
        client.write_all(b"hi").await?;
        let mut buf = [0u8; 2];
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"hi");
        std::fs::remove_file(&path)
    })
    .await
}

/// Readiness, `try_*`, `try_io`/`async_io` with raw system calls, as Tokio's.
#[tokio::test]
async fn readiness_try_io_and_async_io() -> io::Result<()> {
    use std::os::fd::AsRawFd;
    use tokio::io::Interest;
    bounded(async {
        let (a, b) = UnixStream::pair()?;
        // Through shardio's own try_* calls.
        a.writable().await?;
        assert_eq!(a.try_write(b"ping")?, 4);
        b.readable().await?;
        let mut buf = [0u8; 16];
        let mut got = 0;
        while got < 4 {
            b.readable().await?;
            match b.try_read(&mut buf[got..]) {
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        assert_eq!(&buf[..4], b"ping");
        // Through the caller's system calls: send on one end, recv on a
        // fresh pair so shardio's own receive never took bytes.
        let (c, d) = UnixStream::pair()?;
        let sent = c
            .async_io(Interest::WRITABLE, || {
                // SAFETY: a valid buffer and the stream's open fd.
                let n = unsafe { libc::send(c.as_raw_fd(), b"raw!".as_ptr().cast(), 4, 0) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            })
            .await?;
        assert_eq!(sent, 4);
        let mut raw = [0u8; 8];
        let n = d
            .async_io(Interest::READABLE, || {
                // SAFETY: a valid buffer and the stream's open fd.
                let n = unsafe {
                    libc::recv(
                        d.as_raw_fd(),
                        raw.as_mut_ptr().cast(),
                        raw.len(),
                        libc::MSG_DONTWAIT,
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            })
            .await?;
        assert_eq!(&raw[..n], b"raw!");
        // Nothing more: the closure's WouldBlock comes back from try_io.
        let err = d
            .try_io(Interest::READABLE, || {
                // SAFETY: as above.
                let n = unsafe {
                    libc::recv(
                        d.as_raw_fd(),
                        raw.as_mut_ptr().cast(),
                        raw.len(),
                        libc::MSG_DONTWAIT,
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            })
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        // Readiness was cleared: readable() now waits for the next bytes.
        let waited = tokio::time::timeout(Duration::from_millis(50), d.readable()).await;
        assert!(waited.is_err(), "readable with no bytes after WouldBlock");
        c.try_write(b"x")?;
        d.readable().await?;
        Ok(())
    })
    .await
}

/// Halves have the stream's readiness and `try_*`, addresses and `AsRef`.
#[tokio::test]
async fn halves_readiness_try_and_as_ref() -> io::Result<()> {
    bounded(async {
        let (a, mut b) = UnixStream::pair()?;
        let (ar, aw) = a.into_split();
        let (br, bw) = b.split();
        assert!(ar.local_addr()?.is_unnamed() && aw.peer_addr()?.is_unnamed());
        assert!(br.local_addr()?.is_unnamed() && bw.peer_addr()?.is_unnamed());
        aw.writable().await?;
        assert_eq!(aw.try_write(b"half")?, 4);
        let mut buf = Vec::with_capacity(8);
        while buf.len() < 4 {
            br.readable().await?;
            match br.try_read_buf(&mut buf) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        assert_eq!(buf, b"half");
        let as_ref: &UnixStream = ar.as_ref();
        assert_eq!(as_ref.peer_cred()?.uid(), aw.as_ref().peer_cred()?.uid());
        bw.try_write(b"back")?;
        let mut four = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            ar.readable().await?;
            if let Ok(n) = ar.try_read(&mut four[got..]) {
                got += n;
            }
        }
        assert_eq!(&four, b"back");
        ar.reunite(aw).expect("same stream");
        Ok(())
    })
    .await
}

/// `UnixSocket`, `bind_addr`/`connect_addr` (with an abstract name) and
/// `TryFrom` for the std types.
#[tokio::test]
async fn unix_socket_and_socket_addrs() -> io::Result<()> {
    use shardio::net::UnixSocket;
    use std::os::linux::net::SocketAddrExt;
    bounded(async {
        let path = sock_path("socket");
        let socket = UnixSocket::new_stream()?;
        socket.bind(&path)?;
        let listener = socket.listen(16)?;
        let client = UnixSocket::new_stream()?.connect(&path).await?;
        let (server, _) = listener.accept().await?;
        client.try_write(b"s")?;
        server.readable().await?;
        assert!(UnixSocket::new_stream()?.datagram().is_err());
        assert!(UnixSocket::new_datagram()?.listen(1).is_err());
        drop(UnixSocket::new_datagram()?.datagram()?);

        let name = format!("shardio-abstract-{}", std::process::id());
        let std_addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        let addr = shardio::net::unix::SocketAddr::from(std_addr);
        let listener = UnixListener::bind_addr(&addr)?;
        let mut client = UnixStream::connect_addr(&addr).await?;
        let (mut server, _) = listener.accept().await?;
        client.write_all(b"abstract").await?;
        let mut buf = [0u8; 8];
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"abstract");

        let (x, _y) = std::os::unix::net::UnixStream::pair()?;
        let _: UnixStream = UnixStream::try_from(x)?;
        std::fs::remove_file(&path)
    })
    .await
}
