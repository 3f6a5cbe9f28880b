//! iotune's network mode (see `main.rs`): what a TCP path carries each way,
//! in bytes and in small sends, measured against `iotune --serve` on the
//! peer. Self-contained, so `tests/net_shaped.rs` runs it across a shaped
//! link.
//!
//! Each connection starts with a request: `b'S'` (sink: the peer reads to
//! end of stream, then answers with what it received and when its first and
//! last bytes came), or `b'G'`, a write size and a duration in milliseconds
//! (the peer writes that size until the time is up, then closes). Numbers
//! are big-endian; times are nanoseconds on the peer's monotonic clock.

use std::io;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use shardio::net::{TcpListener, TcpStream};
use shardio::sched::NetProperties;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Write size for bandwidth, and for the rate of small sends.
const BULK: usize = 64 << 10;
const SMALL: usize = 64;

/// Serves `--net` runs on `listener` until an accept fails.
pub(crate) async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = answer(stream).await {
                eprintln!("iotune: a --net connection failed: {e}");
            }
        });
    }
}

/// Nanoseconds since the first call, on this process's monotonic clock.
fn now_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

async fn answer(mut s: TcpStream) -> io::Result<()> {
    let request = match s.read_u8().await {
        Ok(request) => request,
        // A connection that asked nothing (`calibrate`'s probe).
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
        Err(e) => return Err(e),
    };
    match request {
        b'S' => {
            let seen = receive(&mut s).await?;
            s.write_u64(seen.bytes).await?;
            s.write_u64(seen.first).await?;
            s.write_u64(seen.last).await?;
            s.shutdown().await
        }
        b'G' => {
            let size = s.read_u32().await? as usize;
            let millis = s.read_u32().await?;
            if !(1..=1 << 20).contains(&size) {
                return Err(io::Error::other(format!("write size {size} out of range")));
            }
            write_for(&mut s, size, Duration::from_millis(millis.into())).await
        }
        other => Err(io::Error::other(format!("unknown request {other:#x}"))),
    }
}

/// Writes `size` bytes at a time to `s` for `duration` (Nagle off), then
/// shuts its write side down.
async fn write_for(s: &mut TcpStream, size: usize, duration: Duration) -> io::Result<()> {
    s.set_nodelay(true)?;
    let (buf, until) = (vec![0x5a; size], Instant::now() + duration);
    while Instant::now() < until {
        s.write_all(&buf).await?;
    }
    s.shutdown().await
}

/// What one connection received: bytes, and when the first and last came.
#[derive(Clone, Copy)]
struct Seen {
    bytes: u64,
    first: u64,
    last: u64,
}

/// Reads `s` to end of stream.
async fn receive(s: &mut TcpStream) -> io::Result<Seen> {
    let mut buf = vec![0u8; 256 << 10];
    let mut seen = Seen {
        bytes: 0,
        first: 0,
        last: 0,
    };
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(seen);
        }
        let now = now_ns();
        if seen.bytes == 0 {
            seen.first = now;
        }
        seen.bytes += n as u64;
        seen.last = now;
    }
}

/// Bytes per second over connections that ran at once: all their bytes
/// between the first connection's first byte and the last one's last.
fn rate(seen: &[Seen]) -> io::Result<f64> {
    let bytes: u64 = seen.iter().map(|s| s.bytes).sum();
    let first = seen.iter().map(|s| s.first).min().unwrap_or(0);
    let last = seen.iter().map(|s| s.last).max().unwrap_or(0);
    if bytes == 0 || last <= first {
        return Err(io::Error::other("nothing was transferred"));
    }
    Ok(bytes as f64 * 1e9 / (last - first) as f64)
}

/// `connections` connections to `peer` writing `size` bytes at a time for
/// `duration`; the peer's count, in bytes per second.
async fn send(
    peer: SocketAddr,
    connections: usize,
    size: usize,
    duration: Duration,
) -> io::Result<f64> {
    at_once(connections, move || async move {
        let mut s = TcpStream::connect(peer).await?;
        s.write_u8(b'S').await?;
        write_for(&mut s, size, duration).await?;
        let (bytes, first, last) = (
            s.read_u64().await?,
            s.read_u64().await?,
            s.read_u64().await?,
        );
        Ok(Seen { bytes, first, last })
    })
    .await
}

/// `connections` connections from `peer`, which writes `size` bytes at a
/// time for `duration`; this side's count, in bytes per second.
async fn fetch(
    peer: SocketAddr,
    connections: usize,
    size: usize,
    duration: Duration,
) -> io::Result<f64> {
    at_once(connections, move || async move {
        let mut s = TcpStream::connect(peer).await?;
        s.write_u8(b'G').await?;
        s.write_u32(size as u32).await?;
        s.write_u32(duration.as_millis().try_into().unwrap_or(u32::MAX))
            .await?;
        receive(&mut s).await
    })
    .await
}

/// Runs `connection` as `connections` tasks at once; the rate of what they
/// saw together.
async fn at_once<F, Fut>(connections: usize, connection: F) -> io::Result<f64>
where
    F: Fn() -> Fut,
    Fut: Future<Output = io::Result<Seen>> + Send + 'static,
{
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection()))
        .collect();
    let mut seen = Vec::with_capacity(tasks.len());
    for task in tasks {
        seen.push(task.await.map_err(io::Error::other)??);
    }
    rate(&seen)
}

/// Measures the path to `peer` (running [`serve`]): bandwidth and small
/// sends per second, each way, over `connections` connections for
/// `duration` each; `report` gets a line per figure. The interface is the
/// one shardio schedules the connections on.
pub(crate) async fn calibrate(
    peer: SocketAddr,
    connections: usize,
    duration: Duration,
    mut report: impl FnMut(String),
) -> io::Result<NetProperties> {
    let probe = TcpStream::connect(peer).await?;
    let interface = shardio::sched::interface_of(&probe);
    drop(probe);
    report(format!(
        "path to {peer} via {interface}, {connections} connections, {duration:?} each"
    ));
    let mbit = |bytes_per_s: f64| bytes_per_s * 8.0 / 1e6;
    let tx_bandwidth = send(peer, connections, BULK, duration).await?;
    report(format!(
        "transmit: {:.1} Mbit/s ({tx_bandwidth:.0} B/s)",
        mbit(tx_bandwidth)
    ));
    let rx_bandwidth = fetch(peer, connections, BULK, duration).await?;
    report(format!(
        "receive: {:.1} Mbit/s ({rx_bandwidth:.0} B/s)",
        mbit(rx_bandwidth)
    ));
    let tx_ops = send(peer, connections, SMALL, duration).await? / SMALL as f64;
    report(format!(
        "transmit: {tx_ops:.0} sends of {SMALL} B per second"
    ));
    let rx_ops = fetch(peer, connections, SMALL, duration).await? / SMALL as f64;
    report(format!(
        "receive: {rx_ops:.0} sends of {SMALL} B per second"
    ));
    let [tx_ops, tx_bandwidth, rx_ops, rx_bandwidth] =
        [tx_ops, tx_bandwidth, rx_ops, rx_bandwidth].map(f64::round);
    let mut props = NetProperties::new(tx_ops, tx_bandwidth, rx_ops, rx_bandwidth);
    props.interface = Some(interface);
    Ok(props)
}
