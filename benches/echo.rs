//! Echo benchmark: a shardio server and a Tokio server side by side in one
//! run, each on one worker thread pinned to CPU 0, driven by the same
//! closed-loop client pinned to CPU 1 (plain Tokio, for both).
//!
//! `cargo bench --bench echo` (set `SHARDIO_BENCH_SECS` to change the
//! measuring time per case, default 3; `SHARDIO_BENCH_ROUNDS`, default 3,
//! rounds in which the two servers alternate: each column is the median
//! over rounds, each ratio the median of the rounds' ratios, and the CPU
//! ratio of every round is printed too). Prints requests/s, p50/p99 latency,
//! server CPU µs per request (the server's threads, including io_uring's
//! kernel threads), and syscalls per request (a `raw_syscalls:sys_enter`
//! perf counter on each server thread, in one extra round per server since
//! the counter itself costs CPU per syscall; needs root and tracefs, else
//! n/a).
//!
//! Cases: 64 connections × 64 B and × 4 KiB, 1 × 64 B, 1000 × 64 B on the
//! one-worker runtime; the first three again on current-thread runtimes
//! (label `ct`, each driven by one thread pinned to CPU 0); 256 × 64 B on
//! two-worker runtimes, unpinned (label `2w`, sharing both CPUs with the
//! client). And one connection paced at 500 requests/s (`@500/s`, open
//! loop, on both runtime kinds): the server's threads park between
//! requests, so its latency and CPU per request include waking up, which
//! the closed-loop cases hide (the server is never idle there).
//!
//! Knobs: `SHARDIO_BENCH_ONLY=tokio|shardio` and `SHARDIO_BENCH_CASE=64x64`
//! (or `ct64x64`, `2w256x64`)
//! run one side / one case (for profiling), `SHARDIO_BENCH_METRICS=1` prints
//! `shardio::metrics()` after it, `SHARDIO_BENCH_DIAG=1` prints fairness,
//! `SHARDIO_BENCH_SPIN_US=50` sets `Config::spin_before_park` on shardio's
//! server, `SHARDIO_BENCH_CLASS=1` puts the server's connections in a priority
//! class (the scheduler's cost per request),
//! `SHARDIO_BENCH_ASYNC_WORKERS=1` compares shardio's symmetric mode with
//! `Config::async_workers` on the client's CPU (application-thread CPU vs
//! total CPU per request).

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod support;
use support::{
    Flavor, Outcome, Server, ServerThreads, client_runtime, cpu_us_per_req, env_parse, percentile,
    print_case, print_header, server_runtime,
};

fn main() -> io::Result<()> {
    let smoke = support::smoke();
    let secs: f64 = env_parse("SHARDIO_BENCH_SECS").unwrap_or(3.0);
    let measure = if smoke {
        Duration::from_millis(100)
    } else {
        Duration::from_secs_f64(secs)
    };
    // (runtime, connections, message size, requests/s per connection or 0
    // for a closed loop)
    let cases: &[(Flavor, usize, usize, u32)] = if smoke {
        &[
            (Flavor::OneWorker, 4, 64, 0),
            (Flavor::CurrentThread, 4, 64, 0),
            (Flavor::OneWorker, 1, 64, 500),
        ]
    } else {
        &[
            (Flavor::OneWorker, 64, 64, 0),
            (Flavor::OneWorker, 64, 4096, 0),
            (Flavor::OneWorker, 1, 64, 0),
            (Flavor::OneWorker, 1000, 64, 0),
            (Flavor::OneWorker, 1, 64, 500),
            (Flavor::CurrentThread, 64, 64, 0),
            (Flavor::CurrentThread, 64, 4096, 0),
            (Flavor::CurrentThread, 1, 64, 0),
            (Flavor::CurrentThread, 1, 64, 500),
            (Flavor::TwoWorkers, 256, 64, 0),
        ]
    };
    // Profiling knobs: SHARDIO_BENCH_ONLY=tokio|shardio, SHARDIO_BENCH_CASE=64x64.
    let only = std::env::var("SHARDIO_BENCH_ONLY").ok();
    let case_filter = std::env::var("SHARDIO_BENCH_CASE").ok();
    let rounds = if smoke {
        1
    } else {
        env_parse("SHARDIO_BENCH_ROUNDS").unwrap_or(3usize).max(1)
    };
    let syscall_id = syscall_tracepoint();
    if syscall_id.is_none() && !smoke {
        println!("note: syscall counts n/a (needs root and tracefs at /sys/kernel/tracing)");
    }
    print_header(true);
    for &(flavor, conns, size, rate) in cases {
        let paced = if rate > 0 {
            format!(" @{rate}/s")
        } else {
            String::new()
        };
        let label = format!("{}{conns} x {size} B{paced}", flavor.label());
        let case = Case {
            flavor,
            conns,
            size,
            rate,
            measure,
        };
        if case_filter.as_ref().is_some_and(|c| {
            *c != format!("{}{conns}x{size}{}", flavor.label().trim(), paced.trim())
        }) {
            continue;
        }
        if let Some(only) = &only {
            let kind = if only == "tokio" {
                Server::Tokio
            } else {
                Server::Shardio
            };
            let r = run_case(kind, &case, None)?;
            println!(
                "{label} {only}: {:.0} req/s, p99 {:.1} µs, {:.2} cpu µs/req",
                r.rps, r.p99_us, r.cpu_us_per_req
            );
            if std::env::var_os("SHARDIO_BENCH_METRICS").is_some() {
                println!("{:#?}", shardio::metrics());
            }
            continue;
        }
        if std::env::var_os("SHARDIO_BENCH_ASYNC_WORKERS").is_some() {
            // Symmetric vs async-worker mode (issue 6): application-thread
            // CPU vs total CPU (with io_uring's kernel threads) per request.
            let sym = run_case(Server::Shardio, &case, syscall_id)?;
            let aw = run_case(Server::ShardioAsyncWorkers, &case, syscall_id)?;
            for (name, r) in [("symmetric", &sym), ("async_workers(1)", &aw)] {
                println!(
                    "{label} {name:<17} {:>9.0} req/s  app-thread {:>5.2} µs/req  total {:>5.2} µs/req  p99 {:>7.1} µs",
                    r.rps, r.app_cpu_us_per_req, r.cpu_us_per_req, r.p99_us
                );
            }
            continue;
        }
        // This VM's speed drifts within seconds: the two servers alternate
        // for `rounds` rounds; the rows show the median of each column and
        // the ratio row the median of the rounds' ratios.
        let (mut tokio, mut shardio) = (Vec::new(), Vec::new());
        // Counting syscalls costs CPU per syscall (a tracepoint on each
        // server thread: ~10% of Tokio's server CPU, which makes three
        // syscalls per request), so the measured rounds run without the
        // counter and one more round per server counts them.
        for _ in 0..rounds {
            tokio.push(run_case(Server::Tokio, &case, None)?);
            shardio.push(run_case(Server::Shardio, &case, None)?);
        }
        let syscalls = |kind| -> io::Result<Option<f64>> {
            Ok(match syscall_id {
                Some(_) => run_case(kind, &case, syscall_id)?.syscalls_per_req,
                None => None,
            })
        };
        let (tokio_sys, shardio_sys) = (syscalls(Server::Tokio)?, syscalls(Server::Shardio)?);
        print_case(&label, &tokio, &shardio, Some((tokio_sys, shardio_sys)));
    }
    Ok(())
}

/// `SHARDIO_BENCH_DIAG=1` prints fairness and run-queue diagnostics.
fn diag() -> bool {
    std::env::var_os("SHARDIO_BENCH_DIAG").is_some()
}

fn syscall_tracepoint() -> Option<u64> {
    let path = "/sys/kernel/tracing/events/raw_syscalls/sys_enter/id";
    if std::fs::metadata(path).is_err() {
        let _ = std::process::Command::new("mount")
            .args(["-t", "tracefs", "nodev", "/sys/kernel/tracing"])
            .status();
    }
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A perf counter of syscalls entered by one thread.
struct SyscallCounter(i32);

impl SyscallCounter {
    fn open(tracepoint: u64, tid: i32) -> Option<SyscallCounter> {
        #[repr(C)]
        #[derive(Default)]
        struct PerfEventAttr {
            type_: u32,
            size: u32,
            config: u64,
            sample: u64,
            sample_type: u64,
            read_format: u64,
            flags: u64,
            rest: [u64; 10],
        }
        let attr = PerfEventAttr {
            type_: 2, // PERF_TYPE_TRACEPOINT
            size: std::mem::size_of::<PerfEventAttr>() as u32,
            config: tracepoint,
            ..Default::default()
        };
        // SAFETY: perf_event_open reads `attr` (sized by its `size` field).
        let fd = unsafe { libc::syscall(libc::SYS_perf_event_open, &attr, tid, -1, -1, 0) };
        (fd >= 0).then_some(SyscallCounter(fd as i32))
    }

    fn read(&self) -> u64 {
        let mut value = 0u64;
        // SAFETY: reads 8 bytes into a local from a perf counter fd we own.
        unsafe { libc::read(self.0, (&raw mut value).cast(), 8) };
        value
    }
}

impl Drop for SyscallCounter {
    fn drop(&mut self) {
        // SAFETY: closes an fd this counter owns.
        unsafe { libc::close(self.0) };
    }
}

async fn serve_tokio(listener: tokio::net::TcpListener, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        let _ = s.set_nodelay(true);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if s.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

async fn serve_shardio(listener: shardio::net::TcpListener, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        let _ = s.set_nodelay(true);
        // SHARDIO_BENCH_CLASS=1: each connection in a priority class, so
        // every receive and send goes through the scheduler.
        if std::env::var("SHARDIO_BENCH_CLASS").is_ok_and(|v| v == "1") {
            static CLASS: std::sync::OnceLock<shardio::sched::PriorityClass> =
                std::sync::OnceLock::new();
            s.set_class(CLASS.get_or_init(|| shardio::sched::PriorityClass::new("echo", 100)));
        }
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if s.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

/// One case of the benchmark.
struct Case {
    flavor: Flavor,
    conns: usize,
    size: usize,
    /// Requests per second per connection (open loop), or 0: each
    /// connection sends its next request as soon as the last came back.
    rate: u32,
    measure: Duration,
}

fn run_case(kind: Server, case: &Case, tracepoint: Option<u64>) -> io::Result<Outcome> {
    let &Case {
        flavor,
        conns,
        size,
        rate,
        measure,
    } = case;
    let tids = Arc::new(Mutex::new(Vec::new()));
    let rt = server_runtime(kind, flavor, Arc::clone(&tids))?;
    let stop = Arc::new(AtomicBool::new(false));
    // Bound in a task of the server's runtime, so shardio's listener lives on
    // the ring of the thread that runs it.
    let addr: SocketAddr = rt.run({
        let stop = Arc::clone(&stop);
        async move {
            match kind {
                Server::Tokio => {
                    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let a = l.local_addr()?;
                    tokio::spawn(serve_tokio(l, stop));
                    io::Result::Ok(a)
                }
                Server::Shardio | Server::ShardioAsyncWorkers => {
                    let l = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let a = l.local_addr()?;
                    tokio::spawn(serve_shardio(l, stop));
                    io::Result::Ok(a)
                }
            }
        }
    })?;

    // The client: a current-thread Tokio runtime on the other CPU.
    let client = std::thread::spawn(move || -> io::Result<(u64, Vec<u32>, Duration)> {
        let rt = client_runtime()?;
        rt.block_on(async move {
            let count = Arc::new(AtomicU64::new(0));
            let recording = Arc::new(AtomicBool::new(false));
            let done = Arc::new(AtomicBool::new(false));
            let mut tasks = Vec::new();
            for _ in 0..conns {
                let mut s = tokio::net::TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                let (count, recording, done) = (Arc::clone(&count), Arc::clone(&recording), Arc::clone(&done));
                tasks.push(tokio::spawn(async move {
                    let msg = vec![7u8; size];
                    let mut back = vec![0u8; size];
                    let mut lat = Vec::new();
                    let interval = (rate > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(rate)));
                    let mut next = tokio::time::Instant::now();
                    while !done.load(Ordering::Relaxed) {
                        if let Some(interval) = interval {
                            // Open loop: the round trip is timed from the
                            // send, after the client's timer.
                            next += interval;
                            tokio::time::sleep_until(next).await;
                        }
                        let t = Instant::now();
                        s.write_all(&msg).await?;
                        s.read_exact(&mut back).await?;
                        if recording.load(Ordering::Relaxed) {
                            lat.push(t.elapsed().as_micros() as u32);
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    io::Result::Ok(lat)
                }));
            }
            tokio::time::sleep(Duration::from_millis(300)).await; // warm-up
            recording.store(true, Ordering::Relaxed);
            let started = Instant::now();
            tokio::time::sleep(measure).await;
            recording.store(false, Ordering::Relaxed);
            let elapsed = started.elapsed();
            done.store(true, Ordering::Relaxed);
            let mut lat = Vec::new();
            let mut per_conn = Vec::new();
            for t in tasks {
                let l = t.await.expect("client task")?;
                per_conn.push((l.len(), l.iter().copied().max().unwrap_or(0)));
                lat.extend(l);
            }
            if diag() {
                // Fairness: requests per connection and each one's worst wait.
                per_conn.sort_unstable();
                let worst = per_conn.iter().map(|p| p.1).max().unwrap_or(0);
                eprintln!(
                    "  diag: requests per connection min {} median {} max {}; worst single wait {worst} µs",
                    per_conn[0].0,
                    per_conn[per_conn.len() / 2].0,
                    per_conn[per_conn.len() - 1].0
                );
            }
            io::Result::Ok((count.load(Ordering::Relaxed), lat, elapsed))
        })
    });

    if diag() {
        // Tasks waiting in Tokio's global queue starve under load: a shardio
        // bug once put hundreds there (see the closing note of issue 3).
        let handle = rt.handle().clone();
        std::thread::spawn(move || {
            let (mut max, mut sum) = (0, 0);
            for _ in 0..100 {
                let depth = handle.metrics().global_queue_depth();
                max = max.max(depth);
                sum += depth;
                std::thread::sleep(Duration::from_millis(5));
            }
            eprintln!(
                "  diag: server global queue depth max {max} avg {}",
                sum / 100
            );
        });
    }
    // Server-side accounting over the measured window (approximately: the
    // client's warm-up is excluded by starting after it).
    std::thread::sleep(Duration::from_millis(300));
    let threads = ServerThreads::collect(&tids);
    let counters: Vec<SyscallCounter> = tracepoint
        .map(|tp| {
            threads
                .all
                .iter()
                .filter_map(|&tid| SyscallCounter::open(tp, tid))
                .collect()
        })
        .unwrap_or_default();
    let (cpu_before, app_before) = threads.cpu_ns();
    let (count, mut lat, elapsed) = client.join().expect("client thread")?;
    let (cpu_after, app_after) = threads.cpu_ns();
    let syscalls: u64 = counters.iter().map(SyscallCounter::read).sum();
    stop.store(true, Ordering::Relaxed);
    drop(rt);

    lat.sort_unstable();
    let requests = count.max(1) as f64;
    Ok(Outcome {
        rps: requests / elapsed.as_secs_f64(),
        p50_us: percentile(&lat, 0.50),
        p99_us: percentile(&lat, 0.99),
        cpu_us_per_req: cpu_us_per_req(cpu_after - cpu_before, requests),
        app_cpu_us_per_req: cpu_us_per_req(app_after - app_before, requests),
        syscalls_per_req: (!counters.is_empty()).then(|| syscalls as f64 / requests),
    })
}
