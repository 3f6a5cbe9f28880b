//! A soak run: many connections on shardio for a long time, with
//! everything that strains held resources at once, and a verdict.
//!
//! ```text
//! cargo run --release --example soak -- [--conns 10000] [--secs 600]
//! ```
//!
//! An echo server (four listeners) runs on a shardio runtime in a child
//! process (this binary with `--server`) and `--conns` clients run on a
//! shardio runtime in this one, so each process holds one end of each
//! connection: 10,000 connections need about 10,000 fds per process, which
//! fits the common hard limit of 20,000 (the soft limit is raised here with
//! `setrlimit`). Each client keeps a connection open for sessions of 20 to
//! 220 rounds; a round sends a random message (1 B to 64 KiB) and checks
//! every byte of its echo; 3% of rounds are slow readers (256 KiB to 1 MiB,
//! read after a pause of 0.5-3 s, so the echo piles up against the receive
//! limit and pushes back on the server), 2% abort the connection
//! mid-stream (reset or closed, with a write possibly in flight and echoed
//! bytes unread). Beside them `--files` tasks write files (1 KiB to 1 MiB)
//! under a temp dir, through `AsyncWrite` or positional owned buffers, read
//! them back, check them and remove them.
//!
//! Every 10 s (`--interval-secs`) a line gives RSS (`VmRSS`) and open fds
//! of both processes (client+server), connections, bytes verified, rounds,
//! sessions, aborts, slow readers, file round trips, problems, and the
//! client process's shardio gauges (received bytes held, orphaned
//! operations, receive-limit hits, times a receive pool ran dry). The run
//! fails (exit status 1) on any lost or corrupted byte, an operation that
//! does not finish within 60 s, an interval in which no byte was verified,
//! RSS or fds at the end above the first line after the warm-up by a
//! generous margin (RSS +50% + 64 MiB, fds +10% or 64, per process), or
//! fds and held resources that do not return once every client closed (in
//! either process). Bad arguments or an fd limit that cannot be raised exit
//! with status 2.
//!
//! The client process also prints the heap bytes its code holds, and its
//! growth is judged like RSS's (`alloc.rs` says why).
//!
//! Files: `cli.rs` the command line, `stats.rs` the shared counters,
//! `server.rs` the echo server child, `server_process.rs` the handle on it,
//! `client.rs` a client's sessions, `rounds.rs` a round's I/O, `files.rs`
//! the file tasks, `report.rs` the lines, the growth check and the summary,
//! `limits.rs` the fd limit, `alloc.rs` the heap count; this file starts
//! everything and judges.

mod alloc;
mod cli;
mod client;
mod files;
mod limits;
mod report;
mod rounds;
mod server;
mod server_process;
mod stats;

use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use shardio::{BuilderExt, Config};
use tokio_util::sync::CancellationToken;

use crate::client::Client;
use crate::files::FileWorker;
use crate::report::Sample;
use crate::rounds::OP_TIMEOUT;
use crate::server_process::ServerProcess;
use crate::stats::Stats;

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

fn main() -> ExitCode {
    let args = match cli::parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::from(2);
        }
    };
    // One end of each connection per process, and a margin for the rest
    // (rings, listeners, files, connections closing while others open).
    let needed = args.conns as u64 + args.files as u64 + 1024;
    if let Err(e) = limits::raise_fd_limit(needed, args.conns) {
        eprintln!("soak: {e}");
        return ExitCode::from(2);
    }
    if args.server {
        return server::main(args.workers);
    }
    let server = match ServerProcess::start(args.workers, args.conns) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("soak: starting the server child: {e}");
            return ExitCode::from(2);
        }
    };
    let mut failures = match runtime(args.workers).map(|rt| rt.block_on(run(&args, &server))) {
        Ok(Ok(failures)) => failures,
        Ok(Err(e)) | Err(e) => vec![format!("could not run: {e}")],
    };
    if let Err(e) = server.finish(Duration::from_secs(30)) {
        failures.push(e);
    }
    if failures.is_empty() {
        println!("verdict: PASS");
        ExitCode::SUCCESS
    } else {
        for f in &failures {
            println!("verdict: FAIL: {f}");
        }
        ExitCode::from(1)
    }
}

/// The shardio runtime of either process.
pub(crate) fn runtime(workers: usize) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .shardio(Config::default())
        .build()
}

/// Runs the soak; returns what failed.
async fn run(args: &cli::Args, server: &ServerProcess) -> io::Result<Vec<String>> {
    let dir = args
        .dir
        .join(format!("shardio-soak-{}", std::process::id()));
    shardio::fs::create_dir_all(&dir).await?;
    let stats = Arc::new(Stats::default());
    let stop = CancellationToken::new();
    let addrs: Arc<[_]> = server.addrs.clone().into();
    let fds_at_start = (report::fds(), server.fds());
    let m = shardio::metrics();
    println!(
        "soak: {} connections, {} s, {} workers, {} file tasks under {}; path: {}",
        args.conns,
        args.duration.as_secs(),
        args.workers,
        args.files,
        dir.display(),
        match &m.fallback_reason {
            None => "io_uring".to_string(),
            Some(reason) => format!("fallback ({reason})"),
        }
    );

    let mut tasks = tokio::task::JoinSet::new();
    let ramp = (args.warmup / 2).min(Duration::from_secs(5));
    for id in 0..args.conns as u64 {
        tasks.spawn(
            Client {
                id,
                addrs: Arc::clone(&addrs),
                stats: Arc::clone(&stats),
                stop: stop.clone(),
                think: args.think,
                ramp,
            }
            .run(),
        );
    }
    for id in 0..args.files as u64 {
        tasks.spawn(
            FileWorker {
                id,
                dir: dir.clone(),
                stats: Arc::clone(&stats),
                stop: stop.clone(),
            }
            .run(),
        );
    }

    let mut failures = Vec::new();
    let start = Instant::now();
    let mut ticks = tokio::time::interval_at((start + args.interval).into(), args.interval);
    let first = report::sample(Duration::ZERO, &stats, server);
    let (mut prev, mut base) = (first, None::<Sample>);
    let mut peak_rss = (first.rss, first.server_rss);
    let intervals = args.duration.as_secs() / args.interval.as_secs();
    for _ in 0..intervals {
        ticks.tick().await;
        let now = report::sample(start.elapsed(), &stats, server);
        report::line(&now, &prev, &stats);
        peak_rss = (peak_rss.0.max(now.rss), peak_rss.1.max(now.server_rss));
        if base.is_none() && now.at >= args.warmup {
            base = Some(now);
        }
        if now.verified == prev.verified {
            failures.push(format!(
                "no byte was verified between {} s and {} s: a hang",
                prev.at.as_secs(),
                now.at.as_secs()
            ));
        }
        prev = now;
        if stats.broken() || !failures.is_empty() {
            failures.push("stopped early (see above)".into());
            break;
        }
    }
    let last = prev;

    // The clients end their rounds and close; the file tasks stop.
    stop.cancel();
    let drain = OP_TIMEOUT + Duration::from_secs(10);
    if tokio::time::timeout(drain, async { while tasks.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        failures.push(format!(
            "{} client and file tasks had not ended {drain:?} after the run: a hang",
            tasks.len()
        ));
        tasks.abort_all();
    }
    let settled = settle(fds_at_start, server).await;
    if let Err(what) = &settled {
        failures.push(what.clone());
    }
    match base {
        Some(base) => failures.extend(report::growth_failures(&base, &last)),
        None => failures.push("the run ended before the warm-up did: no growth check".into()),
    }
    if stats.broken() || stats.errors.load(Relaxed) > 0 {
        failures.push(format!(
            "{} errors, {} streams lost bytes, {} corrupted, {} operations hung",
            stats.errors.load(Relaxed),
            stats.lost.load(Relaxed),
            stats.corrupt.load(Relaxed),
            stats.hangs.load(Relaxed)
        ));
    }
    report::summary(args, &stats, base.as_ref(), &last, peak_rss, fds_at_start);
    let _ = shardio::fs::remove_dir_all(&dir).await;
    Ok(failures)
}

/// Once every client closed: the fds of both processes return to what they
/// had before the first connection, and nothing is held or orphaned here
/// (the server child checks itself when it finishes), within 10 s.
async fn settle(fds_at_start: (u64, u64), server: &ServerProcess) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (fds, server_fds, m) = (report::fds(), server.fds(), shardio::metrics());
        // A ring and its eventfd per worker may appear after the start.
        let settled = fds <= fds_at_start.0 + 16
            && server_fds <= fds_at_start.1 + 16
            && m.ops_orphaned == 0
            && m.recv_bytes_held == 0;
        println!(
            "after the clients closed: fds {fds}+{server_fds} (before the first connection: \
             {}+{}), orphaned ops {}, received bytes held {}",
            fds_at_start.0, fds_at_start.1, m.ops_orphaned, m.recv_bytes_held
        );
        if settled {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "10 s after every client closed: fds {fds}+{server_fds} open ({}+{} before the \
                 first connection), {} operations orphaned, {} received bytes held",
                fds_at_start.0, fds_at_start.1, m.ops_orphaned, m.recv_bytes_held
            ));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
