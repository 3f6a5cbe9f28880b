//! shardio::net::UdpSocket behaves like Tokio's.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use shardio::net::UdpSocket;

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test timed out after 20 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_many_datagrams_with_addresses() -> io::Result<()> {
    bounded(async {
        let server = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
        let server_addr = server.local_addr()?;
        let echo = tokio::spawn({
            let server = Arc::clone(&server);
            async move {
                let mut buf = [0u8; 2048];
                for _ in 0..500 {
                    let (n, from) = server.recv_from(&mut buf).await?;
                    server.send_to(&buf[..n], from).await?;
                }
                io::Result::Ok(())
            }
        });
        let client = UdpSocket::bind("127.0.0.1:0").await?;
        client.connect(server_addr).await?;
        assert_eq!(client.peer_addr()?, server_addr);
        let mut buf = [0u8; 2048];
        for i in 0..500u32 {
            let msg = format!("datagram {i}");
            assert_eq!(client.send(msg.as_bytes()).await?, msg.len());
            let n = client.recv(&mut buf).await?;
            assert_eq!(&buf[..n], msg.as_bytes());
        }
        echo.await.map_err(io::Error::other)??;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn peek_try_and_readiness() -> io::Result<()> {
    bounded(async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let mut buf = [0u8; 64];
        let err = b.try_recv_from(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);

        a.writable().await?;
        a.try_send_to(b"first", b.local_addr()?)?;
        a.send_to(b"second", b.local_addr()?).await?;

        assert_eq!(b.peek_sender().await?, a.local_addr()?);
        let (n, from) = b.peek_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (&b"first"[..], a.local_addr()?));
        b.readable().await?;
        let (n, _) = b.try_recv_from(&mut buf)?;
        assert_eq!(&buf[..n], b"first", "peek did not consume");
        let (n, _) = b.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"second");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn dropped_recv_loses_no_datagram() -> io::Result<()> {
    bounded(async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let mut buf = [0u8; 64];
        // A receive that waits, then is dropped (the timeout wins).
        let res = tokio::time::timeout(Duration::from_millis(50), b.recv_from(&mut buf)).await;
        assert!(res.is_err(), "nothing was sent yet");
        a.send_to(b"kept", b.local_addr()?).await?;
        let (n, _) = b.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"kept");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_wait_on_one_socket() -> io::Result<()> {
    bounded(async {
        let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
        let addr = sock.local_addr()?;
        let receivers: Vec<_> = (0..8)
            .map(|_| {
                let sock = Arc::clone(&sock);
                tokio::spawn(async move {
                    let mut buf = [0u8; 16];
                    sock.recv_from(&mut buf).await.map(|(n, _)| n)
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let sender = UdpSocket::bind("127.0.0.1:0").await?;
        for _ in 0..8 {
            sender.send_to(b"x", addr).await?;
        }
        for r in receivers {
            assert_eq!(r.await.map_err(io::Error::other)??, 1);
        }
        Ok(())
    })
    .await
}

#[tokio::test]
async fn options_and_errors_like_tokio() -> io::Result<()> {
    bounded(async {
        let sock = UdpSocket::bind("127.0.0.1:0").await?;
        sock.set_broadcast(true)?;
        assert!(sock.broadcast()?);
        sock.set_ttl(33)?;
        assert_eq!(sock.ttl()?, 33);
        sock.set_multicast_ttl_v4(4)?;
        assert_eq!(sock.multicast_ttl_v4()?, 4);
        sock.set_multicast_loop_v4(false)?;
        assert!(!sock.multicast_loop_v4()?);

        let taken = std::net::UdpSocket::bind("127.0.0.1:0")?;
        let err = UdpSocket::bind(taken.local_addr()?).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);

        // A connected socket learns that nobody listens.
        let port = std::net::UdpSocket::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        sock.connect(("127.0.0.1", port)).await?;
        sock.send(b"anyone?").await?;
        let mut buf = [0u8; 8];
        let err = sock.recv(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);

        let std_sock = sock.into_std()?;
        assert!(UdpSocket::from_std(std_sock).is_ok());
        Ok(())
    })
    .await
}

/// The readiness polls, receives into a `BufMut`, peeks and `try_io` /
/// `async_io` with raw system calls, as Tokio's.
#[tokio::test]
async fn readiness_recv_buf_peek_and_raw_io() -> io::Result<()> {
    use std::future::poll_fn;
    use std::os::fd::AsRawFd;
    use std::task::Poll;
    use tokio::io::{Interest, ReadBuf};
    bounded(async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        let (a_addr, b_addr) = (a.local_addr()?, b.local_addr()?);
        // A fresh socket becomes writable (Tokio: after a driver turn;
        // shardio: at once); nothing to read yet.
        poll_fn(|cx| a.poll_send_ready(cx)).await?;
        assert!(
            poll_fn(|cx| Poll::Ready(b.poll_recv_ready(cx)))
                .await
                .is_pending()
        );
        assert_eq!(
            b.try_peek_sender().unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );

        assert_eq!(poll_fn(|cx| a.poll_send_to(cx, b"one", b_addr)).await?, 3);
        poll_fn(|cx| b.poll_recv_ready(cx)).await?;
        assert_eq!(b.try_peek_sender()?, a_addr);
        assert_eq!(poll_fn(|cx| b.poll_peek_sender(cx)).await?, a_addr);
        let mut peeked = [0u8; 8];
        assert_eq!(b.try_peek(&mut peeked)?, 3);
        let mut storage = [0u8; 8];
        let mut rb = ReadBuf::new(&mut storage);
        poll_fn(|cx| b.poll_peek(cx, &mut rb)).await?;
        assert_eq!(rb.filled(), b"one");
        let mut vec = Vec::with_capacity(64);
        assert_eq!(b.recv_buf_from(&mut vec).await?, (3, a_addr));
        assert_eq!(vec, b"one");
        assert_eq!(
            b.try_recv_buf(&mut vec).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );

        // try_io with a raw recv: WouldBlock from the kernel, then data.
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
        let sender = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            a.send_to(b"two", b_addr).await
        });
        let n = b
            .async_io(Interest::READABLE, || raw_recv(&mut buf))
            .await?;
        assert_eq!(&buf[..n], b"two");
        sender.await.map_err(io::Error::other)??;

        b.connect(a_addr).await?;
        let mut vec = Vec::new();
        assert_eq!(
            b.try_recv_buf_from(&mut vec).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn tos_tclass_device_and_try_from() -> io::Result<()> {
    let std = std::net::UdpSocket::bind("127.0.0.1:0")?;
    std.set_nonblocking(true)?;
    let s = UdpSocket::try_from(std)?;
    s.set_tos_v4(0x10)?;
    assert_eq!(s.tos_v4()?, 0x10);
    assert_eq!(s.device()?, None);
    assert!(s.take_error()?.is_none());
    if let Ok(v6) = UdpSocket::bind("[::1]:0").await {
        v6.set_tclass_v6(0x20)?;
        assert_eq!(v6.tclass_v6()?, 0x20);
    }
    let resolved: Vec<_> = shardio::net::lookup_host("127.0.0.1:53").await?.collect();
    assert_eq!(resolved, vec!["127.0.0.1:53".parse().unwrap()]);
    Ok(())
}
