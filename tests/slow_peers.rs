//! Bounded resources under slow and dead peers: a dropped stream leaves its
//! unsent bytes to the kernel (as Tokio's) and pins no fd; a peer that
//! never reads cannot grow shardio's memory; a stalled reader cannot drain
//! its ring's shared receive pool; `metrics()` counts what is held.
//!
//! The tests read process-wide figures (fds, RSS, metrics), so they run
//! one at a time when the harness runs tests in threads (`cargo test`).
//! Every wait is bounded: a hang fails the test.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use shardio::net::{TcpListener, TcpStream};
use shardio::{BuilderExt, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A shardio runtime on one thread: one ring for every stream.
fn one_ring_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .shardio(Config::default())
        .build()
        .expect("runtime")
}

/// A plain Tokio runtime (epoll) for the peers, on its own thread.
fn peer_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("peer runtime")
}

/// Bounds a test's async part: a hang fails instead of blocking the suite.
async fn bounded<T>(secs: u64, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .unwrap_or_else(|_| panic!("timed out after {secs} s"))
}

/// Polls `cond` every few milliseconds (letting the runtime reap) until it
/// holds; fails after 10 s, naming `what`.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Byte `p` of every test stream is `p % 251`.
fn stream_bytes(from: usize, len: usize) -> Vec<u8> {
    (from..from + len).map(|p| (p % 251) as u8).collect()
}

fn check_stream_bytes(from: usize, got: &[u8]) {
    if let Some(i) = got
        .iter()
        .enumerate()
        .position(|(i, &b)| usize::from(b) != (from + i) % 251)
    {
        panic!("byte {} of the stream is wrong", from + i);
    }
}

fn metrics() -> shardio::Metrics {
    shardio::metrics()
}

/// Open sockets of this process.
fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
        })
        .count()
}

/// Open fds of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// The process's resident set (`VmRSS`), in bytes.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/self/status");
    let kib: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmRSS value");
    kib * 1024
}

/// Sends the test pattern (from stream position `sent`) until the peer has
/// taken nothing more for `quiet`; returns the stream and the position.
async fn send_until_pushed_back(
    mut stream: tokio::net::TcpStream,
    mut sent: usize,
    quiet: Duration,
) -> io::Result<(tokio::net::TcpStream, usize)> {
    let chunk = stream_bytes(0, 64 * 1024 + 251);
    loop {
        let at = sent % 251;
        match tokio::time::timeout(quiet, stream.write(&chunk[at..at + 64 * 1024])).await {
            Ok(n) => sent += n?,
            Err(_) => return Ok((stream, sent)),
        }
    }
}

/// The writing end of a connection, shardio's or Tokio's, for the tests
/// that compare the two.
enum Writer {
    Shardio(TcpStream),
    Tokio(tokio::net::TcpStream),
}

impl Writer {
    async fn connect(shardio: bool, addr: SocketAddr) -> io::Result<Writer> {
        Ok(if shardio {
            Writer::Shardio(TcpStream::connect(addr).await?)
        } else {
            Writer::Tokio(tokio::net::TcpStream::connect(addr).await?)
        })
    }

    fn sock(&self) -> socket2::SockRef<'_> {
        match self {
            Writer::Shardio(s) => socket2::SockRef::from(s),
            Writer::Tokio(s) => socket2::SockRef::from(s),
        }
    }

    /// Writes the test pattern until the socket's send buffer is full (a
    /// write says `WouldBlock`): bytes are then queued in the kernel that
    /// the peer has not received. Returns how many bytes the kernel took.
    fn fill(&self) -> io::Result<usize> {
        let chunk = stream_bytes(0, 64 * 1024 + 251);
        let mut sent = 0;
        loop {
            let at = sent % 251;
            let res = match self {
                Writer::Shardio(s) => s.try_write(&chunk[at..at + 64 * 1024]),
                Writer::Tokio(s) => s.try_write(&chunk[at..at + 64 * 1024]),
            };
            match res {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(sent),
                Err(e) => return Err(e),
            }
            assert!(sent < 1 << 30, "a socket took 1 GiB without pushing back");
        }
    }
}

/// The bytes a peer read, and how its reading ended.
type PeerRead = std::thread::JoinHandle<(Vec<u8>, io::Result<()>)>;

/// A peer that does not read until told to: a std socket accepted from
/// `listener`, read to the end on its own thread once `go` fires.
fn lazy_peer(listener: std::net::TcpListener) -> (std::sync::mpsc::Sender<()>, PeerRead) {
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().expect("accept");
        peer.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        let _ = wait.recv();
        let mut got = Vec::new();
        let end = peer.read_to_end(&mut got).map(drop);
        (got, end)
    });
    (go, reader)
}

fn small_rcvbuf_listener() -> io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    // Inherited by the accepted socket: a small window, so most of what
    // the writer sends stays queued on the writer's side.
    socket2::SockRef::from(&listener).set_recv_buffer_size(16 * 1024)?;
    Ok(listener)
}

/// What a peer saw of a writer dropped with unsent bytes, for shardio's
/// stream and Tokio's side by side: every byte the kernel took arrives,
/// then end of stream (the kernel owns the send queue after the drop); with
/// `set_zero_linger` the drop resets the connection instead (fewer bytes,
/// then `ECONNRESET`); a linger time set reads back from the fd.
#[test]
fn a_dropped_stream_leaves_its_unsent_bytes_to_the_kernel_like_tokios() {
    let _serial = serial();
    let rt = one_ring_runtime();
    for shardio in [true, false] {
        let who = if shardio { "shardio" } else { "Tokio" };
        for zero_linger in [false, true] {
            let listener = small_rcvbuf_listener().expect("listener");
            let addr = listener.local_addr().expect("addr");
            let (go, peer) = lazy_peer(listener);
            let sent = rt
                .block_on(bounded(20, async {
                    let writer = Writer::connect(shardio, addr).await?;
                    let sent = writer.fill()?;
                    assert!(sent > 0);
                    if zero_linger {
                        match &writer {
                            Writer::Shardio(s) => s.set_zero_linger()?,
                            Writer::Tokio(s) => s.set_zero_linger()?,
                        }
                        assert_eq!(writer.sock().linger()?, Some(Duration::ZERO));
                    }
                    drop(writer);
                    io::Result::Ok(sent)
                }))
                .expect("writer");
            go.send(()).expect("peer thread");
            let (got, end) = peer.join().expect("peer thread");
            check_stream_bytes(0, &got);
            if zero_linger {
                let err = end.expect_err("a reset, not an end of stream");
                assert_eq!(
                    err.kind(),
                    io::ErrorKind::ConnectionReset,
                    "{who}, zero linger: {err}"
                );
                assert!(
                    got.len() < sent,
                    "{who}, zero linger: the peer got all {sent} bytes; the queued ones \
                     should have been discarded"
                );
            } else {
                end.unwrap_or_else(|e| panic!("{who}: the peer's read failed: {e}"));
                assert_eq!(
                    got.len(),
                    sent,
                    "{who}: bytes the kernel took before the drop"
                );
            }
            println!(
                "{who}, zero linger {zero_linger}: the kernel took {sent} bytes, the peer got {}",
                got.len()
            );
        }
    }

    // SO_LINGER with a time: set through the stream, read back from its fd.
    rt.block_on(bounded(20, async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let stream = TcpStream::connect(listener.local_addr()?).await?;
        assert_eq!(stream.linger()?, None);
        #[allow(deprecated)]
        stream.set_linger(Some(Duration::from_secs(3)))?;
        assert_eq!(
            socket2::SockRef::from(&stream).linger()?,
            Some(Duration::from_secs(3))
        );
        assert_eq!(stream.linger()?, Some(Duration::from_secs(3)));
        #[allow(deprecated)]
        stream.set_linger(None)?;
        assert_eq!(socket2::SockRef::from(&stream).linger()?, None);
        io::Result::Ok(())
    }))
    .expect("linger");
}

/// Polls `fut` once: whether it is still waiting.
async fn pending_once<F: std::future::Future + Unpin>(fut: &mut F) -> bool {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(std::pin::Pin::new(&mut *fut).poll(cx).is_pending())
    })
    .await
}

/// Hundreds of streams dropped in the states slow and dead peers leave
/// them in (a read waiting, the send buffer full and a write waiting for
/// room, received bytes nobody read; dropped first or second, reset or
/// closed) pin no fd: once the runtime has reaped, the process has the fds
/// it had before, no operation is left orphaned, and no received byte is
/// still held.
#[test]
fn dropped_streams_pin_no_fd() {
    let _serial = serial();
    let rt = one_ring_runtime();
    rt.block_on(bounded(60, async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        socket2::SockRef::from(&listener).set_recv_buffer_size(16 * 1024)?;
        let addr = listener.local_addr()?;
        let mut fds_before = 0;
        let sockets_before = open_sockets();
        let mut before = metrics();
        for i in 0..301 {
            if i == 1 {
                // After one round, the ring and its fds exist.
                fds_before = open_fds();
                before = metrics();
            }
            let mut client = TcpStream::connect(addr).await?;
            socket2::SockRef::from(&client).set_send_buffer_size(64 * 1024)?;
            let (mut server, _) = listener.accept().await?;
            // The client's receive is armed: a read waits.
            let mut byte = [0u8; 1];
            assert!(pending_once(&mut Box::pin(client.read(&mut byte))).await);
            // Its send buffer is full, and a write waits for room.
            let chunk = stream_bytes(0, 64 * 1024);
            let mut sent = 0;
            loop {
                match client.try_write(&chunk) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            assert!(pending_once(&mut Box::pin(client.write_all(&chunk))).await);
            // The server took a few bytes; the rest it holds unread.
            let mut first = [0u8; 100];
            server.read_exact(&mut first).await?;
            check_stream_bytes(0, &first);
            assert!(sent > first.len());
            if i % 2 == 0 {
                client.set_zero_linger()?;
            }
            if i % 3 == 0 {
                drop(server);
                drop(client);
            } else {
                drop(client);
                drop(server);
            }
        }
        eventually("the dropped streams' fds are closed", || {
            open_fds() <= fds_before
        })
        .await;
        let after = metrics();
        eventually("no operation is orphaned", || {
            metrics().ops_orphaned <= before.ops_orphaned
        })
        .await;
        eventually("no received byte is held", || {
            metrics().recv_bytes_held <= before.recv_bytes_held
        })
        .await;
        if !after.fallback_active {
            // The drops cancelled the receives and waits in flight.
            assert!(after.ops_cancelled >= before.ops_cancelled + 300);
        }
        println!(
            "fds: {fds_before} before, {} after; sockets {sockets_before} before, {} after; \
             cancelled {}",
            open_fds(),
            open_sockets(),
            after.ops_cancelled - before.ops_cancelled
        );
        assert_eq!(open_sockets(), sockets_before, "sockets left open");
        io::Result::Ok(())
    }))
    .expect("test");
}

/// A peer that never reads cannot make shardio hold what a writer offers:
/// `write_all` of 256 MiB stops once the kernel's socket buffers are full
/// (the process grows by far less than it offered; a stream write is a
/// `sendmsg` from the caller's buffer, nothing is copied aside), the next
/// write waits, an owned-buffer write dropped while it waits is cancelled
/// (counted in `ops_orphaned` until the kernel lets go), and the peer
/// finally receives no more than the kernel's buffers held.
#[test]
fn a_peer_that_never_reads_cannot_grow_shardios_memory() {
    let _serial = serial();
    let rt = one_ring_runtime();
    rt.block_on(bounded(60, async {
        const OFFER: usize = 256 << 20;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut writer = TcpStream::connect(listener.local_addr()?).await?;
        let (mut reader, _) = listener.accept().await?;
        // Allocated and touched before the baseline.
        let data = vec![0x5a_u8; OFFER];
        let owned = vec![0xa5_u8; 64 << 20];
        let rss_before = rss();
        let before = metrics();

        let res = tokio::time::timeout(Duration::from_secs(2), writer.write_all(&data)).await;
        assert!(
            res.is_err(),
            "write_all of {OFFER} bytes to a peer that never reads returned {res:?}"
        );
        // The next write waits for room.
        assert!(pending_once(&mut Box::pin(writer.write(&data))).await);
        let grown = rss().saturating_sub(rss_before);
        let kernel_room = socket2::SockRef::from(&writer).send_buffer_size()?
            + socket2::SockRef::from(&reader).recv_buffer_size()?;

        // An owned-buffer send waits in the kernel; dropped, it is cancelled.
        let res =
            tokio::time::timeout(Duration::from_millis(200), writer.write_all_owned(owned)).await;
        assert!(res.is_err(), "an owned write to a full socket returned");
        if !metrics().fallback_active {
            assert_eq!(
                metrics().ops_orphaned,
                before.ops_orphaned + 1,
                "the dropped send is held until the kernel cancels it"
            );
        }
        eventually("the dropped send is cancelled", || {
            metrics().ops_orphaned == before.ops_orphaned
        })
        .await;

        // What the kernel took is all the peer can read.
        drop(writer);
        let mut received = 0usize;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match reader.read(&mut buf).await? {
                0 => break,
                n => received += n,
            }
        }
        println!(
            "offered {OFFER} bytes; the kernel took {received} (its buffers: {kernel_room}); \
             RSS grew by {grown} bytes"
        );
        assert!(
            received <= kernel_room + (1 << 20),
            "{received} bytes went to a peer that never read, its buffers hold {kernel_room}"
        );
        assert!(
            grown < 16 << 20,
            "RSS grew by {grown} bytes while a peer that never reads was offered {OFFER}"
        );
        io::Result::Ok(())
    }))
    .expect("test");
}

/// One connection's reader stops while its peer keeps sending; eight other
/// connections on the same ring keep flowing, and every byte of theirs
/// arrives. The stalled one holds at most its receive limit in shardio's
/// buffers (its multishot receive stops there: `recv_limit_hits`), a
/// quarter of the ring's 4 MiB pool even with an 8 MiB socket buffer, so
/// the pool never runs dry because of it; once its reader reads again,
/// every byte arrives, in order.
#[test]
fn a_stalled_reader_cannot_drain_its_rings_receive_pool() {
    /// What one connection may hold of its ring's pool.
    const POOL_SHARE: u64 = 1 << 20;
    const WARM: usize = 16 << 20;
    const BUSY: usize = 8;
    const BUSY_BYTES: usize = 8 << 20;
    let _serial = serial();
    // Built with the fault-injection feature (CI's fault step), the same
    // under faults: enter errors and cancel requests racing the receives.
    #[cfg(feature = "fault-injection")]
    let _faults = shardio::fault::FaultPlan::new()
        .seed(17)
        .enter_errors(4)
        .cancel_races(4)
        .install()
        .expect("fault plan");
    let rt = one_ring_runtime();
    let peers = peer_runtime();
    rt.block_on(bounded(120, async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let before = metrics();

        // The stalled connection, with a large socket buffer, first carries
        // a transfer its reader keeps up with; then its reader stops.
        let warm = peers.spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            s.write_all(&stream_bytes(0, WARM)).await?;
            io::Result::Ok(s)
        });
        let (mut stalled, _) = listener.accept().await?;
        socket2::SockRef::from(&stalled).set_recv_buffer_size(4 << 20)?;
        let rcvbuf = socket2::SockRef::from(&stalled).recv_buffer_size()?;
        let mut got = vec![0u8; WARM + 1];
        let pushing = async {
            let peer = warm.await.expect("warm-up task")?;
            peers
                .spawn(send_until_pushed_back(
                    peer,
                    WARM,
                    Duration::from_millis(500),
                ))
                .await
                .expect("push task")
        };
        let (read, pushed) = tokio::join!(stalled.read_exact(&mut got), pushing);
        read?;
        check_stream_bytes(0, &got);
        let (peer, sent) = pushed?;
        let stalled_holds = metrics().recv_bytes_held - before.recv_bytes_held;
        let exhausted = metrics().recv_no_buffers - before.recv_no_buffers;
        println!(
            "stalled reader: SO_RCVBUF {rcvbuf}; its peer sent {} bytes after the reader \
             stopped; shardio holds {stalled_holds}; the pool ran dry {exhausted} times",
            sent - WARM - 1
        );

        // Eight busy connections on the same ring meanwhile.
        let mut senders = Vec::new();
        for _ in 0..BUSY {
            senders.push(peers.spawn(async move {
                let mut s = tokio::net::TcpStream::connect(addr).await?;
                s.write_all(&stream_bytes(0, BUSY_BYTES)).await?;
                s.shutdown().await
            }));
        }
        let mut readers = Vec::new();
        for _ in 0..BUSY {
            let (mut s, _) = listener.accept().await?;
            readers.push(tokio::spawn(async move {
                let mut got = Vec::with_capacity(BUSY_BYTES);
                s.read_to_end(&mut got).await?;
                assert_eq!(got.len(), BUSY_BYTES, "a busy connection's bytes");
                check_stream_bytes(0, &got);
                io::Result::Ok(())
            }));
        }
        for (sender, reader) in senders.into_iter().zip(readers) {
            sender.await.expect("busy sender")?;
            reader.await.expect("busy reader")?;
        }
        let held_after_busy = metrics().recv_bytes_held - before.recv_bytes_held;

        if !metrics().fallback_active {
            assert!(
                stalled_holds > 0,
                "the stalled connection's receive held nothing"
            );
            assert!(
                stalled_holds <= POOL_SHARE,
                "a stalled reader holds {stalled_holds} bytes of its ring's pool \
                 (SO_RCVBUF {rcvbuf}); at most {POOL_SHARE} expected"
            );
            assert_eq!(exhausted, 0, "one stalled reader ran its ring's pool dry");
            assert!(metrics().recv_limit_hits > before.recv_limit_hits);
            assert!(
                held_after_busy <= POOL_SHARE,
                "{held_after_busy} bytes held once the busy connections are done"
            );
        }

        // The stalled reader reads again: every byte, in order, then the end.
        drop(peer);
        let mut rest = Vec::new();
        stalled.read_to_end(&mut rest).await?;
        assert_eq!(
            WARM + 1 + rest.len(),
            sent,
            "bytes of the stalled connection"
        );
        check_stream_bytes(WARM + 1, &rest);
        drop(stalled);
        eventually("no received byte is held", || {
            metrics().recv_bytes_held == before.recv_bytes_held
        })
        .await;
        io::Result::Ok(())
    }))
    .expect("test");
}

/// `recv_bytes_held` counts received bytes from their arrival until their
/// reader took them (or the stream was dropped); `ops_orphaned` counts an
/// operation dropped in flight until the kernel's last completion for it.
#[test]
fn metrics_count_what_is_held() {
    let _serial = serial();
    let rt = one_ring_runtime();
    rt.block_on(bounded(30, async {
        const N: usize = 100_000;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut peer = TcpStream::connect(listener.local_addr()?).await?;
        let (mut stream, _) = listener.accept().await?;
        let before = metrics();
        let uring = !before.fallback_active;

        // Arm the receive with a first byte, then let N bytes arrive unread.
        peer.write_all(&stream_bytes(0, 1)).await?;
        let mut first = [0u8; 1];
        stream.read_exact(&mut first).await?;
        assert_eq!(metrics().recv_bytes_held, before.recv_bytes_held);
        peer.write_all(&stream_bytes(1, N)).await?;
        if uring {
            eventually("the N bytes are held", || {
                metrics().recv_bytes_held - before.recv_bytes_held == N as u64
            })
            .await;
        }
        // Half read: the rest is held (a buffer counts whole until its
        // reader took all of it: at most one 16 KiB buffer more).
        let mut half = vec![0u8; N / 2];
        stream.read_exact(&mut half).await?;
        check_stream_bytes(1, &half);
        let held = (metrics().recv_bytes_held - before.recv_bytes_held) as usize;
        if uring {
            assert!(
                (N - N / 2..=N - N / 2 + (16 << 10)).contains(&held),
                "{held} bytes held after half of {N} were read"
            );
        }
        let mut rest = vec![0u8; N - N / 2];
        stream.read_exact(&mut rest).await?;
        check_stream_bytes(1 + N / 2, &rest);
        assert_eq!(metrics().recv_bytes_held, before.recv_bytes_held);

        // Bytes that arrive for a stream dropped unread are let go. (The
        // armed receive takes what is left of its limit; the rest waits in
        // the kernel.)
        peer.write_all(&stream_bytes(0, N)).await?;
        if uring {
            eventually("bytes are held", || {
                metrics().recv_bytes_held > before.recv_bytes_held
            })
            .await;
        }
        drop(stream);
        eventually("the dropped stream's bytes are let go", || {
            metrics().recv_bytes_held == before.recv_bytes_held
        })
        .await;

        // A read dropped in flight is held until the kernel cancelled it.
        let (reader, _writer) = std::io::pipe()?;
        let file =
            shardio::fs::File::from_std(std::fs::File::from(std::os::fd::OwnedFd::from(reader)));
        let mut read = Box::pin(file.read_at(vec![0u8; 16], 0));
        assert!(pending_once(&mut read).await);
        drop(read);
        if uring {
            assert_eq!(metrics().ops_orphaned, before.ops_orphaned + 1);
        }
        eventually("the kernel let go of the dropped read", || {
            metrics().ops_orphaned == before.ops_orphaned
        })
        .await;
        io::Result::Ok(())
    }))
    .expect("test");
}
