//! The parts of shardio::net::UnixDatagram added for Tokio parity (issue
//! 18): readiness polls, receives into a `BufMut` with the sender's
//! address, `poll_send_to`, `try_io` / `async_io`.

use std::future::poll_fn;
use std::io;
use std::os::fd::AsRawFd;
use std::task::Poll;
use std::time::Duration;

use shardio::net::UnixDatagram;
use tokio::io::Interest;

fn sock_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("shardio-uds-dgram-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

#[tokio::test]
async fn pair_starts_writable_not_readable() -> io::Result<()> {
    let (a, b) = UnixDatagram::pair()?;
    assert!(
        poll_fn(|cx| Poll::Ready(a.poll_send_ready(cx)))
            .await
            .is_ready()
    );
    assert!(
        poll_fn(|cx| Poll::Ready(b.poll_recv_ready(cx)))
            .await
            .is_pending()
    );
    a.try_send(b"hi")?;
    poll_fn(|cx| b.poll_recv_ready(cx)).await?;
    let mut vec = Vec::with_capacity(16);
    assert_eq!(b.try_recv_buf(&mut vec)?, 2);
    assert_eq!(vec, b"hi");
    Ok(())
}

#[tokio::test]
async fn recv_buf_from_names_the_sender() -> io::Result<()> {
    tokio::time::timeout(Duration::from_secs(20), async {
        let server_path = sock_path("server");
        let client_path = sock_path("client");
        let server = UnixDatagram::bind(&server_path)?;
        let client = UnixDatagram::bind(&client_path)?;
        assert_eq!(
            poll_fn(|cx| client.poll_send_to(cx, b"hello", &server_path)).await?,
            5
        );
        let mut vec = Vec::new();
        let (n, addr) = server.recv_buf_from(&mut vec).await?;
        assert_eq!((n, &vec[..]), (5, &b"hello"[..]));
        assert_eq!(addr.as_pathname(), Some(client_path.as_path()));
        // An unbound sender is unnamed.
        let anon = UnixDatagram::unbound()?;
        anon.send_to(b"x", &server_path).await?;
        let mut vec = Vec::new();
        let (_, addr) = server.recv_buf_from(&mut vec).await?;
        assert!(addr.is_unnamed());
        assert_eq!(
            server.try_recv_buf_from(&mut vec).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        std::fs::remove_file(&server_path)?;
        std::fs::remove_file(&client_path)
    })
    .await
    .expect("timed out")
}

#[tokio::test]
async fn try_io_and_async_io_with_raw_calls() -> io::Result<()> {
    let (a, b) = UnixDatagram::pair()?;
    let std = std::os::unix::net::UnixDatagram::unbound()?;
    std.set_nonblocking(true)?;
    let _converted = UnixDatagram::try_from(std)?;
    let raw_recv = |buf: &mut [u8]| {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::recv(b.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    };
    let mut buf = [0u8; 8];
    let err = b
        .try_io(Interest::READABLE, || raw_recv(&mut buf))
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    let sent = a.async_io(Interest::WRITABLE, || {
        // SAFETY: the buffer is valid for reads of its length.
        let n = unsafe { libc::send(a.as_raw_fd(), b"raw".as_ptr().cast(), 3, 0) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    });
    assert_eq!(sent.await?, 3);
    let n = b
        .async_io(Interest::READABLE, || raw_recv(&mut buf))
        .await?;
    assert_eq!(&buf[..n], b"raw");
    Ok(())
}
