//! Idle connections: the server memory each one costs, shardio vs Tokio.
//!
//! The server runs in a child process (this binary with `--serve tokio` or
//! `--serve shardio`): a runtime with one worker pinned to CPU 0 accepting
//! connections, each served by a task waiting in `read` for a request that
//! never comes (a 64-byte buffer in the task). The parent opens N
//! connections (default 10,000) and sends nothing; once the child accepted
//! them all, the child's resident memory (`VmRSS`) minus what it held before
//! the first connection, divided by N, is the cost per idle connection:
//! kernel socket memory is not in it, only the server process's own (task,
//! stream, and on shardio its armed receive, which holds no buffer).
//!
//! `cargo bench --bench idle`; `SHARDIO_BENCH_CONNS` sets N,
//! `SHARDIO_BENCH_ROUNDS` (default 2) the rounds in which the two servers
//! alternate (the medians are printed). Without `--bench` (as in
//! `cargo test --benches`) it runs 100 connections once, as a smoke test.

use std::io::{self, BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

mod support;
use support::{Flavor, Server, env_parse, median, server_runtime};

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        let kind = match args.get(i + 1).map(String::as_str) {
            Some("tokio") => Server::Tokio,
            _ => Server::Shardio,
        };
        return serve(kind);
    }
    let smoke = support::smoke();
    let wanted: usize = if smoke {
        100
    } else {
        env_parse("SHARDIO_BENCH_CONNS").unwrap_or(10_000)
    };
    let conns = wanted.min(fd_budget()?);
    if conns < wanted {
        println!("note: {conns} connections (the fd limit allows no more), not {wanted}");
    }
    let rounds = if smoke {
        1
    } else {
        env_parse("SHARDIO_BENCH_ROUNDS").unwrap_or(2usize).max(1)
    };
    let (mut tokio, mut shardio) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        tokio.push(bytes_per_conn(Server::Tokio, conns)?);
        shardio.push(bytes_per_conn(Server::Shardio, conns)?);
    }
    let (t, s) = (
        median(tokio.iter().copied()),
        median(shardio.iter().copied()),
    );
    println!("{conns} idle connections, server RSS per connection (median of {rounds}):");
    println!("  tokio   {:>8.0} B", t);
    println!("  shardio {:>8.0} B", s);
    println!("  ratio   {:>8.2}x", s / t);
    Ok(())
}

/// Raises this process's open-file limit to its hard limit (the child
/// inherits it) and returns how many connections fit, with room to spare.
fn fd_budget() -> io::Result<usize> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read or write the local `limit`.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(io::Error::last_os_error());
        }
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok((limit.rlim_cur as usize).saturating_sub(256))
}

/// One round: a child server, `conns` idle connections, its RSS growth per
/// connection in bytes.
fn bytes_per_conn(kind: Server, conns: usize) -> io::Result<f64> {
    let name = if kind == Server::Tokio {
        "tokio"
    } else {
        "shardio"
    };
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--serve", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let result = measure(&mut child, conns);
    drop(child.stdin.take()); // the child exits at end of input
    let _ = child.wait();
    result
}

fn measure(child: &mut Child, conns: usize) -> io::Result<f64> {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr: SocketAddr = line
        .trim()
        .parse()
        .map_err(|e| io::Error::other(format!("child's address {line:?}: {e}")))?;
    let pid = child.id();
    // One connection first, so the runtime, its ring and the first task's
    // allocations are in the baseline.
    let mut streams = vec![TcpStream::connect(addr)?];
    wait_for_fds(pid, 1)?;
    let before = rss_bytes(pid)?;
    for _ in 1..conns {
        streams.push(TcpStream::connect(addr)?);
    }
    wait_for_fds(pid, conns)?;
    // Let the last accepted tasks reach their read.
    std::thread::sleep(Duration::from_millis(300));
    let after = rss_bytes(pid)?;
    drop(streams);
    Ok((after.saturating_sub(before)) as f64 / (conns - 1).max(1) as f64)
}

/// Waits until the child holds at least `conns` sockets it accepted (its
/// open fds beyond the ones it had with none).
fn wait_for_fds(pid: u32, conns: usize) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let count = || -> io::Result<usize> {
        let mut sockets = 0;
        for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
            let target = std::fs::read_link(entry?.path()).unwrap_or_default();
            sockets += usize::from(target.to_string_lossy().starts_with("socket:"));
        }
        Ok(sockets)
    };
    // The listener is one socket too.
    while count()? < conns + 1 {
        if Instant::now() > deadline {
            return Err(io::Error::other(
                "the server did not accept every connection in 60 s",
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn rss_bytes(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .ok_or_else(|| io::Error::other("no VmRSS in /proc/<pid>/status"))?;
    Ok(kib * 1024)
}

/// Child: serves idle connections until its standard input ends.
fn serve(kind: Server) -> io::Result<()> {
    let rt = server_runtime(kind, Flavor::OneWorker, Arc::new(Mutex::new(Vec::new())))?;
    let addr = rt.run(async move {
        match kind {
            Server::Tokio => {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let addr = l.local_addr()?;
                tokio::spawn(async move {
                    while let Ok((s, _)) = l.accept().await {
                        tokio::spawn(wait_for_request(s));
                    }
                });
                io::Result::Ok(addr)
            }
            _ => {
                let l = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
                let addr = l.local_addr()?;
                tokio::spawn(async move {
                    while let Ok((s, _)) = l.accept().await {
                        tokio::spawn(wait_for_request(s));
                    }
                });
                io::Result::Ok(addr)
            }
        }
    })?;
    println!("{addr}");
    let mut rest = String::new();
    while io::stdin().read_line(&mut rest)? > 0 {}
    drop(rt);
    Ok(())
}

/// A connection's task: waits for a request that never comes.
async fn wait_for_request<S: tokio::io::AsyncRead + Unpin>(mut s: S) {
    let mut buf = [0u8; 64];
    let _ = s.read(&mut buf).await;
}
