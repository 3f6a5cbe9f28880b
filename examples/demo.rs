//! shardio at work, side by side with Tokio: `cargo run --release --example demo`.
//!
//! Prints which I/O path is active, round-trips a file, runs 10,000
//! concurrent no-ops, races 4 KiB page-cache reads against `tokio::fs`, runs
//! a short TCP echo against a Tokio echo server, and prints the driver's
//! counters. Later sections (priority classes, async-worker cores) extend it.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

#[shardio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> io::Result<()> {
    let metrics = shardio::metrics();
    println!("== shardio demo");
    match &metrics.fallback_reason {
        None => println!("path: io_uring (one ring per runtime thread)"),
        Some(reason) => println!("path: fallback, because: {reason}"),
    }

    let dir = std::env::temp_dir().join(format!("shardio-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = async {
        files(&dir).await?;
        nops().await?;
        page_cache_reads(&dir).await?;
        echo().await
    }
    .await;
    std::fs::remove_dir_all(&dir)?;
    result?;

    let m = shardio::metrics();
    println!("\n== driver counters");
    println!("rings alive {}, created {}", m.rings_alive, m.rings_created);
    println!(
        "ops submitted {}, completed {}, cancelled {}, on fallback {}",
        m.ops_submitted, m.ops_completed, m.ops_cancelled, m.ops_fallback
    );
    if m.ops_submitted > 0 {
        println!(
            "io_uring_enter calls {} ({:.3} per op)",
            m.enter_calls,
            m.enter_calls as f64 / m.ops_submitted as f64
        );
    }
    Ok(())
}

/// Write, sync and read back a file with owned buffers.
async fn files(dir: &std::path::Path) -> io::Result<()> {
    println!("\n== files");
    let path = dir.join("hello.txt");
    let file = shardio::fs::File::create(&path).await?;
    let (res, _) = file.write_at(b"hello from shardio\n".to_vec(), 0).await;
    let written = res?;
    file.sync_all().await?;
    let file = shardio::fs::File::open(&path).await?;
    let (res, buf) = file.read_at(Vec::with_capacity(64), 0).await;
    let n = res?;
    println!(
        "wrote {written} bytes, synced, read back {n}: {:?}",
        String::from_utf8_lossy(&buf[..n]).trim()
    );
    Ok(())
}

/// 10,000 tasks each doing a no-op round trip through the ring.
async fn nops() -> io::Result<()> {
    println!("\n== 10,000 concurrent no-ops");
    let start = Instant::now();
    let tasks: Vec<_> = (0..10_000).map(|_| tokio::spawn(shardio::nop())).collect();
    for task in tasks {
        task.await.map_err(io::Error::other)??;
    }
    println!("done in {:?}", start.elapsed());
    Ok(())
}

/// 64 tasks reading random 4 KiB blocks of a cached 16 MiB file for 1 s.
async fn page_cache_reads(dir: &std::path::Path) -> io::Result<()> {
    println!("\n== 4 KiB page-cache reads, 64 tasks, 1 s each");
    const SIZE: u64 = 16 * 1024 * 1024;
    let path = dir.join("data");
    std::fs::write(&path, vec![1u8; SIZE as usize])?;
    let blocks = SIZE / 4096;
    let run = Duration::from_secs(1);

    let file = Arc::new(shardio::fs::File::open(&path).await?);
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + run;
    let tasks: Vec<_> = (0..64u64)
        .map(|t| {
            let (file, count) = (Arc::clone(&file), Arc::clone(&count));
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut x = t * 7919 + 1;
                while Instant::now() < deadline {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let (res, b) = file.read_at(buf, (x >> 33) % blocks * 4096).await;
                    buf = b;
                    res?;
                    count.fetch_add(1, Ordering::Relaxed);
                }
                io::Result::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(io::Error::other)??;
    }
    let shardio_rate = count.load(Ordering::Relaxed) as f64 / run.as_secs_f64();

    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + run;
    let tasks: Vec<_> = (0..64u64)
        .map(|t| {
            let (path, count) = (path.clone(), Arc::clone(&count));
            tokio::spawn(async move {
                let mut file = tokio::fs::File::open(path).await?;
                let mut buf = vec![0u8; 4096];
                let mut x = t * 7919 + 1;
                while Instant::now() < deadline {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    file.seek(io::SeekFrom::Start((x >> 33) % blocks * 4096))
                        .await?;
                    file.read_exact(&mut buf).await?;
                    count.fetch_add(1, Ordering::Relaxed);
                }
                io::Result::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(io::Error::other)??;
    }
    let tokio_rate = count.load(Ordering::Relaxed) as f64 / run.as_secs_f64();
    println!(
        "shardio {:.0} reads/s, tokio::fs {:.0} reads/s: {:.1}x",
        shardio_rate,
        tokio_rate,
        shardio_rate / tokio_rate
    );
    Ok(())
}

/// TCP echo as the benchmark runs it: each server on its own runtime with one
/// worker (shardio's built with `BuilderExt`), 64 client connections from
/// this runtime, 64-byte messages, 1 s per round, the two servers
/// alternating over two rounds.
async fn echo() -> io::Result<()> {
    println!(
        "\n== TCP echo: server on its own 1-worker runtime, 64 connections x 64 B from this \
         runtime, 1 s per round, servers alternating"
    );
    let (mut shardio_rates, mut tokio_rates) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        shardio_rates.push(echo_round(Server::Shardio).await?);
        tokio_rates.push(echo_round(Server::Tokio).await?);
    }
    let best = |rates: &[f64]| rates.iter().copied().fold(0.0, f64::max);
    let (shardio_rate, tokio_rate) = (best(&shardio_rates), best(&tokio_rates));
    println!(
        "best of two rounds: shardio server {shardio_rate:.0} req/s, tokio server {tokio_rate:.0} req/s: \
         {:.2}x (client and servers share this machine's CPUs; `cargo bench --bench echo` pins \
         them apart and reports CPU per request)",
        shardio_rate / tokio_rate
    );
    Ok(())
}

#[derive(Clone, Copy)]
enum Server {
    Shardio,
    Tokio,
}

/// Starts one echo server on a runtime of its own, drives it for a round,
/// and shuts it down.
async fn echo_round(kind: Server) -> io::Result<f64> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(1).enable_all();
    if let Server::Shardio = kind {
        use shardio::BuilderExt;
        builder.shardio(shardio::Config::default());
    }
    let server_rt = builder.build()?;
    let addr = server_rt
        .spawn(async move {
            match kind {
                Server::Shardio => {
                    let listener = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let addr = listener.local_addr()?;
                    tokio::spawn(async move {
                        while let Ok((s, _)) = listener.accept().await {
                            s.set_nodelay(true)?;
                            tokio::spawn(serve(s));
                        }
                        io::Result::Ok(())
                    });
                    Ok(addr)
                }
                Server::Tokio => {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let addr = listener.local_addr()?;
                    tokio::spawn(async move {
                        while let Ok((s, _)) = listener.accept().await {
                            s.set_nodelay(true)?;
                            tokio::spawn(serve(s));
                        }
                        io::Result::Ok(())
                    });
                    io::Result::Ok(addr)
                }
            }
        })
        .await
        .map_err(io::Error::other)??;
    let rate = drive(addr).await;
    server_rt.shutdown_background();
    rate
}

/// Echoes what arrives until the peer closes.
async fn serve<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut s: S) {
    let mut buf = [0u8; 1024];
    while let Ok(n @ 1..) = s.read(&mut buf).await {
        if s.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

async fn drive(addr: std::net::SocketAddr) -> io::Result<f64> {
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(1);
    let clients: Vec<_> = (0..64)
        .map(|_| {
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                let msg = [7u8; 64];
                let mut back = [0u8; 64];
                while Instant::now() < deadline {
                    s.write_all(&msg).await?;
                    s.read_exact(&mut back).await?;
                    count.fetch_add(1, Ordering::Relaxed);
                }
                io::Result::Ok(())
            })
        })
        .collect();
    for c in clients {
        c.await.map_err(io::Error::other)??;
    }
    Ok(count.load(Ordering::Relaxed) as f64)
}
