//! What the tests on a shaped link share (`tests/net_classes.rs`,
//! `tests/net_receive.rs`, `tests/net_shaped.rs`, each including it with
//! `#[path]`): the link or the reason it cannot be built, a server in
//! namespace `b`, and a shardio runtime in namespace `a`.
#![allow(dead_code)] // each test file uses its own part of it

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use shardio::BuilderExt;
use shardio::net::TcpStream;
use shardio::sched::IoProperties;
use shardio_testnet::{Shape, ShapedLink};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) const RATE_MBIT: u32 = 100;
/// What TCP carries of the link's rate: 1448 payload bytes in each 1514
/// on the wire.
pub(crate) const GOODPUT: f64 = RATE_MBIT as f64 * 1e6 / 8.0 * 1448.0 / 1514.0;
/// Bytes a bulk connection writes at once.
pub(crate) const CHUNK: usize = 64 << 10;
/// An RPC: request and response sizes.
pub(crate) const RPC_REQUEST: usize = 4096;
pub(crate) const RPC_RESPONSE: usize = 64;

/// `shape`'s link, or `None` (said why) where it cannot be built: not
/// root, no iproute2, or a kernel without the qdisc. In CI (`CI` set) only
/// a kernel without the qdisc may skip (`.ci/run` runs as root and
/// installs iproute2).
pub(crate) fn shaped(shape: Shape) -> Option<ShapedLink> {
    match ShapedLink::new(shape).expect("building the shaped link") {
        Some(link) => Some(link),
        None => {
            let why = ShapedLink::unavailable().unwrap_or_default();
            if std::env::var_os("CI").is_some() && !why.contains("qdisc kind is unknown") {
                panic!("CI must be able to build a shaped link: {why}");
            }
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// The 100 Mbit/s link for the scheduling scenarios, or `None` (said why)
/// where they cannot run: no shaped link here, or sockets on the fallback
/// path, which the scheduler does not see.
pub(crate) fn link() -> Option<ShapedLink> {
    let on_fallback = current_thread().expect("runtime").block_on(async {
        let _ = shardio::nop().await;
        shardio::metrics().fallback_active
    });
    if on_fallback {
        eprintln!("skipped: sockets run on the fallback path (epoll), which is not scheduled");
        return None;
    }
    shaped(Shape::rate_mbit(RATE_MBIT))
}

pub(crate) fn current_thread() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// The server in namespace `b`: a connection's first byte says what it
/// is. `b'0' + i`: bulk upload of slot `i`, counted in `bulk[i]`; `b'R'`:
/// requests of `RPC_REQUEST` bytes, each answered with `RPC_RESPONSE`
/// bytes; `b'D'`: a download, `CHUNK`s of the [`PATTERN`] written until the
/// peer goes away; `b'P'`: a paced download (see [`PACED_WRITE`]); for
/// both, each connection's bytes written counted in `sent` (by order of
/// arrival).
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) bulk: Arc<[AtomicU64; 2]>,
    pub(crate) sent: Arc<Sent>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

/// Bytes the server wrote to each download connection, in the order the
/// connections arrived.
pub(crate) type Sent = std::sync::Mutex<Vec<Arc<AtomicU64>>>;

impl Server {
    /// In namespace `b` of `link`.
    pub(crate) fn start(link: &ShapedLink) -> Server {
        let b = link.b();
        Server::start_with(b.addr().into(), |f| b.spawn(f))
    }

    /// On loopback, in this namespace.
    pub(crate) fn local() -> Server {
        Server::start_with(std::net::Ipv4Addr::LOCALHOST.into(), |f| {
            std::thread::spawn(f)
        })
    }

    fn start_with(
        b: std::net::IpAddr,
        spawn: impl FnOnce(
            Box<dyn FnOnce() -> io::Result<()> + Send>,
        ) -> std::thread::JoinHandle<io::Result<()>>,
    ) -> Server {
        let bulk: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let sent = Arc::new(Sent::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let (counts, written, stopped) = (Arc::clone(&bulk), Arc::clone(&sent), Arc::clone(&stop));
        let thread = spawn(Box::new(move || {
            current_thread()?.block_on(async move {
                let listener = shardio::net::TcpListener::bind((b, 0)).await?;
                tx.send(listener.local_addr()?).expect("test waits");
                while !stopped.load(Relaxed) {
                    let Ok(Ok((s, _))) =
                        tokio::time::timeout(Duration::from_millis(100), listener.accept()).await
                    else {
                        continue;
                    };
                    tokio::spawn(serve(s, Arc::clone(&counts), Arc::clone(&written)));
                }
                io::Result::Ok(())
            })
        }));
        let addr = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the server in namespace b listens");
        Server {
            addr,
            bulk,
            sent,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A new download's counter in `sent`.
fn counted(sent: &Sent) -> Arc<AtomicU64> {
    let counter = Arc::new(AtomicU64::new(0));
    sent.lock()
        .expect("not poisoned")
        .push(Arc::clone(&counter));
    counter
}

async fn serve(mut s: TcpStream, counts: Arc<[AtomicU64; 2]>, sent: Arc<Sent>) {
    let mut kind = [0u8; 1];
    if s.read_exact(&mut kind).await.is_err() {
        return;
    }
    match kind[0] {
        b'R' => {
            let mut req = vec![0u8; RPC_REQUEST];
            let resp = vec![9u8; RPC_RESPONSE];
            while s.read_exact(&mut req).await.is_ok() {
                if s.write_all(&resp).await.is_err() {
                    return;
                }
            }
        }
        b'D' => {
            let counter = counted(&sent);
            let pattern: Vec<u8> = (0..CHUNK + PATTERN).map(pattern_byte).collect();
            let mut at = 0;
            while let Ok(n) = s.write(&pattern[at % PATTERN..][..CHUNK]).await {
                at += n;
                counter.fetch_add(n as u64, Relaxed);
            }
        }
        b'P' => {
            let counter = counted(&sent);
            let pattern: Vec<u8> = (0..PACED_WRITE + PATTERN).map(pattern_byte).collect();
            let mut tick = tokio::time::interval(PACED_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut at = 0;
            loop {
                tick.tick().await;
                if s.write_all(&pattern[at % PATTERN..][..PACED_WRITE])
                    .await
                    .is_err()
                {
                    break;
                }
                at += PACED_WRITE;
                counter.fetch_add(PACED_WRITE as u64, Relaxed);
            }
        }
        slot => {
            let counter = &counts[usize::from(slot - b'0')];
            let mut buf = vec![0u8; 256 << 10];
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 {
                    return;
                }
                counter.fetch_add(n as u64, Relaxed);
            }
        }
    }
}

/// A paced download (`b'P'`) writes `PACED_WRITE` bytes every
/// `PACED_EVERY`: 16 kB/s per connection.
pub(crate) const PACED_WRITE: usize = 1600;
pub(crate) const PACED_EVERY: Duration = Duration::from_millis(100);

/// A download's bytes repeat every `PATTERN` bytes (a prime, so no chunk
/// or buffer size lines up with it): byte `i` of the stream is
/// `pattern_byte(i % PATTERN)`, so a reader checks it got every byte in
/// order.
pub(crate) const PATTERN: usize = 251;

pub(crate) fn pattern_byte(i: usize) -> u8 {
    (i % PATTERN) as u8
}

/// Runs `f` on a shardio current-thread runtime in namespace `a`, with
/// `props` (or no model).
pub(crate) fn client<T: Send + 'static>(
    link: &ShapedLink,
    props: Option<IoProperties>,
    f: impl AsyncFnOnce() -> io::Result<T> + Send + 'static,
) -> T {
    let thread = link.a().spawn(move || run_client(props, f));
    thread.join().expect("client thread").expect("client")
}

/// Runs `f` on a shardio current-thread runtime on a thread of its own,
/// in this namespace.
pub(crate) fn local_client<T: Send + 'static>(
    f: impl AsyncFnOnce() -> io::Result<T> + Send + 'static,
) -> T {
    let thread = std::thread::spawn(move || run_client(None, f));
    thread.join().expect("client thread").expect("client")
}

fn run_client<T>(
    props: Option<IoProperties>,
    f: impl AsyncFnOnce() -> io::Result<T>,
) -> io::Result<T> {
    let mut config = shardio::Config::new();
    if let Some(props) = props {
        config = config.io_properties(props);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .shardio(config)
        .build()?;
    rt.block_on(f())
}

/// Bytes/s of each counter over `window`, after `warmup`.
pub(crate) async fn rates(counts: &[AtomicU64], warmup: Duration, window: Duration) -> Vec<f64> {
    tokio::time::sleep(warmup).await;
    let read = || counts.iter().map(|c| c.load(Relaxed)).collect::<Vec<_>>();
    let (t0, b0) = (Instant::now(), read());
    tokio::time::sleep(window).await;
    let (secs, b1) = (t0.elapsed().as_secs_f64(), read());
    b1.iter()
        .zip(b0)
        .map(|(b1, b0)| (b1 - b0) as f64 / secs)
        .collect()
}

pub(crate) fn mbit(bytes_per_s: f64) -> f64 {
    bytes_per_s * 8.0 / 1e6
}
