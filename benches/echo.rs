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
//! Knobs: `SHARDIO_BENCH_ONLY=tokio|shardio` and `SHARDIO_BENCH_CASE=64x64`
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

const SERVER_CPU: usize = 0;
const CLIENT_CPU: usize = 1;

fn main() -> io::Result<()> {
    let smoke =
        std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench");
    let secs: f64 = env_parse("SHARDIO_BENCH_SECS").unwrap_or(3.0);
    let measure = if smoke {
        Duration::from_millis(100)
    } else {
        Duration::from_secs_f64(secs)
    };
    let cases: &[(usize, usize)] = if smoke {
        &[(4, 64)]
    } else {
        &[(64, 64), (64, 4096), (1, 64), (1000, 64)]
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
    println!(
        "{:<18} {:>8} {:>11} {:>9} {:>9} {:>10} {:>9}",
        "case", "server", "req/s", "p50 µs", "p99 µs", "cpu µs/req", "sys/req"
    );
    for &(conns, size) in cases {
        if case_filter
            .as_ref()
            .is_some_and(|c| *c != format!("{conns}x{size}"))
        {
            continue;
        }
        if let Some(only) = &only {
            let kind = if only == "tokio" {
                Server::Tokio
            } else {
                Server::Shardio
            };
            let r = run_case(kind, conns, size, measure, None)?;
            println!(
                "{conns} x {size} B {only}: {:.0} req/s, p99 {:.1} µs, {:.2} cpu µs/req",
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
            let sym = run_case(Server::Shardio, conns, size, measure, syscall_id)?;
            let aw = run_case(
                Server::ShardioAsyncWorkers,
                conns,
                size,
                measure,
                syscall_id,
            )?;
            for (name, r) in [("symmetric", &sym), ("async_workers(1)", &aw)] {
                println!(
                    "{conns} x {size} B {name:<17} {:>9.0} req/s  app-thread {:>5.2} µs/req  total {:>5.2} µs/req  p99 {:>7.1} µs",
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
            tokio.push(run_case(Server::Tokio, conns, size, measure, None)?);
            shardio.push(run_case(Server::Shardio, conns, size, measure, None)?);
        }
        let syscalls = |kind| -> io::Result<Option<f64>> {
            Ok(match syscall_id {
                Some(_) => run_case(kind, conns, size, measure, syscall_id)?.syscalls_per_req,
                None => None,
            })
        };
        let (tokio_sys, shardio_sys) = (syscalls(Server::Tokio)?, syscalls(Server::Shardio)?);
        let ratio = |f: &dyn Fn(&Outcome) -> f64| {
            median(tokio.iter().zip(&shardio).map(|(t, s)| f(s) / f(t)))
        };
        let ratios = Outcome {
            rps: ratio(&|r| r.rps),
            p50_us: ratio(&|r| r.p50_us),
            p99_us: ratio(&|r| r.p99_us),
            cpu_us_per_req: ratio(&|r| r.cpu_us_per_req),
            app_cpu_us_per_req: ratio(&|r| r.app_cpu_us_per_req),
            syscalls_per_req: None,
        };
        let cpu_rounds: Vec<String> = tokio
            .iter()
            .zip(&shardio)
            .map(|(t, s)| format!("{:.2}", s.cpu_us_per_req / t.cpu_us_per_req))
            .collect();
        let (mut tokio, mut shardio) = (Outcome::median(&tokio), Outcome::median(&shardio));
        tokio.syscalls_per_req = tokio_sys;
        shardio.syscalls_per_req = shardio_sys;
        let label = format!("{conns} x {size} B");
        for (name, r) in [("tokio", &tokio), ("shardio", &shardio)] {
            println!(
                "{:<18} {:>8} {:>11.0} {:>9.1} {:>9.1} {:>10.2} {:>9}",
                label,
                name,
                r.rps,
                r.p50_us,
                r.p99_us,
                r.cpu_us_per_req,
                r.syscalls_per_req
                    .map_or("n/a".into(), |s| format!("{s:.3}"))
            );
        }
        println!(
            "{:<18} {:>8} {:>10.2}x {:>8.2}x {:>8.2}x {:>9.2}x {:>9}{}",
            label,
            "ratio",
            ratios.rps,
            ratios.p50_us,
            ratios.p99_us,
            ratios.cpu_us_per_req,
            match (shardio.syscalls_per_req, tokio.syscalls_per_req) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
                _ => "n/a".into(),
            },
            if rounds > 1 {
                format!("  cpu ratio by round: {}", cpu_rounds.join(" "))
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// `SHARDIO_BENCH_DIAG=1` prints fairness and run-queue diagnostics.
fn diag() -> bool {
    std::env::var_os("SHARDIO_BENCH_DIAG").is_some()
}

/// A numeric knob from the environment; unset or unparsable is `None`.
fn env_parse<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok()?.parse().ok()
}

#[derive(Clone, Copy, PartialEq)]
enum Server {
    Tokio,
    Shardio,
    /// shardio with `async_workers` on the client's CPU: the SQ-poll thread
    /// and io-wq run there, the Tokio worker stays on the server CPU.
    ShardioAsyncWorkers,
}

struct Outcome {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us_per_req: f64,
    /// CPU of the Tokio worker threads alone (without io_uring's kernel threads).
    app_cpu_us_per_req: f64,
    syscalls_per_req: Option<f64>,
}

/// The median of some values (the upper one of an even count).
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

impl Outcome {
    /// Each column's median over rounds.
    fn median(rounds: &[Outcome]) -> Outcome {
        let syscalls: Vec<f64> = rounds.iter().filter_map(|r| r.syscalls_per_req).collect();
        Outcome {
            rps: median(rounds.iter().map(|r| r.rps)),
            p50_us: median(rounds.iter().map(|r| r.p50_us)),
            p99_us: median(rounds.iter().map(|r| r.p99_us)),
            cpu_us_per_req: median(rounds.iter().map(|r| r.cpu_us_per_req)),
            app_cpu_us_per_req: median(rounds.iter().map(|r| r.app_cpu_us_per_req)),
            syscalls_per_req: (!syscalls.is_empty()).then(|| median(syscalls.into_iter())),
        }
    }
}

fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is empty; CPU_SET stays within it for a
    // CPU below CPU_SETSIZE; sched_setaffinity(0) targets this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set);
    }
}

fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// utime + stime of a thread of this process, in clock ticks.
fn thread_cpu_ticks(tid: i32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return 0;
    };
    let after = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
    utime + stime
}

/// io_uring's kernel threads of this process (SQ-poll, io-wq workers).
fn io_uring_threads() -> Vec<i32> {
    let mut tids = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for entry in dir.flatten() {
            let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            if comm.starts_with("iou-") {
                if let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) {
                    tids.push(tid);
                }
            }
        }
    }
    tids
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

fn server_runtime(kind: Server, tids: Arc<Mutex<Vec<i32>>>) -> io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(1).enable_all();
    let record = move || {
        pin(SERVER_CPU);
        tids.lock().unwrap().push(gettid());
    };
    match kind {
        Server::Tokio => {
            builder.on_thread_start(record);
        }
        Server::Shardio => {
            use shardio::BuilderExt;
            let spin =
                env_parse("SHARDIO_BENCH_SPIN_US").map_or(Duration::ZERO, Duration::from_micros);
            let config = shardio::Config::default()
                .spin_before_park(spin)?
                .on_thread_start(record);
            builder.shardio(config);
        }
        Server::ShardioAsyncWorkers => {
            use shardio::BuilderExt;
            let config = shardio::Config::default()
                .async_workers(&CLIENT_CPU.to_string())?
                .on_thread_start(record);
            builder.shardio(config);
        }
    }
    builder.build()
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

fn run_case(
    kind: Server,
    conns: usize,
    size: usize,
    measure: Duration,
    tracepoint: Option<u64>,
) -> io::Result<Outcome> {
    let tids = Arc::new(Mutex::new(Vec::new()));
    let rt = server_runtime(kind, Arc::clone(&tids))?;
    let stop = Arc::new(AtomicBool::new(false));
    let addr: SocketAddr = rt.block_on(async {
        match kind {
            Server::Tokio => {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let a = l.local_addr()?;
                tokio::spawn(serve_tokio(l, Arc::clone(&stop)));
                io::Result::Ok(a)
            }
            Server::Shardio | Server::ShardioAsyncWorkers => {
                // Bind on a worker so the listener lives on the worker's ring.
                let stop = Arc::clone(&stop);
                tokio::spawn(async move {
                    let l = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let a = l.local_addr()?;
                    tokio::spawn(serve_shardio(l, stop));
                    io::Result::Ok(a)
                })
                .await
                .expect("bind task")
            }
        }
    })?;

    // The client: a current-thread Tokio runtime on the other CPU.
    let client = std::thread::spawn(move || -> io::Result<(u64, Vec<u32>, Duration)> {
        pin(CLIENT_CPU);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
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
                    while !done.load(Ordering::Relaxed) {
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
    let app_tids: Vec<i32> = tids.lock().unwrap().clone();
    let server_tids: Vec<i32> = {
        let mut t = app_tids.clone();
        t.extend(io_uring_threads());
        t
    };
    let counters: Vec<SyscallCounter> = tracepoint
        .map(|tp| {
            server_tids
                .iter()
                .filter_map(|&tid| SyscallCounter::open(tp, tid))
                .collect()
        })
        .unwrap_or_default();
    let cpu_before: u64 = server_tids.iter().map(|&t| thread_cpu_ticks(t)).sum();
    let app_before: u64 = app_tids.iter().map(|&t| thread_cpu_ticks(t)).sum();
    let (count, mut lat, elapsed) = client.join().expect("client thread")?;
    let cpu_after: u64 = server_tids.iter().map(|&t| thread_cpu_ticks(t)).sum();
    let app_after: u64 = app_tids.iter().map(|&t| thread_cpu_ticks(t)).sum();
    let syscalls: u64 = counters.iter().map(SyscallCounter::read).sum();
    stop.store(true, Ordering::Relaxed);
    drop(rt);

    // SAFETY: sysconf has no preconditions.
    let ticks_per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
    };
    let requests = count.max(1) as f64;
    Ok(Outcome {
        rps: requests / elapsed.as_secs_f64(),
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        cpu_us_per_req: (cpu_after - cpu_before) as f64 / ticks_per_sec * 1e6 / requests,
        app_cpu_us_per_req: (app_after - app_before) as f64 / ticks_per_sec * 1e6 / requests,
        syscalls_per_req: (!counters.is_empty()).then(|| syscalls as f64 / requests),
    })
}
