//! shardio::net TCP types behave like Tokio's: data integrity, EOF, errors,
//! split halves, shutdown, and bytes written just before a drop still arrive.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use shardio::net::{TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "support/data.rs"]
mod data;
use data::{bounded, pattern};

async fn echo_server() -> io::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let (mut r, mut w) = socket.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
    Ok((addr, task))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_preserves_every_byte_of_many_sizes() -> io::Result<()> {
    bounded(async {
        let (addr, server) = echo_server().await?;
        for (i, len) in [1usize, 64, 4096, 65_537, 3 * 1024 * 1024]
            .into_iter()
            .enumerate()
        {
            let stream = TcpStream::connect(addr).await?;
            assert_eq!(stream.peer_addr()?, addr);
            let data = pattern(len, i as u64 + 1);
            let (mut r, mut w) = stream.into_split();
            let expected = data.clone();
            let writer = tokio::spawn(async move {
                w.write_all(&data).await?;
                w.shutdown().await?;
                io::Result::Ok(w)
            });
            let mut got = Vec::new();
            r.read_to_end(&mut got).await?;
            let w = writer.await.expect("writer")?;
            assert_eq!(got.len(), expected.len(), "length for {len}");
            assert!(got == expected, "bytes differ for {len}");
            let stream = r.reunite(w).expect("halves of one stream");
            drop(stream);
        }
        server.abort();
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_connections() -> io::Result<()> {
    bounded(async {
        let (addr, server) = echo_server().await?;
        let mut clients = Vec::new();
        for i in 0..200u64 {
            clients.push(tokio::spawn(async move {
                let mut s = TcpStream::connect(addr).await?;
                for round in 0..10u64 {
                    let msg = pattern(100 + (i as usize % 50), i * 100 + round);
                    s.write_all(&msg).await?;
                    let mut back = vec![0u8; msg.len()];
                    s.read_exact(&mut back).await?;
                    assert_eq!(back, msg);
                }
                io::Result::Ok(())
            }));
        }
        for c in clients {
            c.await.expect("client")?;
        }
        server.abort();
        Ok(())
    })
    .await
}

#[tokio::test]
async fn errors_match_tokio() -> io::Result<()> {
    bounded(async {
        // Connection refused: nothing listens on a port we just released.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        let err = TcpStream::connect(("127.0.0.1", port)).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);

        // Address in use.
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let taken = listener.local_addr()?;
        let err = std::net::TcpListener::bind(taken).map(drop).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);

        // Reset mid-read: the peer closes with unread data and SO_LINGER 0.
        let client = TcpStream::connect(taken).await?;
        let (server_side, _) = listener.accept().await?;
        server_side.set_zero_linger()?;
        drop(server_side);
        let mut client = client;
        let mut buf = [0u8; 16];
        let err = client.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);

        // Write after shutdown.
        let mut c = TcpStream::connect(taken).await?;
        let (_s, _) = listener.accept().await?;
        c.shutdown().await?;
        let err = c.write_all(b"late").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_written_before_drop_arrive_and_eof_follows() -> io::Result<()> {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let data = pattern(2 * 1024 * 1024, 7);
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await?;
            s.write_all(&sent).await?;
            // No flush, no shutdown: dropping must still deliver, then FIN.
            drop(s);
            io::Result::Ok(())
        });
        let (mut server_side, peer) = listener.accept().await?;
        assert_eq!(server_side.peer_addr()?, peer);
        let mut got = Vec::new();
        server_side.read_to_end(&mut got).await?;
        writer.await.expect("writer")?;
        assert!(got == data, "got {} of {} bytes", got.len(), data.len());
        // After EOF, reads keep returning 0.
        assert_eq!(server_side.read(&mut [0u8; 8]).await?, 0);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn socket_options_and_std_conversions() -> io::Result<()> {
    bounded(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let listener = TcpListener::from_std(std_listener)?;
        let addr = listener.local_addr()?;
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        assert!(stream.nodelay()?);
        stream.set_ttl(42)?;
        assert_eq!(stream.ttl()?, 42);
        // Deprecated as in Tokio, and still there.
        #[allow(deprecated)]
        stream.set_linger(Some(Duration::from_secs(1)))?;
        assert_eq!(stream.linger()?, Some(Duration::from_secs(1)));
        stream.set_zero_linger()?;
        assert_eq!(stream.linger()?, Some(Duration::ZERO));
        let (accepted, _) = listener.accept().await?;
        let std_stream = accepted.into_std()?;
        let mut again = TcpStream::from_std(std_stream)?;
        let mut client = stream;
        client.write_all(b"hello").await?;
        let mut buf = [0u8; 5];
        again.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"hello");
        let _listener = listener.into_std()?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_try_io_and_peek_agree() -> io::Result<()> {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (server, _) = listener.accept().await?;

        // Nothing sent yet: try_read would block.
        let mut buf = [0u8; 64];
        let err = server.try_read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);

        // Writable at once, and try_write then accepts bytes.
        client.writable().await?;
        let ready = client.ready(tokio::io::Interest::WRITABLE).await?;
        assert!(ready.is_writable());
        assert_eq!(client.try_write(b"hello ")?, 6);
        client.write_all(b"world").await?;
        client.flush().await?;

        // Peek shows bytes without consuming them.
        let n = server.peek(&mut buf).await?;
        assert!(
            n > 0 && b"hello world".starts_with(&buf[..n]),
            "peeked {:?}",
            &buf[..n]
        );

        // Readable, then try_read returns what peek saw and the rest follows.
        let mut got = Vec::new();
        while got.len() < 11 {
            server.readable().await?;
            match server.try_read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        assert_eq!(got, b"hello world");

        // End of stream: readable, and try_read returns 0. (As with Tokio,
        // readable may still be the readiness of the bytes read above, so a
        // try_read can say WouldBlock before the FIN arrives: loop.)
        client.shutdown().await?;
        let mut tail = bytes::BytesMut::with_capacity(16);
        loop {
            server.readable().await?;
            match server.try_read_buf(&mut tail) {
                Ok(n) => {
                    assert_eq!(n, 0, "nothing after the FIN");
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incoming_and_owned_buffer_io() -> io::Result<()> {
    use futures::StreamExt;
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let clients = tokio::spawn(async move {
            let mut streams = Vec::new();
            for i in 0..20u8 {
                let s = TcpStream::connect(addr).await?;
                let (res, _) = s.write_all_owned(vec![i; 3]).await;
                res?;
                streams.push(s);
            }
            io::Result::Ok(streams)
        });
        let mut incoming = listener.incoming();
        let debug = format!("{incoming:?}");
        assert!(debug.starts_with("Incoming {"), "{debug}");
        assert!(
            debug.contains(&format!("fd: {}", listener.as_raw_fd())),
            "{debug}"
        );
        let mut seen = Vec::new();
        for _ in 0..20 {
            let stream = incoming.next().await.expect("stream continues")?;
            let (res, buf) = stream.read_owned(Vec::with_capacity(8)).await;
            assert_eq!(res?, 3, "three bytes from one client write");
            assert!(buf.iter().all(|&b| b == buf[0]));
            seen.push(buf[0]);
        }
        drop(incoming);
        seen.sort_unstable();
        assert_eq!(seen, (0..20).collect::<Vec<u8>>());
        drop(clients.await.expect("clients")?);

        // Owned writes and AsyncWrite writes keep their order.
        let mut client = TcpStream::connect(addr).await?;
        let (mut conn, _) = listener.accept().await?;
        client.write_all(b"one ").await?;
        let (res, _) = client.write_all_owned(b"two ".to_vec()).await;
        res?;
        client.write_all(b"three").await?;
        client.shutdown().await?;
        let mut got = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut conn, &mut got).await?;
        assert_eq!(got, "one two three");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_socket_options_listen_and_connect() -> io::Result<()> {
    use shardio::net::TcpSocket;
    bounded(async {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        assert!(socket.reuseaddr()?);
        socket.set_reuseport(true)?;
        assert!(socket.reuseport()?);
        socket.set_recv_buffer_size(64 * 1024)?;
        assert!(socket.recv_buffer_size()? >= 64 * 1024);
        socket.bind("127.0.0.1:0".parse().expect("addr"))?;
        let addr = socket.local_addr()?;
        let listener = socket.listen(128)?;
        assert_eq!(listener.local_addr()?, addr);

        let client = TcpSocket::new_v4()?;
        client.set_nodelay(true)?;
        client.set_keepalive(true)?;
        assert!(client.keepalive()?);
        let mut stream = client.connect(addr).await?;
        assert!(stream.nodelay()?);
        let (mut server, _) = listener.accept().await?;
        stream.write_all(b"via TcpSocket").await?;
        stream.shutdown().await?;
        let mut got = String::new();
        server.read_to_string(&mut got).await?;
        assert_eq!(got, "via TcpSocket");

        // Address in use without SO_REUSEADDR/REUSEPORT.
        let taken = TcpSocket::new_v4()?;
        let err = taken
            .bind(addr)
            .and_then(|_| taken.listen(1).map(drop))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        Ok(())
    })
    .await
}

/// The net types are `Send + Sync` where Tokio's are, and so are their futures.
#[test]
fn types_are_send_and_sync_like_tokios() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<shardio::net::TcpListener>();
    send_sync::<shardio::net::TcpStream>();
    send_sync::<shardio::net::TcpSocket>();
    send_sync::<shardio::net::UdpSocket>();
    send_sync::<shardio::net::UnixListener>();
    send_sync::<shardio::net::UnixStream>();
    send_sync::<shardio::net::UnixDatagram>();
    send_sync::<shardio::net::tcp::OwnedReadHalf>();
    send_sync::<shardio::net::tcp::OwnedWriteHalf>();
    send_sync::<shardio::net::unix::OwnedReadHalf>();
    send_sync::<shardio::net::unix::OwnedWriteHalf>();
    send_sync::<shardio::fs::File>();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        send(&listener.accept());
        send(&TcpStream::connect("127.0.0.1:1"));
        send(&shardio::nop());
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_copy_writes_arrive_whole_and_in_order() -> io::Result<()> {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (mut server, _) = listener.accept().await?;
        let big = pattern(4 * 1024 * 1024, 42);
        let expected = [b"head ".as_slice(), &big, b" tail"].concat();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            server.read_to_end(&mut got).await?;
            io::Result::Ok(got)
        });
        client.write_all(b"head ").await?;
        let (res, big_back) = client.write_all_zc(big).await;
        res?;
        assert_eq!(big_back.len(), 4 * 1024 * 1024, "the buffer comes back");
        let (res, _) = client.write_all_zc(b" tail".to_vec()).await;
        res?;
        client.shutdown().await?;
        let got = reader.await.map_err(io::Error::other)??;
        assert!(
            got == expected,
            "got {} of {} bytes",
            got.len(),
            expected.len()
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_messages_on_many_connections_arrive_intact_when_read_late() -> io::Result<()> {
    // Small receives on many connections share provided buffers (incremental
    // consumption): every message is received into the ring's buffers
    // before any is read, then they are read in reverse order of accept.
    const N: u64 = 300;
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let message = |i: u64| pattern(1 + (i as usize * 37) % 3000, i + 7);
        let clients: Vec<_> = (0..N)
            .map(|i| {
                tokio::spawn(async move {
                    let mut s = tokio::net::TcpStream::connect(addr).await?;
                    s.write_all(&i.to_le_bytes()).await?;
                    s.write_all(&message(i)).await?;
                    let mut verdict = [0u8; 1];
                    s.read_exact(&mut verdict).await?;
                    assert_eq!(verdict[0], 1, "server saw message {i} intact");
                    io::Result::Ok(())
                })
            })
            .collect();
        let mut conns = Vec::new();
        for _ in 0..N {
            let (s, _) = listener.accept().await?;
            conns.push(s);
        }
        for s in &conns {
            s.readable().await?; // shardio holds this connection's bytes
        }
        for mut s in conns.into_iter().rev() {
            let mut id = [0u8; 8];
            s.read_exact(&mut id).await?;
            let i = u64::from_le_bytes(id);
            let expected = message(i);
            let mut got = vec![0u8; expected.len()];
            s.read_exact(&mut got).await?;
            assert!(got == expected, "message {i} differs");
            s.write_all(&[1]).await?;
        }
        for c in clients {
            c.await.expect("client")?;
        }
        Ok(())
    })
    .await
}

/// `read` is cancel safe, as Tokio documents for its streams: a read future
/// dropped by `select!` (or a timeout) before it completed takes no bytes
/// with it, whatever the receive path had buffered at that moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_cancelled_by_select_lose_no_bytes() -> io::Result<()> {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let data = pattern(2 * 1024 * 1024, 11);
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await?;
            // Uneven pieces with pauses: during a pause the reader catches
            // up, its read is pending, and the ticker cancels it.
            for (i, piece) in sent.chunks(7919).enumerate() {
                s.write_all(piece).await?;
                if i % 32 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            s.shutdown().await
        });
        let (mut stream, _) = listener.accept().await?;
        let mut tick = tokio::time::interval(Duration::from_micros(200));
        let (mut got, mut buf, mut cancelled) = (Vec::new(), vec![0u8; 3001], 0u32);
        loop {
            // Read first: a tick only wins when the read was polled and is
            // pending, so every counted tick dropped a pending read.
            tokio::select! {
                biased;
                n = stream.read(&mut buf) => match n? {
                    0 => break,
                    n => got.extend_from_slice(&buf[..n]),
                },
                _ = tick.tick() => cancelled += 1,
            }
        }
        writer.await.map_err(io::Error::other)??;
        assert!(
            got == data,
            "bytes lost or reordered across cancelled reads ({} of {})",
            got.len(),
            data.len()
        );
        assert!(
            cancelled > 0,
            "no read was cancelled: the test proved nothing"
        );
        Ok(())
    })
    .await
}

/// An `accept` dropped while it waits loses no connection: the connection
/// that arrives afterwards is returned by the next `accept`. (On io_uring the
/// accept the dropped call submitted stays with the listener and takes it;
/// on epoll it waits in the backlog.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_accept_loses_no_connection() -> io::Result<()> {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let res = tokio::time::timeout(Duration::from_millis(50), listener.accept()).await;
        assert!(res.is_err(), "accepted with no client");
        let mut client = TcpStream::connect(addr).await?;
        let (mut server, peer) = listener.accept().await?;
        assert_eq!(peer, client.local_addr()?);
        client.write_all(b"hi").await?;
        let mut buf = [0u8; 2];
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"hi");
        Ok(())
    })
    .await
}

/// Tokio's contract: once `write_all(..).await` returned, the kernel has
/// the bytes. Here the task then blocks its (only) thread in a std read of
/// the peer, so nothing of shardio's could still submit them: they must
/// already be in the socket (as in Tokio's own `tcp_into_std` test).
#[shardio::test]
async fn an_awaited_write_is_in_the_kernel_before_the_thread_blocks() -> io::Result<()> {
    use std::io::Read;
    use tokio::io::AsyncWriteExt;

    let listener = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let connecting = tokio::spawn(async move { shardio::net::TcpStream::connect(addr).await });
    let (accepted, _) = listener.accept().await?;
    let mut peer = accepted.into_std()?;
    peer.set_nonblocking(false)?;
    // A failure is a timeout error here, not a hang.
    peer.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut client = connecting.await.expect("connect task")?;
    for round in 0..3u8 {
        let message = [b'a' + round; 5];
        client.write_all(&message).await?;
        let mut got = [0u8; 5];
        peer.read_exact(&mut got)?;
        assert_eq!(got, message);
    }
    Ok(())
}

/// Sends a byte pattern (byte `p` is `p % 251`) from a non-blocking std socket until the
/// peer has taken nothing more for 300 ms; returns how many bytes went.
async fn send_until_pushed_back(
    addr: std::net::SocketAddr,
) -> io::Result<(std::net::TcpStream, usize)> {
    use std::io::Write;
    let mut client = std::net::TcpStream::connect(addr)?;
    client.set_nonblocking(true)?;
    // Byte `p` of the stream is `p % 251`, whatever the writes' sizes.
    let pattern: Vec<u8> = (0..64 * 1024 + 251).map(|i| (i % 251) as u8).collect();
    let mut sent = 0usize;
    let mut idle_since = std::time::Instant::now();
    while idle_since.elapsed() < Duration::from_millis(300) {
        let at = sent % 251;
        match client.write(&pattern[at..at + 64 * 1024]) {
            Ok(n) => {
                sent += n;
                idle_since = std::time::Instant::now();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Ok((client, sent))
}

/// A reader that stops reading pushes back on its peer as with Tokio:
/// shardio keeps at most about a socket buffer's worth of received bytes
/// for it (its receive pauses past that, and the rest waits in the kernel),
/// so the sender stops after about as many bytes as against a Tokio reader,
/// instead of draining the ring's shared buffers. Then every byte still
/// arrives, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_pushes_back_on_its_peer_like_tokio() -> io::Result<()> {
    // Against Tokio's reader.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let accepting = tokio::spawn(async move { listener.accept().await });
    let sending = tokio::spawn(send_until_pushed_back(addr));
    let (mut server, _) = accepting.await.expect("accept task")?;
    let mut first = [0u8; 1];
    server.read_exact(&mut first).await?;
    let (_tokio_client, tokio_sent) = sending.await.expect("send task")?;
    drop(server);

    // Against shardio's: it reads once (arming its receive), then stops.
    let hits_before = shardio::metrics().recv_limit_hits;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let accepting = tokio::spawn(async move { listener.accept().await });
    let sending = tokio::spawn(send_until_pushed_back(addr));
    let (mut server, _) = accepting.await.expect("accept task")?;
    let mut first = [0u8; 1];
    server.read_exact(&mut first).await?;
    let (client, shardio_sent) = sending.await.expect("send task")?;
    let limit = 2 * socket2::SockRef::from(&server).recv_buffer_size()? + (512 << 10);
    assert!(
        shardio_sent <= tokio_sent + limit,
        "a stalled shardio reader let its peer send {shardio_sent} bytes, \
         {tokio_sent} with Tokio (allowed: {limit} more)"
    );
    // Every byte arrives, in order, once the reader reads again.
    drop(client);
    let mut rest = Vec::new();
    server.read_to_end(&mut rest).await?;
    assert_eq!(rest.len() + 1, shardio_sent);
    for (i, b) in std::iter::once(first[0]).chain(rest).enumerate() {
        assert_eq!(usize::from(b), i % 251, "byte {i}");
    }
    if !shardio::metrics().fallback_active {
        // The receive stopped at its limit and was re-armed as the reader
        // took the bytes.
        assert!(shardio::metrics().recv_limit_hits > hits_before);
    }
    Ok(())
}

/// `into_std` after reads stops shardio's receive first: what the peer
/// sends afterwards reaches the std socket, not a receive left armed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn into_std_hands_over_a_socket_shardio_no_longer_reads() -> io::Result<()> {
    use std::io::Read;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let mut client = TcpStream::connect(listener.local_addr()?).await?;
    let (mut server, _) = listener.accept().await?;
    client.write_all(b"hello").await?;
    let mut got = [0u8; 5];
    server.read_exact(&mut got).await?;
    assert_eq!(&got, b"hello");
    let mut std_server = server.into_std()?;
    std_server.set_nonblocking(false)?;
    std_server.set_read_timeout(Some(Duration::from_secs(10)))?;
    client.write_all(b"world").await?;
    let mut got = [0u8; 5];
    tokio::task::spawn_blocking(move || std_server.read_exact(&mut got).map(|()| got))
        .await
        .expect("reader")
        .map(|got| assert_eq!(&got, b"world"))
}

/// Bytes shardio received but nobody read are never dropped by `into_std`:
/// either the call fails and says how many, or (not yet received) the std
/// socket reads them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn into_std_never_drops_received_bytes() -> io::Result<()> {
    use std::io::Read;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let mut client = TcpStream::connect(listener.local_addr()?).await?;
    let (mut server, _) = listener.accept().await?;
    client.write_all(b"0123456789").await?;
    let mut first = [0u8; 3];
    server.read_exact(&mut first).await?;
    assert_eq!(&first, b"012");
    match server.into_std() {
        Err(e) => {
            let text = e.to_string();
            assert!(text.contains("7 bytes"), "{text}");
        }
        Ok(mut std_server) => {
            std_server.set_nonblocking(false)?;
            std_server.set_read_timeout(Some(Duration::from_secs(10)))?;
            let rest = tokio::task::spawn_blocking(move || {
                let mut rest = [0u8; 7];
                std_server.read_exact(&mut rest).map(|()| rest)
            })
            .await
            .expect("reader")?;
            assert_eq!(&rest, b"3456789");
        }
    }
    Ok(())
}

/// Tokio 1.54's newer TCP items: socket options, `TryFrom`, halves with
/// `peek`/readiness/`AsRef`, and `try_io` writing with a raw `send` after
/// shardio's own write.
#[tokio::test]
async fn new_tokio_items_options_halves_and_try_io() -> io::Result<()> {
    use shardio::net::TcpSocket;
    use tokio::io::Interest;
    bounded(async {
        let listener = TcpListener::try_from(std::net::TcpListener::bind("127.0.0.1:0")?)?;
        let addr = listener.local_addr()?;
        let socket = TcpSocket::new_v4()?;
        socket.set_tos_v4(0x10)?;
        assert_eq!(socket.tos_v4()?, 0x10);
        socket.set_zero_linger()?;
        assert_eq!(socket.linger()?, Some(Duration::ZERO));
        assert_eq!(socket.device()?, None);
        let mut client = socket.connect(addr).await?;
        client.set_quickack(true)?;
        let _ = client.quickack()?;
        assert!(client.take_error()?.is_none());
        let (server, _) = listener.accept().await?;

        // shardio's write, then the caller's own send: in order.
        client.write_all(b"one,").await?;
        let n = client
            .async_io(Interest::WRITABLE, || {
                // SAFETY: a valid buffer and the stream's open fd.
                let n = unsafe {
                    libc::send(
                        client.as_raw_fd(),
                        b"two".as_ptr().cast(),
                        3,
                        libc::MSG_NOSIGNAL,
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            })
            .await?;
        assert_eq!(n, 3);

        let (mut r, w) = server.into_split();
        let mut buf = [0u8; 7];
        let mut seen = 0;
        while seen < 7 {
            seen = r.peek(&mut buf).await?;
        }
        assert_eq!(&buf, b"one,two");
        assert_eq!(r.local_addr()?, w.local_addr()?);
        assert_eq!(
            AsRef::<TcpStream>::as_ref(&r).peer_addr()?,
            client.local_addr()?
        );
        let mut got = [0u8; 7];
        r.read_exact(&mut got).await?;
        assert_eq!(&got, b"one,two");
        w.writable().await?;
        w.try_write(b"ok")?;
        let (cr, _cw) = client.split();
        cr.readable().await?;
        let mut two = [0u8; 2];
        let mut got = 0;
        while got < 2 {
            cr.readable().await?;
            if let Ok(n) = cr.try_read(&mut two[got..]) {
                got += n;
            }
        }
        assert_eq!(&two, b"ok");
        assert!(r.reunite(w).is_ok());
        Ok(())
    })
    .await
}

/// Tokio's read readiness: an accepted stream counts as readable until a
/// read finds nothing; then it is not, until bytes arrive.
#[shardio::test]
async fn readable_until_a_read_finds_nothing_like_tokio() -> io::Result<()> {
    use futures::FutureExt;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let mut client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    assert!(
        server.readable().now_or_never().is_some(),
        "assumed readable"
    );
    let mut buf = [0u8; 16];
    let err = server.try_read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    assert!(
        server.readable().now_or_never().is_none(),
        "a read found nothing"
    );
    client.write_all(b"later").await?;
    tokio::time::timeout(Duration::from_secs(10), server.readable())
        .await
        .expect("readable once bytes arrive")?;
    let n = server.try_read(&mut buf)?;
    assert_eq!(&buf[..n], b"later");
    Ok(())
}
