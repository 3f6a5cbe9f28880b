//! HTTP benchmark: a hyper 1.x HTTP/1.1 hello-world server (every request
//! answered `200 OK` with the body `Hello, World!`) on shardio's
//! `TcpListener` and on Tokio's side by side in one run, each on a
//! multi-thread runtime with one worker pinned to CPU 0. The server code is
//! the same for both (an accept loop, `TCP_NODELAY`, one task per connection
//! running `hyper::server::conn::http1` over `TokioIo`); only the listener
//! and its streams differ.
//!
//! The load: `wrk -t1 -cN --latency` pinned to CPU 1 (`taskset -c 1`) when
//! `wrk` is on `PATH` (`apt-get install -y wrk`), else a built-in closed-loop
//! client (plain Tokio, one current-thread runtime pinned to CPU 1: N
//! keep-alive connections, each sending `GET /` and reading the response by
//! its Content-Length before the next). The first line says which one ran;
//! `SHARDIO_BENCH_CLIENT=rust` forces the built-in one (`=wrk` insists on
//! wrk). wrk's whole run is measured (it takes whole seconds, has no
//! warm-up, and its latencies are its own, over all requests); the built-in
//! client warms up for 300 ms first.
//!
//! `cargo bench --bench http`: cases `c1`, `c64` and `c256` (connections) on
//! the one-worker runtimes, `ct c1` and `ct c64` on current-thread runtimes
//! (each driven by one thread pinned to CPU 0), `2w c256` on two-worker
//! runtimes, unpinned (sharing both CPUs with the load generator).
//! `SHARDIO_BENCH_SECS` (default 3) is the measuring time per run and
//! `SHARDIO_BENCH_ROUNDS` (default 3) the rounds in which the two servers
//! alternate: each column is the median over rounds, the ratio row
//! (shardio / Tokio) the median of the rounds' ratios, and the CPU ratio of
//! every round is printed too. Columns: requests/s, p50/p99 latency and the
//! server's CPU µs per request (its worker thread and io_uring's kernel
//! threads, from `/proc`). Connections that hyper ended with an error are
//! counted and noted above the case's rows (wrk closing its connections at
//! the end of its run, requests in flight, shows up there as "connection
//! closed before message completed").
//!
//! Knobs: `SHARDIO_BENCH_ONLY=tokio|shardio` and `SHARDIO_BENCH_CASE=c64`
//! (or `ctc64`, `2wc256`)
//! run one side / one case (for profiling), `SHARDIO_BENCH_SPIN_US=50` sets
//! `Config::spin_before_park` on shardio's server.
//!
//! Without `--bench` (as in `cargo test --benches`) it runs one small case
//! (4 connections, 100 ms) with the built-in client, as a smoke test.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

mod support;
use support::{
    CLIENT_CPU, Flavor, Outcome, Server, ServerThreads, client_runtime, cpu_us_per_req, env_parse,
    percentile, print_case, print_header, print_row, server_runtime,
};

const BODY: &[u8] = b"Hello, World!";
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

#[derive(Clone, Copy, PartialEq)]
enum Generator {
    Wrk,
    Rust,
}

fn main() -> io::Result<()> {
    let smoke = support::smoke();
    let secs: f64 = env_parse("SHARDIO_BENCH_SECS").unwrap_or(3.0);
    let (warmup, measure) = if smoke {
        (Duration::from_millis(50), Duration::from_millis(100))
    } else {
        (Duration::from_millis(300), Duration::from_secs_f64(secs))
    };
    let cases: &[(Flavor, usize)] = if smoke {
        &[(Flavor::OneWorker, 4)]
    } else {
        &[
            (Flavor::OneWorker, 1),
            (Flavor::OneWorker, 64),
            (Flavor::OneWorker, 256),
            (Flavor::CurrentThread, 1),
            (Flavor::CurrentThread, 64),
            (Flavor::TwoWorkers, 256),
        ]
    };
    let rounds = if smoke {
        1
    } else {
        env_parse("SHARDIO_BENCH_ROUNDS").unwrap_or(3usize).max(1)
    };
    let only = std::env::var("SHARDIO_BENCH_ONLY").ok();
    let case_filter = std::env::var("SHARDIO_BENCH_CASE").ok();
    let generator = pick_generator(smoke)?;
    let wrk_secs = secs.ceil().max(1.0) as u64;
    match generator {
        Generator::Wrk => println!(
            "load generator: wrk (taskset -c {CLIENT_CPU} wrk -t1 -cN -d{wrk_secs}s --latency)"
        ),
        Generator::Rust => println!(
            "load generator: built-in Rust client (closed loop, keep-alive, one thread on CPU {CLIENT_CPU})"
        ),
    }
    print_header(false);
    for &(flavor, conns) in cases {
        let label = format!("{}c{conns}", flavor.label());
        if case_filter
            .as_ref()
            .is_some_and(|c| *c != label.replace(' ', ""))
        {
            continue;
        }
        let run = |kind| match generator {
            Generator::Wrk => run_case(kind, flavor, conns, Load::Wrk { secs: wrk_secs }),
            Generator::Rust => run_case(kind, flavor, conns, Load::Rust { warmup, measure }),
        };
        if let Some(only) = &only {
            let kind = if only == "tokio" {
                Server::Tokio
            } else {
                Server::Shardio
            };
            let runs = (0..rounds)
                .map(|_| run(kind))
                .collect::<io::Result<Vec<_>>>()?;
            print_row(&label, only, &Outcome::median(&runs), false);
            continue;
        }
        // The two servers alternate, as in benches/echo.rs (this VM's speed
        // drifts within seconds).
        let (mut tokio, mut shardio) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            tokio.push(run(Server::Tokio)?);
            shardio.push(run(Server::Shardio)?);
        }
        print_case(&label, &tokio, &shardio, None);
    }
    Ok(())
}

/// wrk if it is on `PATH` (with taskset), else the built-in client; always
/// the built-in one in smoke mode or with `SHARDIO_BENCH_CLIENT=rust`.
fn pick_generator(smoke: bool) -> io::Result<Generator> {
    let choice = std::env::var("SHARDIO_BENCH_CLIENT").unwrap_or_default();
    if smoke || choice == "rust" {
        return Ok(Generator::Rust);
    }
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
    };
    if on_path("wrk") && on_path("taskset") {
        return Ok(Generator::Wrk);
    }
    if choice == "wrk" {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "SHARDIO_BENCH_CLIENT=wrk needs wrk and taskset on PATH (apt-get install -y wrk)",
        ));
    }
    println!("note: wrk not on PATH (apt-get install -y wrk), so the built-in client runs");
    Ok(Generator::Rust)
}

// ---- the server ----

async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

/// Connections hyper ended with an error, and the first error's text.
#[derive(Default)]
struct ConnErrors {
    count: AtomicU64,
    first: Mutex<Option<String>>,
}

/// Serves one accepted connection with hyper's HTTP/1.1 server on a task of
/// its own: the same code for Tokio's streams and shardio's.
fn serve_connection<S>(stream: S, errors: Arc<ConnErrors>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let served = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), hyper::service::service_fn(hello))
            .await;
        if let Err(e) = served {
            errors.count.fetch_add(1, Ordering::Relaxed);
            errors.first.lock().unwrap().get_or_insert(e.to_string());
        }
    });
}

async fn serve_tokio(
    listener: tokio::net::TcpListener,
    stop: Arc<AtomicBool>,
    errors: Arc<ConnErrors>,
) {
    while !stop.load(Ordering::Relaxed) {
        let Ok((s, _)) = listener.accept().await else {
            return;
        };
        let _ = s.set_nodelay(true);
        serve_connection(s, Arc::clone(&errors));
    }
}

async fn serve_shardio(
    listener: shardio::net::TcpListener,
    stop: Arc<AtomicBool>,
    errors: Arc<ConnErrors>,
) {
    while !stop.load(Ordering::Relaxed) {
        let Ok((s, _)) = listener.accept().await else {
            return;
        };
        let _ = s.set_nodelay(true);
        serve_connection(s, Arc::clone(&errors));
    }
}

// ---- one run ----

enum Load {
    Wrk { secs: u64 },
    Rust { warmup: Duration, measure: Duration },
}

/// What the load generator measured.
struct Measured {
    requests: u64,
    rps: f64,
    p50_us: f64,
    p99_us: f64,
}

fn run_case(kind: Server, flavor: Flavor, conns: usize, load: Load) -> io::Result<Outcome> {
    let tids = Arc::new(Mutex::new(Vec::new()));
    let rt = server_runtime(kind, flavor, Arc::clone(&tids))?;
    // The worker records its thread id as it starts, which may be after
    // `build` returns; wrk's CPU window opens right away.
    while tids.lock().unwrap().is_empty() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(ConnErrors::default());
    // Bound in a task of the server's runtime, so shardio's listener lives on
    // the ring of the thread that runs it.
    let addr: SocketAddr = rt.run({
        let (stop, errors) = (Arc::clone(&stop), Arc::clone(&errors));
        async move {
            match kind {
                Server::Tokio => {
                    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let a = l.local_addr()?;
                    tokio::spawn(serve_tokio(l, stop, errors));
                    io::Result::Ok(a)
                }
                Server::Shardio | Server::ShardioAsyncWorkers => {
                    let l = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let a = l.local_addr()?;
                    tokio::spawn(serve_shardio(l, stop, errors));
                    io::Result::Ok(a)
                }
            }
        }
    })?;

    // Server CPU over the measured window: wrk's whole run, or the built-in
    // client's window after its warm-up (approximately, as in echo.rs).
    let (measured, before, after) = match load {
        Load::Wrk { secs } => {
            let threads = ServerThreads::collect(&tids);
            let before = threads.cpu_ns();
            let measured = run_wrk(addr, conns, secs)?;
            (measured, before, threads.cpu_ns())
        }
        Load::Rust { warmup, measure } => {
            let client = std::thread::spawn(move || rust_client(addr, conns, warmup, measure));
            std::thread::sleep(warmup);
            let threads = ServerThreads::collect(&tids);
            let before = threads.cpu_ns();
            let measured = client.join().expect("client thread")?;
            (measured, before, threads.cpu_ns())
        }
    };
    stop.store(true, Ordering::Relaxed);
    drop(rt);

    let failed = errors.count.load(Ordering::Relaxed);
    if failed > 0 {
        let first = errors.first.lock().unwrap().take().unwrap_or_default();
        let name = if kind == Server::Tokio {
            "tokio"
        } else {
            "shardio"
        };
        println!(
            "note: c{conns} {name}: {failed} connection(s) ended with an error, first: {first}"
        );
    }
    let requests = measured.requests.max(1) as f64;
    Ok(Outcome {
        rps: measured.rps,
        p50_us: measured.p50_us,
        p99_us: measured.p99_us,
        cpu_us_per_req: cpu_us_per_req(after.0 - before.0, requests),
        app_cpu_us_per_req: cpu_us_per_req(after.1 - before.1, requests),
        syscalls_per_req: None,
    })
}

// ---- wrk ----

fn run_wrk(addr: SocketAddr, conns: usize, secs: u64) -> io::Result<Measured> {
    let out = Command::new("taskset")
        .args(["-c", &CLIENT_CPU.to_string(), "wrk", "-t1"])
        .arg(format!("-c{conns}"))
        .arg(format!("-d{secs}s"))
        .arg("--latency")
        .arg(format!("http://{addr}/"))
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "wrk failed ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    parse_wrk(&stdout)
        .ok_or_else(|| io::Error::other(format!("cannot read wrk's output:\n{stdout}")))
}

/// Requests/sec, the total, and the 50% / 99% lines of `--latency`; prints
/// wrk's error lines (socket errors, non-2xx responses) if there are any.
fn parse_wrk(out: &str) -> Option<Measured> {
    let (mut requests, mut rps, mut p50, mut p99) = (None, None, None, None);
    for line in out.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            rps = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("50%") {
            p50 = wrk_time_us(v.trim());
        } else if let Some(v) = line.strip_prefix("99%") {
            p99 = wrk_time_us(v.trim());
        } else if line.contains(" requests in ") {
            requests = line.split_whitespace().next()?.parse().ok();
        } else if line.starts_with("Socket errors:") || line.starts_with("Non-2xx") {
            println!("note: wrk: {line}");
        }
    }
    Some(Measured {
        requests: requests?,
        rps: rps?,
        p50_us: p50?,
        p99_us: p99?,
    })
}

/// A time as wrk prints it (`812.00us`, `1.23ms`, `2.00s`, `1.00m`) in µs.
fn wrk_time_us(s: &str) -> Option<f64> {
    let units = [
        ("us", 1.0),
        ("ms", 1e3),
        ("s", 1e6),
        ("m", 60e6),
        ("h", 3600e6),
    ];
    let (number, scale) = units
        .iter()
        .find_map(|&(unit, scale)| Some((s.strip_suffix(unit)?, scale)))?;
    Some(number.parse::<f64>().ok()? * scale)
}

// ---- the built-in client ----

/// N keep-alive connections on a current-thread runtime pinned to the
/// client's CPU, each a closed loop of one request at a time; latencies and
/// the count are taken after `warmup`, for `measure`.
fn rust_client(
    addr: SocketAddr,
    conns: usize,
    warmup: Duration,
    measure: Duration,
) -> io::Result<Measured> {
    let rt = client_runtime()?;
    rt.block_on(async move {
        let count = Arc::new(AtomicU64::new(0));
        let recording = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for _ in 0..conns {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            let (count, recording, done) = (
                Arc::clone(&count),
                Arc::clone(&recording),
                Arc::clone(&done),
            );
            tasks.push(tokio::spawn(async move {
                let mut buf = Vec::with_capacity(4096);
                let mut lat = Vec::new();
                while !done.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    s.write_all(REQUEST).await?;
                    read_response(&mut s, &mut buf).await?;
                    if recording.load(Ordering::Relaxed) {
                        lat.push(t.elapsed().as_micros() as u32);
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                }
                io::Result::Ok(lat)
            }));
        }
        tokio::time::sleep(warmup).await;
        recording.store(true, Ordering::Relaxed);
        let started = Instant::now();
        tokio::time::sleep(measure).await;
        recording.store(false, Ordering::Relaxed);
        let elapsed = started.elapsed();
        done.store(true, Ordering::Relaxed);
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.expect("client task")?);
        }
        lat.sort_unstable();
        let requests = count.load(Ordering::Relaxed);
        Ok(Measured {
            requests,
            rps: requests as f64 / elapsed.as_secs_f64(),
            p50_us: percentile(&lat, 0.50),
            p99_us: percentile(&lat, 0.99),
        })
    })
}

/// Reads one response from `s` into `buf`, checks it (status 200, the body
/// by its Content-Length) and takes it out of `buf`.
async fn read_response(s: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        read_more(s, buf).await?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|e| invalid(e.to_string()))?;
    if !head.starts_with("HTTP/1.1 200 ") {
        return Err(invalid(format!("unexpected response: {head:?}")));
    }
    let len: usize = head
        .split("\r\n")
        .skip(1)
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .ok_or_else(|| invalid(format!("no Content-Length in {head:?}")))?;
    let total = head_end + 4 + len;
    while buf.len() < total {
        read_more(s, buf).await?;
    }
    if &buf[head_end + 4..total] != BODY {
        return Err(invalid(format!(
            "unexpected body: {:?}",
            &buf[head_end + 4..total]
        )));
    }
    buf.drain(..total);
    Ok(())
}

async fn read_more(s: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    if s.read_buf(buf).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection mid-response",
        ));
    }
    Ok(())
}
