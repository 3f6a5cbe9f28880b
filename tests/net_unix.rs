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
