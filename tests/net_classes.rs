//! Priority classes on a real bottleneck: a 100 Mbit/s link between two
//! network namespaces (`shardio-testnet`, tbf), the client in namespace
//! `a` with a network model for its interface, the server in `b`. Needs
//! root and iproute2; elsewhere each test says why and passes without
//! running, except in CI (`CI` set), where they must run.
//!
//! Each scenario prints its figures (`--no-capture`); the bounds asserted
//! are the issue's, with the margins said at each.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use shardio::net::TcpStream;
use shardio::sched::{IoProperties, NetProperties, PriorityClass};
use shardio_testnet::ShapedLink;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "support/shaped.rs"]
mod shaped;
use shaped::{CHUNK, GOODPUT, RPC_REQUEST, RPC_RESPONSE, Server, client, link, mbit, rates};

/// A network model for namespace `a`'s end of the link: transmit at
/// `rate_factor` of what TCP carries of it; receive left unthrottled.
fn model(link: &ShapedLink, rate_factor: f64) -> IoProperties {
    let mut net = NetProperties::new(1e6, GOODPUT, 1e6, GOODPUT * 100.0);
    net.interface = Some(link.a().interface().to_owned());
    net.rate_factor = rate_factor;
    IoProperties::new().network(net)
}

/// Bulk uploads in `class` (slot `slot` at the server) until `stop`.
fn bulk(
    addr: SocketAddr,
    class: &PriorityClass,
    slot: u8,
    stop: &Arc<AtomicBool>,
) -> tokio::task::JoinHandle<io::Result<()>> {
    let (class, stop) = (class.clone(), Arc::clone(stop));
    tokio::spawn(async move {
        let mut s = TcpStream::connect(addr).await?;
        s.set_class(&class);
        s.write_all(&[b'0' + slot]).await?;
        let chunk = vec![7u8; CHUNK];
        while !stop.load(Relaxed) {
            s.write_all(&chunk).await?;
        }
        Ok(())
    })
}

/// Two bulk connections in `class` for `window` after a warm-up; returns
/// their rate at the server.
fn bulk_alone(
    link: &ShapedLink,
    server: &Server,
    props: Option<IoProperties>,
    classes: bool,
) -> f64 {
    let (addr, counts) = (server.addr, Arc::clone(&server.bulk));
    client(link, props, async move || {
        let stop = Arc::new(AtomicBool::new(false));
        let class = if classes {
            // Another class exists and stays idle: it must not hold the
            // link back from the busy one.
            let _idle = PriorityClass::new("idle", 400);
            PriorityClass::new("busy", 100)
        } else {
            PriorityClass::default_class()
        };
        let tasks: Vec<_> = (0..2).map(|_| bulk(addr, &class, 0, &stop)).collect();
        let rate = rates(&*counts, Duration::from_millis(700), Duration::from_secs(2)).await[0];
        stop.store(true, Relaxed);
        for t in tasks {
            t.await.expect("bulk")?;
        }
        Ok(rate)
    })
}

/// (d) Work conservation: one class alone (another class idle), with a
/// model at the link's full rate, gets at least 95% of what the link
/// carries without any scheduling, measured first in the same run.
#[test]
fn one_class_alone_gets_the_link() {
    let Some(link) = link() else { return };
    let server = Server::start(&link);
    let plain = bulk_alone(&link, &server, None, false);
    let scheduled = bulk_alone(&link, &server, Some(model(&link, 1.0)), true);
    let ratio = scheduled / plain;
    println!(
        "(d) one class alone: {:.1} Mbit/s, unscheduled {:.1} Mbit/s: {ratio:.3}",
        mbit(scheduled),
        mbit(plain)
    );
    assert!(ratio >= 0.95, "one class alone got {ratio:.3} of the link");
}

/// (b) Two bulk classes with shares 1:4 on the link (a model at 80% of
/// what it carries, so the scheduler, not the link, decides): throughput
/// 1:4 within 5%; after `set_shares` swaps them, 4:1 within 5% from one
/// second after the change.
#[test]
fn two_bulk_classes_split_the_link_by_shares() {
    let Some(link) = link() else { return };
    let server = Server::start(&link);
    let (addr, counts) = (server.addr, Arc::clone(&server.bulk));
    let (before, after) = client(&link, Some(model(&link, 0.8)), async move || {
        let stop = Arc::new(AtomicBool::new(false));
        let small = PriorityClass::new("small", 100);
        let large = PriorityClass::new("large", 400);
        let mut tasks = Vec::new();
        for _ in 0..2 {
            tasks.push(bulk(addr, &small, 0, &stop));
            tasks.push(bulk(addr, &large, 1, &stop));
        }
        let before = rates(&*counts, Duration::from_millis(700), Duration::from_secs(2)).await;
        small.set_shares(400);
        large.set_shares(100);
        let after = rates(&*counts, Duration::from_secs(1), Duration::from_secs(2)).await;
        stop.store(true, Relaxed);
        for t in tasks {
            t.await.expect("bulk")?;
        }
        Ok((before, after))
    });
    let ratio = |r: &[f64]| r[1] / r[0];
    println!(
        "(b) shares 100:400: {:.1} and {:.1} Mbit/s, ratio {:.3}; swapped: {:.1} and {:.1} Mbit/s, ratio {:.3}",
        mbit(before[0]),
        mbit(before[1]),
        ratio(&before),
        mbit(after[0]),
        mbit(after[1]),
        1.0 / ratio(&after),
    );
    assert!(
        (ratio(&before) - 4.0).abs() <= 0.2,
        "1:4 split off: {before:?}"
    );
    assert!(
        (1.0 / ratio(&after) - 4.0).abs() <= 0.2,
        "4:1 after set_shares off: {after:?}"
    );
}

/// RPCs in `class` at `rps` requests per second over four connections for
/// `run`; returns each round trip and the rate achieved.
async fn rpc(
    addr: SocketAddr,
    class: &PriorityClass,
    rps: f64,
    run: Duration,
) -> io::Result<(Vec<Duration>, f64)> {
    const CONNS: usize = 4;
    let interval = Duration::from_secs_f64(CONNS as f64 / rps);
    let start = tokio::time::Instant::now();
    let tasks: Vec<_> = (0..CONNS)
        .map(|i| {
            let class = class.clone();
            tokio::spawn(async move {
                let mut s = TcpStream::connect(addr).await?;
                s.set_class(&class);
                s.set_nodelay(true)?;
                s.write_all(b"R").await?;
                let (req, mut resp) = (vec![1u8; RPC_REQUEST], vec![0u8; RPC_RESPONSE]);
                let mut rtts = Vec::new();
                let mut next = start + interval.mul_f64(i as f64 / CONNS as f64);
                while next < start + run {
                    tokio::time::sleep_until(next).await;
                    let t = Instant::now();
                    s.write_all(&req).await?;
                    s.read_exact(&mut resp).await?;
                    rtts.push(t.elapsed());
                    next += interval;
                }
                io::Result::Ok(rtts)
            })
        })
        .collect();
    let mut rtts = Vec::new();
    for t in tasks {
        rtts.extend(t.await.expect("rpc task")?);
    }
    let achieved = rtts.len() as f64 / start.elapsed().as_secs_f64();
    Ok((rtts, achieved))
}

fn p99(mut rtts: Vec<Duration>) -> Duration {
    rtts.sort_unstable();
    rtts[(rtts.len() * 99).div_ceil(100).min(rtts.len()) - 1]
}

/// RPCs in `rpcs` at `rps` beside two bulk uploads in `bulk_class`.
async fn rpc_beside_bulk(
    addr: SocketAddr,
    rpcs: &PriorityClass,
    bulk_class: &PriorityClass,
    rps: f64,
    run: Duration,
) -> io::Result<(Vec<Duration>, f64)> {
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..2).map(|_| bulk(addr, bulk_class, 0, &stop)).collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let out = rpc(addr, rpcs, rps, run).await;
    stop.store(true, Relaxed);
    for t in tasks {
        t.await.expect("bulk")?;
    }
    out
}

fn p50(mut rtts: Vec<Duration>) -> Duration {
    rtts.sort_unstable();
    rtts[rtts.len() / 2]
}

/// (a) An RPC class (4 KiB requests at 20% of the link) beside a bulk
/// class saturating it. Unpaced (no model), the bulk fills the link's
/// queue and the RPCs wait behind it; with a model at 80% of what the link
/// carries and the RPCs in their own class, they keep their rate (99%),
/// their median round trip falls by at least half, their p99 is below the
/// unpaced one's, and within 3x of their p99 alone. Also printed: both in
/// one class.
///
/// The goal is 2x alone; the test allows 3x because the p99 of
/// 1,460 RPCs in 2.5 s on this 2-CPU machine moves between runs.
/// Measured (2026-12-07), 13 quiet runs: p99 beside bulk 0.95-1.64 ms,
/// alone 0.60-0.91 ms, 1.21-1.82x in twelve and 2.36x in one; with two
/// busy loops on both CPUs, 4.5-5.0 ms and 4.5-5.2 ms (0.87-1.11x).
/// Before a 4 KiB RPC (a little more than one part of the bucket) stopped
/// stepping aside between its two parts for the bulk class, the same runs
/// gave 1.8-4.2 ms (2.4-5.7x): the RPCs' p99 queue delay was 1.3 ms, one
/// bulk part and a timer. `examples/io_tester/link_rpc_bulk.yaml`
/// measures the scenario as a benchmark.
#[test]
fn an_rpc_class_keeps_its_rate_and_latency_beside_bulk() {
    let Some(link) = link() else { return };
    let server = Server::start(&link);
    let addr = server.addr;
    let rps = GOODPUT * 0.2 / RPC_REQUEST as f64;
    let run = Duration::from_millis(2500);
    let unpaced = client(&link, None, async move || {
        let rpcs = PriorityClass::new("rpc", 1000);
        let bulk_class = PriorityClass::new("bulk", 100);
        rpc_beside_bulk(addr, &rpcs, &bulk_class, rps, run).await
    });
    let (alone, beside, together) = client(&link, Some(model(&link, 0.8)), async move || {
        let rpcs = PriorityClass::new("rpc", 1000);
        let bulk_class = PriorityClass::new("bulk", 100);
        // What the unpaced bulk left in its socket buffers (megabytes)
        // drains at the link's rate for a while after it stopped writing.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let alone = rpc(addr, &rpcs, rps, run).await?;
        let beside = rpc_beside_bulk(addr, &rpcs, &bulk_class, rps, run).await?;
        let together = rpc_beside_bulk(addr, &bulk_class, &bulk_class, rps, run).await?;
        Ok((alone, beside, together))
    });
    let show = |name: &str, (rtts, rate): &(Vec<Duration>, f64)| {
        println!(
            "(a) {name}: p50 {:?}, p99 {:?} over {} RPCs, {:.0} of {rps:.0} RPC/s",
            p50(rtts.clone()),
            p99(rtts.clone()),
            rtts.len(),
            rate
        );
    };
    show("beside bulk, unpaced", &unpaced);
    show("alone, paced", &alone);
    show("beside bulk, own class", &beside);
    show("beside bulk, one class", &together);
    let (p_alone, p_beside) = (p99(alone.0.clone()), p99(beside.0.clone()));
    println!(
        "(a) p99 beside bulk / alone: {:.2}",
        p_beside.as_secs_f64() / p_alone.as_secs_f64()
    );
    assert!(beside.1 >= rps * 0.99, "{:.0} of {rps:.0} RPC/s", beside.1);
    assert!(
        p_beside <= p_alone * 3,
        "p99 {p_beside:?} beside bulk in its own class, {p_alone:?} alone"
    );
    let p_unpaced = p99(unpaced.0.clone());
    assert!(
        p_beside < p_unpaced,
        "p99 {p_beside:?} beside bulk in its own class, paced; {p_unpaced:?} unpaced"
    );
    let (paced, plain) = (p50(beside.0.clone()), p50(unpaced.0.clone()));
    assert!(
        paced * 2 <= plain,
        "median round trip beside bulk: {paced:?} in its own class, paced; {plain:?} unpaced"
    );
}

/// The socket's `TCP_NOTSENT_LOWAT` (0: the system's default).
fn notsent_lowat(fd: std::os::fd::RawFd) -> libc::c_int {
    let mut val: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `fd` is open for the call; `val` and `len` are valid for
    // writes of the sizes `len` says.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NOTSENT_LOWAT,
            (&raw mut val).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "getsockopt: {}", io::Error::last_os_error());
    val
}

/// The most bytes one bulk upload's socket held unsent (`SIOCOUTQNSD`,
/// sampled every 2 ms from another thread) while it wrote for 2 s, with
/// the network model `props`; and the socket's unsent bound
/// (`TCP_NOTSENT_LOWAT`) then, and after `into_std`.
fn most_unsent(
    link: &ShapedLink,
    server: &Server,
    props: Option<IoProperties>,
) -> (u64, libc::c_int, libc::c_int) {
    let addr = server.addr;
    client(link, props, async move || {
        let class = PriorityClass::new("bulk", 100);
        let mut s = TcpStream::connect(addr).await?;
        s.set_class(&class);
        s.write_all(b"0").await?;
        let fd = s.as_raw_fd();
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut most = 0;
                while !stop.load(Relaxed) {
                    let mut unsent: libc::c_int = 0;
                    // SAFETY: `fd` stays open until this thread is joined
                    // (below, before the stream is dropped); `unsent` is
                    // valid for the int the ioctl writes.
                    if unsafe { libc::ioctl(fd, libc::SIOCOUTQNSD, &mut unsent) } == 0 {
                        most = most.max(unsent as u64);
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                most
            })
        };
        let chunk = vec![7u8; CHUNK];
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            s.write_all(&chunk).await?;
        }
        stop.store(true, Relaxed);
        let most = sampler.join().expect("sampler");
        let bound = notsent_lowat(fd);
        let std = s.into_std()?;
        Ok((most, bound, notsent_lowat(std.as_raw_fd())))
    })
}

/// Part 3, bytes in flight from the model: with a model that says the
/// link is twice as fast as it is, the pacing lets through more than the
/// link takes, and without a bound the socket's send buffer fills
/// (autotuned, to about a megabyte here). A paced socket holds at most a
/// few of its sends unsent (`TCP_NOTSENT_LOWAT`, set from the model), so
/// what the link's queues hold stays near what the scheduler let through.
/// `into_std` takes the bound back.
///
/// Measured (2026-12-07): 1020-1040 KiB unpaced, 82-127 KiB paced (a
/// bound of 35,840 bytes, two sends of 0.75 ms of the model each, plus a
/// send and up to a 64 KiB segment the kernel fills past the bound).
#[test]
fn a_paced_socket_holds_little_unsent_when_the_model_overstates_the_link() {
    let Some(link) = link() else { return };
    let server = Server::start(&link);
    let (unpaced, no_bound, _) = most_unsent(&link, &server, None);
    let (paced, bound, after) = most_unsent(&link, &server, Some(model(&link, 2.0)));
    println!(
        "most unsent in a bulk upload's socket: {} KiB unpaced, {} KiB paced by a model at \
         twice the link (bound {bound} bytes)",
        unpaced >> 10,
        paced >> 10
    );
    assert_eq!(no_bound, 0, "an unpaced socket was given an unsent bound");
    assert!(bound > 0, "the paced socket has no unsent bound");
    assert_eq!(
        after, 0,
        "into_std left shardio's unsent bound on the socket"
    );
    assert!(paced <= 256 << 10, "{paced} bytes unsent");
}
