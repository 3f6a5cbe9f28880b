//! shardio's sockets across a real bottleneck: two network namespaces joined
//! by a veth link shaped with `tc` (`shardio-testnet`). Needs root and
//! iproute2; elsewhere each test says why and passes without running,
//! except in CI (`CI` set), where only a kernel lacking the qdisc may skip.
//!
//! These check the link itself as shardio sees it (the foundation of the
//! socket priority-class scenarios): a transfer is held to the bucket's rate,
//! and netem's delay shows in the round trip.

use std::io;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use shardio_testnet::{Shape, ShapedLink};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "support/shaped.rs"]
mod shaped;
use shaped::{GOODPUT, RATE_MBIT, current_thread as runtime, shaped as link};

#[path = "../examples/iotune/net.rs"]
mod iotune_net;

/// Runs `serve` on a shardio listener in `link`'s namespace `b` (its
/// address sent back once it listens) and `client` in namespace `a`.
fn across<S, C, T>(link: &ShapedLink, serve: S, client: C) -> io::Result<T>
where
    S: AsyncFnOnce(shardio::net::TcpStream) -> io::Result<()> + Send + 'static,
    C: AsyncFnOnce(shardio::net::TcpStream) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let b = link.b().addr();
    let server = link.b().spawn(move || {
        runtime()?.block_on(async move {
            let listener = shardio::net::TcpListener::bind((b, 0)).await?;
            tx.send(listener.local_addr()?).expect("test waits");
            let (stream, _) = listener.accept().await?;
            serve(stream).await
        })
    });
    let addr: SocketAddr = rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| io::Error::other("the server in namespace b did not listen"))?;
    let client = link.a().spawn(move || {
        runtime()?.block_on(async move {
            let stream = shardio::net::TcpStream::connect(addr).await?;
            client(stream).await
        })
    });
    let out = client.join().expect("client thread")?;
    server.join().expect("server thread")?;
    Ok(out)
}

#[test]
fn a_transfer_across_the_link_is_held_to_its_rate() {
    const RATE_MBIT: u32 = 100;
    const BYTES: usize = 6 << 20;
    let Some(link) = link(Shape::rate_mbit(RATE_MBIT)) else {
        return;
    };
    let elapsed = across(
        &link,
        async |mut s| {
            // Read everything, then answer one byte: the sender's clock
            // stops when the last byte has crossed the link.
            let mut buf = vec![0u8; 64 << 10];
            let mut total = 0;
            while total < BYTES {
                match s.read(&mut buf).await? {
                    0 => break,
                    n => total += n,
                }
            }
            assert_eq!(total, BYTES, "every byte arrives");
            s.write_all(b"k").await
        },
        async |mut s| {
            let start = Instant::now();
            s.write_all(&vec![7u8; BYTES]).await?;
            let mut ack = [0u8; 1];
            s.read_exact(&mut ack).await?;
            Ok(start.elapsed())
        },
    )
    .expect("transfer");
    let mbit = (BYTES * 8) as f64 / elapsed.as_secs_f64() / 1e6;
    eprintln!("{BYTES} bytes in {elapsed:?}: {mbit:.1} Mbit/s on a {RATE_MBIT} Mbit/s link");
    // The bucket's burst and the sockets' buffers let a little through
    // early; far above the rate would mean the link is not the bottleneck.
    assert!(
        mbit <= f64::from(RATE_MBIT) * 1.15,
        "{mbit:.1} Mbit/s through a {RATE_MBIT} Mbit/s bucket"
    );
    assert!(
        mbit >= f64::from(RATE_MBIT) * 0.5,
        "{mbit:.1} Mbit/s: the link should carry most of its rate"
    );
}

#[test]
fn netem_delay_shows_in_the_round_trip() {
    const DELAY_US: u32 = 2_000;
    let Some(link) = link(Shape::rate_mbit(1_000).with_delay_us(DELAY_US)) else {
        return;
    };
    let mut rtts = across(
        &link,
        async |mut s| {
            let mut b = [0u8; 1];
            while s.read(&mut b).await? == 1 {
                s.write_all(&b).await?;
            }
            Ok(())
        },
        async |mut s| {
            let mut rtts = Vec::new();
            let mut b = [0u8; 1];
            for _ in 0..21 {
                let t = Instant::now();
                s.write_all(b"p").await?;
                s.read_exact(&mut b).await?;
                rtts.push(t.elapsed());
            }
            Ok(rtts)
        },
    )
    .expect("ping-pong");
    rtts.sort();
    let median = rtts[rtts.len() / 2];
    eprintln!("round trip median {median:?} with {DELAY_US} µs each way");
    // netem delays each direction: at least twice the delay per round trip.
    assert!(
        median >= Duration::from_micros(u64::from(2 * DELAY_US)),
        "{median:?}"
    );
}

/// iotune's network mode (`--net`, against `--serve` in namespace b)
/// measures the 100 Mbit/s link each way within 15% of what TCP carries of
/// it, and names the interface the client's connections leave by.
#[test]
fn iotune_measures_the_link() {
    let Some(link) = link(Shape::rate_mbit(RATE_MBIT)) else {
        return;
    };
    let (tx, rx) = mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let b = link.b().addr();
    let server = link.b().spawn(move || {
        runtime()?.block_on(async move {
            let listener = shardio::net::TcpListener::bind((b, 0)).await?;
            tx.send(listener.local_addr()?).expect("test waits");
            tokio::select! {
                res = iotune_net::serve(listener) => res,
                _ = stopped => Ok(()),
            }
        })
    });
    let peer: SocketAddr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the iotune peer in namespace b listens");
    let props = link
        .a()
        .spawn(move || {
            runtime()?.block_on(iotune_net::calibrate(
                peer,
                2,
                Duration::from_secs(1),
                |line| {
                    println!("{line}");
                },
            ))
        })
        .join()
        .expect("client thread")
        .expect("iotune --net");
    let _ = stop.send(());
    server
        .join()
        .expect("server thread")
        .expect("iotune --serve");
    println!("{props:?}");
    assert_eq!(props.interface.as_deref(), Some(link.a().interface()));
    for (way, rate) in [
        ("transmit", props.tx_bandwidth),
        ("receive", props.rx_bandwidth),
    ] {
        let ratio = rate / GOODPUT;
        assert!(
            (0.85..=1.15).contains(&ratio),
            "{way}: {rate:.0} B/s measured, {ratio:.3} of what the link carries"
        );
    }
    assert!(props.tx_ops > 0.0 && props.rx_ops > 0.0, "{props:?}");
}
