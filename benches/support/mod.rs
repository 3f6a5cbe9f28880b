//! What the benchmarks (`echo`, `http`, `redis`) share: the CPU pinning, the
//! server runtimes (Tokio's and shardio's, one worker pinned to
//! [`SERVER_CPU`]), the server-CPU accounting from `/proc`, the medians over
//! rounds and the table they print.
//!
//! Each bench includes this file with `mod support;`; it is no bench target
//! of its own (Cargo only discovers `benches/*.rs` and `benches/*/main.rs`).

// Each bench uses a part of this module (e.g. only `echo` builds the
// async-workers runtime).
#![allow(dead_code)]

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The CPU the server's runtime worker is pinned to.
pub(crate) const SERVER_CPU: usize = 0;
/// The CPU the load generator is pinned to.
pub(crate) const CLIENT_CPU: usize = 1;

/// Smoke mode: run as a test (`cargo test --benches` passes no `--bench`),
/// briefly; `cargo bench` passes `--bench`.
pub(crate) fn smoke() -> bool {
    std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench")
}

/// A numeric knob from the environment; unset or unparsable is `None`.
pub(crate) fn env_parse<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok()?.parse().ok()
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Server {
    Tokio,
    Shardio,
    /// shardio with `async_workers` on the client's CPU: the SQ-poll thread
    /// and io-wq run there, the Tokio worker stays on the server CPU.
    ShardioAsyncWorkers,
}

/// The load generator's runtime: current-thread, run by this thread, which
/// is pinned to [`CLIENT_CPU`].
pub(crate) fn client_runtime() -> io::Result<tokio::runtime::Runtime> {
    pin(CLIENT_CPU);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// How the server's runtime runs its tasks.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Flavor {
    /// Multi-thread with one worker pinned to [`SERVER_CPU`].
    OneWorker,
    /// Current-thread, driven by a thread pinned to [`SERVER_CPU`].
    CurrentThread,
    /// Multi-thread with two workers, unpinned (they share the CPUs with
    /// the load generator).
    TwoWorkers,
}

impl Flavor {
    /// The case label's prefix.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Flavor::OneWorker => "",
            Flavor::CurrentThread => "ct ",
            Flavor::TwoWorkers => "2w ",
        }
    }
}

/// A server's runtime, running: a multi-thread runtime, or a current-thread
/// one whose driving thread this owns. Dropping it shuts the runtime down.
pub(crate) struct ServerRt {
    handle: tokio::runtime::Handle,
    runtime: Option<tokio::runtime::Runtime>,
    /// Current-thread: ends the driving thread's `block_on`.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    driver: Option<std::thread::JoinHandle<()>>,
}

impl ServerRt {
    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    /// Runs `future` on the server's runtime (as a task) and waits for it.
    pub(crate) fn run<F>(&self, future: F) -> F::Output
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        futures::executor::block_on(self.handle.spawn(future)).expect("server task")
    }
}

impl Drop for ServerRt {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(driver) = self.driver.take() {
            let _ = driver.join();
        }
        drop(self.runtime.take());
    }
}

/// The server's runtime as `flavor` says, each of its threads' ids pushed
/// to `tids` as it starts (pinned to [`SERVER_CPU`] unless the flavor is
/// unpinned). `SHARDIO_BENCH_SPIN_US=50` sets `Config::spin_before_park` on
/// shardio's.
pub(crate) fn server_runtime(
    kind: Server,
    flavor: Flavor,
    tids: Arc<Mutex<Vec<i32>>>,
) -> io::Result<ServerRt> {
    let mut builder = match flavor {
        Flavor::OneWorker | Flavor::TwoWorkers => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(if flavor == Flavor::OneWorker { 1 } else { 2 });
            b
        }
        Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
    };
    builder.enable_all();
    let pinned = flavor != Flavor::TwoWorkers;
    let record = {
        let tids = Arc::clone(&tids);
        move || {
            if pinned {
                pin(SERVER_CPU);
            }
            tids.lock().unwrap().push(gettid());
        }
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
    let runtime = builder.build()?;
    let handle = runtime.handle().clone();
    if flavor != Flavor::CurrentThread {
        return Ok(ServerRt {
            handle,
            runtime: Some(runtime),
            stop: None,
            driver: None,
        });
    }
    // A current-thread runtime runs its tasks only inside `block_on`: a
    // pinned thread drives it until the server is dropped.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let driver = std::thread::spawn(move || {
        pin(SERVER_CPU);
        tids.lock().unwrap().push(gettid());
        runtime.block_on(async {
            let _ = stopped.await;
        });
    });
    Ok(ServerRt {
        handle,
        runtime: None,
        stop: Some(stop),
        driver: Some(driver),
    })
}

/// One run of one server in one case.
pub(crate) struct Outcome {
    pub(crate) rps: f64,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
    pub(crate) cpu_us_per_req: f64,
    /// CPU of the Tokio worker threads alone (without io_uring's kernel threads).
    pub(crate) app_cpu_us_per_req: f64,
    pub(crate) syscalls_per_req: Option<f64>,
}

/// The median of some values (the upper one of an even count).
pub(crate) fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The value at fraction `p` of sorted latencies (0 if there are none).
pub(crate) fn percentile(sorted: &[u32], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0) as f64
}

impl Outcome {
    /// Each column's median over rounds.
    pub(crate) fn median(rounds: &[Outcome]) -> Outcome {
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

pub(crate) fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is empty; CPU_SET stays within it for a
    // CPU below CPU_SETSIZE; sched_setaffinity(0) targets this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set);
    }
}

pub(crate) fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// CPU time of a thread of this process so far, in ns: the scheduler's
/// count (`schedstat`), exact; where that is missing, utime + stime, which
/// comes in clock ticks (10 ms). (Ticks were used until 2026-12-07: at
/// 500 requests/s over 3 s, one tick is 6.7 µs per request, so low-rate
/// cases read as whole multiples of it.)
pub(crate) fn thread_cpu_ns(tid: i32) -> u64 {
    let schedstat = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat"));
    if let Some(ns) = schedstat
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
    {
        return ns;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return 0;
    };
    let after = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let ticks_per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    (utime + stime) * 1_000_000_000 / ticks_per_sec
}

/// io_uring's kernel threads of this process (SQ-poll, io-wq workers).
pub(crate) fn io_uring_threads() -> Vec<i32> {
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

/// The server's threads, taken once its runtime and rings are up: the
/// runtime's own (`app`) and those plus io_uring's kernel threads (`all`).
pub(crate) struct ServerThreads {
    pub(crate) app: Vec<i32>,
    pub(crate) all: Vec<i32>,
}

impl ServerThreads {
    pub(crate) fn collect(runtime_tids: &Mutex<Vec<i32>>) -> ServerThreads {
        let app: Vec<i32> = runtime_tids.lock().unwrap().clone();
        let mut all = app.clone();
        all.extend(io_uring_threads());
        ServerThreads { app, all }
    }

    /// CPU time so far, in ns: (all threads, the runtime's alone).
    pub(crate) fn cpu_ns(&self) -> (u64, u64) {
        let sum = |tids: &[i32]| tids.iter().map(|&t| thread_cpu_ns(t)).sum::<u64>();
        (sum(&self.all), sum(&self.app))
    }
}

/// µs of CPU per request for `ns` of CPU over `requests` requests.
pub(crate) fn cpu_us_per_req(ns: u64, requests: f64) -> f64 {
    ns as f64 / 1e3 / requests
}

/// The table's header; `syscalls` adds the syscalls-per-request column.
pub(crate) fn print_header(syscalls: bool) {
    let mut line = format!(
        "{:<18} {:>8} {:>11} {:>9} {:>9} {:>10}",
        "case", "server", "req/s", "p50 µs", "p99 µs", "cpu µs/req"
    );
    if syscalls {
        line += &format!(" {:>9}", "sys/req");
    }
    println!("{line}");
}

/// One row; `syscalls` adds the syscalls-per-request column.
pub(crate) fn print_row(label: &str, name: &str, r: &Outcome, syscalls: bool) {
    let mut line = format!(
        "{:<18} {:>8} {:>11.0} {:>9.1} {:>9.1} {:>10.2}",
        label, name, r.rps, r.p50_us, r.p99_us, r.cpu_us_per_req
    );
    if syscalls {
        let s = r
            .syscalls_per_req
            .map_or("n/a".into(), |s| format!("{s:.3}"));
        line += &format!(" {s:>9}");
    }
    println!("{line}");
}

/// One case's rows: Tokio's and shardio's medians over `rounds` (as many of
/// each, run alternately), then the ratio row shardio / Tokio (the median of
/// the rounds' ratios, and each round's CPU ratio when there are several).
/// `syscalls`: the column's (Tokio, shardio) figures, `None` for no column.
pub(crate) fn print_case(
    label: &str,
    tokio: &[Outcome],
    shardio: &[Outcome],
    syscalls: Option<(Option<f64>, Option<f64>)>,
) {
    let ratio =
        |f: &dyn Fn(&Outcome) -> f64| median(tokio.iter().zip(shardio).map(|(t, s)| f(s) / f(t)));
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
        .zip(shardio)
        .map(|(t, s)| format!("{:.2}", s.cpu_us_per_req / t.cpu_us_per_req))
        .collect();
    let rounds = cpu_rounds.len();
    let (mut tokio, mut shardio) = (Outcome::median(tokio), Outcome::median(shardio));
    if let Some((tokio_sys, shardio_sys)) = syscalls {
        tokio.syscalls_per_req = tokio_sys;
        shardio.syscalls_per_req = shardio_sys;
    }
    for (name, r) in [("tokio", &tokio), ("shardio", &shardio)] {
        print_row(label, name, r, syscalls.is_some());
    }
    let mut line = format!(
        "{:<18} {:>8} {:>10.2}x {:>8.2}x {:>8.2}x {:>9.2}x",
        label, "ratio", ratios.rps, ratios.p50_us, ratios.p99_us, ratios.cpu_us_per_req,
    );
    if syscalls.is_some() {
        let s = match (shardio.syscalls_per_req, tokio.syscalls_per_req) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
            _ => "n/a".into(),
        };
        line += &format!(" {s:>9}");
    }
    if rounds > 1 {
        line += &format!("  cpu ratio by round: {}", cpu_rounds.join(" "));
    }
    println!("{line}");
}
