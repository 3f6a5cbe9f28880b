//! The echo server, in a child process of its own (`soak --server`): every
//! byte a connection receives goes back to it, until the client closes
//! (then the server closes too) or resets it. It prints its addresses on
//! its first line of output and runs until its standard input closes; then
//! it waits for its connections to end, prints what it counted, and exits
//! with status 1 if anything went wrong.

use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use shardio::net::{TcpSocket, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::stats::{Problem, Stats};

/// Listeners (each a port, so that connections have more 4-tuples).
const LISTENERS: usize = 4;

/// The child's main: serve until standard input closes.
pub(crate) fn main(workers: usize) -> ExitCode {
    let rt = match crate::runtime(workers) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("soak server: runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(serve()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("soak server: {e}");
            ExitCode::from(2)
        }
    }
}

async fn serve() -> io::Result<bool> {
    let stats = Arc::new(Stats::default());
    let open = Arc::new(AtomicU64::new(0));
    let mut addrs = Vec::new();
    for _ in 0..LISTENERS {
        addrs.push(listen(&stats, &open)?);
    }
    let line: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
    println!("listening {}", line.join(" "));
    io::stdout().flush()?;
    // Until the parent closes our standard input (or dies).
    tokio::task::spawn_blocking(|| io::stdin().lock().lines().for_each(drop))
        .await
        .map_err(io::Error::other)?;

    // Every connection ends, and nothing stays held or orphaned.
    let deadline = Instant::now() + Duration::from_secs(20);
    let settled = loop {
        let m = shardio::metrics();
        let settled = open.load(Relaxed) == 0 && m.ops_orphaned == 0 && m.recv_bytes_held == 0;
        if settled || Instant::now() >= deadline {
            break settled;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let m = shardio::metrics();
    eprintln!(
        "soak server: connections open {}, reset by clients {}, errors {}; orphaned ops {}, \
         received bytes held {}, receive-limit hits {}, pool ran dry {} times",
        open.load(Relaxed),
        stats.server_resets.load(Relaxed),
        stats.errors.load(Relaxed),
        m.ops_orphaned,
        m.recv_bytes_held,
        m.recv_limit_hits,
        m.recv_no_buffers
    );
    if !settled {
        eprintln!("soak server: connections or held resources did not end within 20 s");
    }
    Ok(settled && stats.errors.load(Relaxed) == 0)
}

/// A listener with a backlog for thousands of connections arriving at once
/// (the kernel caps it at `net.core.somaxconn`), and its accept loop.
fn listen(stats: &Arc<Stats>, open: &Arc<AtomicU64>) -> io::Result<SocketAddr> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let listener = socket.listen(8192)?;
    let addr = listener.local_addr()?;
    let (stats, open) = (Arc::clone(stats), Arc::clone(open));
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    open.fetch_add(1, Relaxed);
                    let (stats, open) = (Arc::clone(&stats), Arc::clone(&open));
                    tokio::spawn(async move {
                        echo(stream, &stats).await;
                        open.fetch_sub(1, Relaxed);
                    });
                }
                Err(e) => {
                    stats.problem(Problem::Error, format_args!("accept: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(addr)
}

async fn echo(mut stream: TcpStream, stats: &Stats) {
    let mut buf = vec![0u8; 8 * 1024];
    let result = async {
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return stream.shutdown().await;
            }
            stream.write_all(&buf[..n]).await?;
        }
    }
    .await;
    match result {
        Ok(()) => {}
        // The clients' aborts.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ) =>
        {
            stats.server_resets.fetch_add(1, Relaxed);
        }
        Err(e) => stats.problem(Problem::Error, format_args!("server connection: {e}")),
    }
}
