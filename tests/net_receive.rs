//! The receive side on a real bottleneck: downloads across a 100 Mbit/s
//! link between two network namespaces (`shardio-testnet`, tbf), the
//! senders in namespace `b`, shardio's readers in `a`. Needs root and
//! iproute2; elsewhere each test says why and passes without running,
//! except in CI (`CI` set), where they must run.
//!
//! Each prints its figures (`--no-capture`); the bounds asserted are the
//! issue's, with the margins said at each.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use shardio::net::TcpStream;
use shardio::sched::{IoProperties, NetProperties, PriorityClass};
use shardio_testnet::ShapedLink;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "support/shaped.rs"]
mod shaped;
use shaped::{GOODPUT, PATTERN, Server, client, link, local_client, mbit, pattern_byte, rates};

/// A network model for namespace `a`'s end of the link: receive at
/// `rate_factor` of what TCP carries of it (below the link's rate, so the
/// scheduler, not the link, decides who gets it); transmit unthrottled.
fn rx_model(link: &ShapedLink, rate_factor: f64) -> IoProperties {
    let mut net = NetProperties::new(1e6, GOODPUT * 100.0, 1e6, GOODPUT);
    net.interface = Some(link.a().interface().to_owned());
    net.rate_factor = rate_factor;
    IoProperties::new().network(net)
}

/// Opens a download from the server (in `class`, if any); `kind` is
/// `b'D'` (as fast as it goes) or `b'P'` (paced).
async fn download(
    addr: SocketAddr,
    class: Option<&PriorityClass>,
    kind: u8,
) -> io::Result<TcpStream> {
    let mut s = TcpStream::connect(addr).await?;
    if let Some(class) = class {
        s.set_class(class);
    }
    s.write_all(&[kind]).await?;
    Ok(s)
}

/// Byte counters, one per connection or class.
type Counts = Arc<[AtomicU64]>;

fn counts(n: usize) -> Counts {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

/// Reads `s` until `stop` (not while `pause` is set), checking every byte
/// against the download's pattern and counting them in `counts[slot]`.
fn reader(
    mut s: TcpStream,
    counts: Counts,
    slot: usize,
    stop: Arc<AtomicBool>,
    pause: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<io::Result<()>> {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 64 << 10];
        let mut at = 0usize;
        while !stop.load(Relaxed) {
            if pause.load(Relaxed) {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Err(io::Error::other("the download ended"));
            }
            if let Some(i) = (0..n).find(|&i| buf[i] != pattern_byte(at + i)) {
                return Err(io::Error::other(format!(
                    "byte {} of the download is {}, not {}",
                    at + i,
                    buf[i],
                    pattern_byte(at + i)
                )));
            }
            at = (at + n) % PATTERN;
            counts[slot].fetch_add(n as u64, Relaxed);
        }
        Ok(())
    })
}

/// Samples `metrics().recv_bytes_held` every 5 ms until `stop`; returns
/// the most seen.
fn peak_held(stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut peak = 0;
        while !stop.load(Relaxed) {
            peak = peak.max(shardio::metrics().recv_bytes_held);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        peak
    })
}

/// Part 4: two classes downloading with shares 1:4, the receive side
/// modelled at 80% of what the link carries. A class over its share stops
/// taking its connections' bytes (its receives are paused, then armed for
/// 256 KiB at a time for a second after each wait), which wait in the
/// kernel's socket buffer until TCP's window stops their sender; each
/// connection keeps a few received chunks charged ahead of its reader, so
/// its class stays in the queue while the reader is delayed. The link
/// splits 1:4 (the 4 +- 5%), and every byte arrives in order.
///
/// The split holds once TCP has caught up, which is measured from 3 s on:
/// until the held-back class's socket buffers (autotuned to 1.1-1.6 MB
/// here) and the link's queue are full, its senders still get the link's
/// bytes, and the other class's connections find nothing to charge for
/// part of the time (nothing queued 45-90% of the first half second, up
/// to 75% of a later one in slow runs). Sampled every half second in ten
/// runs, that ended between 1 and 2.5 s; measured from 1.5 s, about one
/// run in five gave 1.5-3.6.
///
/// Measured (2026-12-07), from 3 s: ten runs 3.98-4.01, 4 receives paused
/// in each (one per connection); 1.0-1.2 MiB at most held in the ring's
/// receive pool by the four connections.
#[test]
fn two_receiving_classes_split_the_link_by_shares() {
    let Some(link) = link() else { return };
    let server = Server::start(&link);
    let addr = server.addr;
    let before = shardio::metrics().recv_pauses;
    let (rates, peak) = client(&link, Some(rx_model(&link, 0.8)), async move || {
        let stop = Arc::new(AtomicBool::new(false));
        let small = PriorityClass::new("small", 100);
        let large = PriorityClass::new("large", 400);
        let counts = counts(2);
        let never = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for _ in 0..2 {
            for (slot, class) in [&small, &large].into_iter().enumerate() {
                let s = download(addr, Some(class), b'D').await?;
                let (counts, stop, never) =
                    (Arc::clone(&counts), Arc::clone(&stop), Arc::clone(&never));
                tasks.push(reader(s, counts, slot, stop, never));
            }
        }
        let held = peak_held(Arc::clone(&stop));
        let rates = rates(&counts, Duration::from_secs(3), Duration::from_secs(2)).await;
        stop.store(true, Relaxed);
        for t in tasks {
            t.await.expect("reader")?;
        }
        Ok((rates, held.await.expect("sampler")))
    });
    let pauses = shardio::metrics().recv_pauses - before;
    let ratio = rates[1] / rates[0];
    println!(
        "receive shares 100:400: {:.1} and {:.1} Mbit/s, ratio {ratio:.3}; \
         receives paused {pauses} times; at most {} KiB held in the receive pool",
        mbit(rates[0]),
        mbit(rates[1]),
        peak >> 10
    );
    assert!(
        (3.8..=4.2).contains(&ratio),
        "the 1:4 split is not within 5%: {rates:?}"
    );
    assert!(pauses > 0, "no receive was paused");
}

/// Raises the soft limit on open files to `n`, as far as the hard limit
/// allows (1,000 connections need 2,000 descriptors in this process).
fn allow_fds(n: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for the kernel to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 && lim.rlim_cur < n {
        lim.rlim_cur = n.min(lim.rlim_max);
        // SAFETY: as above; only the soft limit moves, up to the hard one.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
}

/// (c) A stalled reader among 1,000 busy connections on one ring (a
/// current-thread runtime), each downloading 16 kB/s from a server on
/// another, and one downloading as fast as it goes: once that one's reader
/// stops, the other 999 keep at least 95% of the
/// throughput they had before, and its sender's writes stop (its bytes
/// wait in the kernel's socket buffer and the connection's share of the
/// receive pool, and TCP's window closes). Every byte of every connection
/// arrives in order.
///
/// Paced, so that what is measured is whether the ring keeps serving the
/// others, not how two threads share two CPUs: unpaced on loopback, the
/// before/during ratio swung 0.90-1.68 between runs from CPU noise alone.
/// On loopback, not on the shaped link: 1,000 TCP flows through a 100
/// Mbit/s tbf (a bandwidth-delay product of about one packet) lose most
/// packets at its queue, and some flows sit in retransmission back-off for
/// many seconds, whoever serves them (a plain Tokio server showed the same,
/// its writes failing with ETIMEDOUT); that is TCP on that link, not what
/// (c) is about. The stalled connection has the smallest receive buffer
/// (`SO_RCVBUF` 4 KiB, before connecting), so its window closes soon.
#[test]
fn a_stalled_reader_among_1000_busy_connections() {
    const CONNS: usize = 1000;
    allow_fds(4 * CONNS as u64 + 100);
    let server = Server::local();
    let (addr, sent) = (server.addr, Arc::clone(&server.sent));
    let out = local_client(async move || {
        let stop = Arc::new(AtomicBool::new(false));
        let stall = Arc::new(AtomicBool::new(false));
        let never = Arc::new(AtomicBool::new(false));
        let counts = counts(CONNS);
        // The stalled one first, so it is the server's first download.
        let socket = shardio::net::TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(4096)?;
        let mut s = socket.connect(addr).await?;
        s.write_all(b"D").await?;
        let stalled = (Arc::clone(&stop), Arc::clone(&stall));
        let mut tasks = vec![reader(s, Arc::clone(&counts), 0, stalled.0, stalled.1)];
        while sent.lock().expect("not poisoned").is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let connects: Vec<_> = (1..CONNS)
            .map(|_| tokio::spawn(download(addr, None, b'P')))
            .collect();
        for (slot, c) in (1..).zip(connects) {
            let s = c.await.expect("connect task")?;
            let (counts, stop, never) =
                (Arc::clone(&counts), Arc::clone(&stop), Arc::clone(&never));
            tasks.push(reader(s, counts, slot, stop, never));
        }
        let busy = |r: Vec<f64>| r[1..].iter().sum::<f64>();
        let before = busy(rates(&counts, Duration::from_secs(2), Duration::from_secs(3)).await);
        stall.store(true, Relaxed);
        let during = busy(rates(&counts, Duration::from_secs(1), Duration::from_secs(3)).await);
        let stalled = Arc::clone(&sent.lock().expect("not poisoned")[0]);
        let sent_then = stalled.load(Relaxed);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let sent_now = stalled.load(Relaxed);
        let held = shardio::metrics().recv_bytes_held;
        stop.store(true, Relaxed);
        stall.store(false, Relaxed);
        for t in tasks {
            t.await.expect("reader")?;
        }
        Ok((
            before,
            during,
            [sent_then, sent_now],
            counts[0].load(Relaxed),
            held,
        ))
    });
    let (before, during, [sent_then, sent_now], read, held) = out;
    let ratio = during / before;
    println!(
        "(c) 999 busy connections: {:.3} MB/s before the stall, {:.3} MB/s during it \
         ({ratio:.3}); the stalled connection's sender wrote {sent_now} bytes, {} in the last \
         second; its reader had read {read}; {} KiB held in the receive pool",
        before / 1e6,
        during / 1e6,
        sent_now - sent_then,
        held >> 10
    );
    assert!(
        ratio >= 0.95,
        "the busy connections kept {ratio:.3} of their throughput"
    );
    assert_eq!(
        sent_then, sent_now,
        "the stalled connection's sender still wrote"
    );
}
