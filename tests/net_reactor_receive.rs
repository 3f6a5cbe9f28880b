//! A stream whose thread parks between its receives takes them through
//! Tokio's reactor instead of the ring (`metrics().reactor_receives`):
//! every byte still arrives in order across the switch, end of stream and a
//! reset read as on Tokio, and `into_std` leaves the socket registered
//! nowhere.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::time::Duration;

use shardio::metrics;
use shardio::net::{TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "support/data.rs"]
mod data;
use data::{bounded, pattern};

/// A blocking client on its own thread: sends `rounds` messages of varying
/// sizes one at a time, each only after the previous one came back whole,
/// so the server's thread parks between its receives.
fn ping_pong_client(addr: std::net::SocketAddr, rounds: usize) -> Client {
    std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        for i in 0..rounds {
            let msg = pattern(1 + (i * 97) % 3000, i as u64);
            s.write_all(&msg)?;
            let mut back = vec![0u8; msg.len()];
            s.read_exact(&mut back)?;
            assert!(back == msg, "round {i}: the echo differs");
        }
        Ok(s)
    })
}

/// The bytes `rounds` rounds of [`ping_pong_client`] send.
fn total_bytes(rounds: usize) -> usize {
    (0..rounds).map(|i| 1 + (i * 97) % 3000).sum()
}

type Client = std::thread::JoinHandle<io::Result<std::net::TcpStream>>;

/// A server stream with a [`ping_pong_client`] of `rounds` rounds at the
/// other end, and `metrics().reactor_receives` before any of them.
async fn accept_ping_pong(rounds: usize) -> io::Result<(TcpStream, Client, u64)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = ping_pong_client(listener.local_addr()?, rounds);
    let (server, _) = listener.accept().await?;
    Ok((server, client, metrics().reactor_receives))
}

/// Sends `chunk` back, of the `left` bytes still to come.
async fn echo_back(server: &mut TcpStream, chunk: &[u8], left: &mut usize) -> io::Result<()> {
    assert!(!chunk.is_empty(), "end of stream with {left} bytes to come");
    server.write_all(chunk).await?;
    *left -= chunk.len();
    Ok(())
}

/// The reactor path was taken since `before` (on the fallback path, with
/// `SHARDIO_FORCE_FALLBACK=1`, the streams are Tokio's own: nothing to
/// count).
fn assert_reactor_taken(before: u64) {
    if metrics().fallback_active {
        return;
    }
    let after = metrics().reactor_receives;
    assert!(after > before, "the reactor path was not taken");
}

/// Echoes what `stream` receives until the peer ends it.
async fn echo(stream: &mut TcpStream) -> io::Result<u64> {
    let mut total = 0;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        stream.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

/// Ping-pong on a current-thread runtime with shardio's hooks: after a
/// window of receives with a park each, the stream's receives go through
/// the reactor, and none of the bytes is lost or reordered on the way.
#[shardio::test]
async fn a_stream_whose_thread_parks_between_receives_moves_to_the_reactor() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let rounds = 600;
    let client = ping_pong_client(listener.local_addr()?, rounds);
    let (mut server, _) = listener.accept().await?;
    let before = metrics().reactor_receives;
    let echo_task = echo(&mut server);
    let close = async {
        let s = tokio::task::spawn_blocking(move || client.join().expect("client"))
            .await
            .expect("joined")?;
        s.shutdown(std::net::Shutdown::Write)?;
        io::Result::Ok(s)
    };
    let (echoed, client) = bounded(async { tokio::join!(echo_task, close) }).await;
    let expected: u64 = (0..rounds).map(|i| 1 + (i as u64 * 97) % 3000).sum();
    assert_eq!(echoed?, expected, "bytes echoed before end of stream");
    drop(client?);
    let through_reactor = metrics().reactor_receives - before;
    assert!(
        metrics().fallback_active || through_reactor > (rounds / 2) as u64,
        "only {through_reactor} of at least {rounds} receives went through the reactor"
    );
    Ok(())
}

/// A reset peer fails the read on the reactor path with Tokio's error.
#[shardio::test]
async fn a_reset_reads_as_connection_reset_on_the_reactor_path() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = ping_pong_client(listener.local_addr()?, 300);
    let (mut server, _) = listener.accept().await?;
    let before = metrics().reactor_receives;
    let reset = async {
        let s = tokio::task::spawn_blocking(move || client.join().expect("client"))
            .await
            .expect("joined")?;
        // Linger 0: closing sends a reset.
        socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO))?;
        drop(s);
        io::Result::Ok(())
    };
    let (echoed, reset) = bounded(async { tokio::join!(echo(&mut server), reset) }).await;
    reset?;
    assert_reactor_taken(before);
    let err = echoed.expect_err("a reset peer");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    Ok(())
}

/// The file descriptors every epoll instance of this process watches.
fn watched_fds() -> Vec<i32> {
    let mut fds = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fdinfo").expect("fdinfo") {
        let Ok(text) = std::fs::read_to_string(entry.expect("entry").path()) else {
            continue;
        };
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("tfd:") {
                if let Some(fd) = rest.split_whitespace().next().and_then(|f| f.parse().ok()) {
                    fds.push(fd);
                }
            }
        }
    }
    fds
}

/// `into_std` after reactor receives: the socket is in no epoll set any
/// more, and what the peer sends next reaches the std socket.
#[shardio::test]
async fn into_std_after_reactor_receives_leaves_the_socket_registered_nowhere() -> io::Result<()> {
    let rounds = 300;
    let (mut server, client, before) = accept_ping_pong(rounds).await?;
    let mut buf = vec![0u8; 4096];
    let mut left: usize = total_bytes(rounds);
    bounded(async {
        while left > 0 {
            let n = server.read(&mut buf).await?;
            echo_back(&mut server, &buf[..n], &mut left).await?;
        }
        io::Result::Ok(())
    })
    .await?;
    assert_reactor_taken(before);
    let fd = server.as_raw_fd();
    assert!(watched_fds().contains(&fd), "the socket was not registered");
    let std_server = server.into_std()?;
    assert!(
        !watched_fds().contains(&fd),
        "into_std left the socket in an epoll set"
    );
    let mut client = tokio::task::spawn_blocking(move || client.join().expect("client"))
        .await
        .expect("joined")?;
    client.write_all(b"after")?;
    let mut std_server = std_server;
    std_server.set_nonblocking(false)?;
    std_server.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut got = [0u8; 5];
    std_server.read_exact(&mut got)?;
    assert_eq!(&got, b"after");
    Ok(())
}

/// `readable` + `try_read` and `peek` + `read` on the reactor path return
/// the bytes in order, as plain reads do.
#[shardio::test]
async fn try_read_and_peek_on_the_reactor_path_keep_the_bytes_in_order() -> io::Result<()> {
    let rounds = 300;
    let (mut server, client, before) = accept_ping_pong(rounds).await?;
    let mut left: usize = total_bytes(rounds);
    let mut buf = vec![0u8; 4096];
    bounded(async {
        let mut turn = 0;
        while left > 0 {
            turn += 1;
            let n = match turn % 3 {
                0 => {
                    server.readable().await?;
                    match server.try_read(&mut buf) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        Err(e) => return Err(e),
                    }
                }
                1 => {
                    let peeked = server.peek(&mut buf).await?;
                    let mut got = vec![0u8; peeked];
                    server.read_exact(&mut got).await?;
                    assert!(got[..] == buf[..peeked], "read differs from peek");
                    peeked
                }
                _ => server.read(&mut buf).await?,
            };
            echo_back(&mut server, &buf[..n], &mut left).await?;
        }
        io::Result::Ok(())
    })
    .await?;
    assert_reactor_taken(before);
    drop(server);
    tokio::task::spawn_blocking(move || client.join().expect("client"))
        .await
        .expect("joined")?;
    Ok(())
}
