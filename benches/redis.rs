//! A real database client on shardio's sockets vs Tokio's: the `redis`
//! crate's `MultiplexedConnection`, the same client code over a
//! `shardio::net::TcpStream` and over a `tokio::net::TcpStream`, against one
//! `redis-server` this benchmark starts (pinned to CPU 0; the client's one
//! runtime worker is pinned to CPU 1).
//!
//! `cargo bench --bench redis`: at 1 and 64 connections, each connection a
//! closed loop of SET and GET (alternating, a 64 B value on the connection's
//! own key), one command in flight per connection. The two clients
//! alternate for `SHARDIO_BENCH_ROUNDS` rounds (default 3) of
//! `SHARDIO_BENCH_SECS` each (default 2). Prints commands/s, p50/p99
//! latency and the client's CPU per command (its worker thread plus
//! io_uring's kernel threads), each column the median over rounds; the
//! ratio row is shardio / Tokio, the median of the rounds' ratios.
//!
//! Without `--bench` (as in `cargo test --benches`) it runs each case once,
//! briefly; there, without `redis-server` on `PATH` and outside CI, it says
//! so and exits 0.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, AsyncTypedCommands, RedisConnectionInfo};
use tokio::io::{AsyncRead, AsyncWrite};

#[path = "../tests/support/redis_server.rs"]
mod redis_server;
mod support;
use support::{
    CLIENT_CPU, SERVER_CPU, env_parse, gettid, io_uring_threads, median, pin, thread_cpu_ns,
};

fn main() -> io::Result<()> {
    let smoke = support::smoke();
    let secs: f64 = env_parse("SHARDIO_BENCH_SECS").unwrap_or(2.0);
    let (warmup, measure) = if smoke {
        (Duration::from_millis(50), Duration::from_millis(100))
    } else {
        (Duration::from_millis(300), Duration::from_secs_f64(secs))
    };
    let rounds = if smoke {
        1
    } else {
        env_parse("SHARDIO_BENCH_ROUNDS").unwrap_or(3usize).max(1)
    };

    // The server inherits this thread's affinity (CPU 0) across fork and exec.
    pin(SERVER_CPU);
    let Some(server) = redis_server::RedisServer::start()? else {
        if smoke {
            return Ok(()); // `start` printed why
        }
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "this benchmark needs redis-server: apt-get install -y {}",
                redis_server::PACKAGE
            ),
        ));
    };
    pin(CLIENT_CPU);

    println!(
        "{:<16} {:>8} {:>11} {:>9} {:>9} {:>10}",
        "case", "client", "cmds/s", "p50 µs", "p99 µs", "cpu µs/cmd"
    );
    for conns in [1, 64] {
        let (mut tokio, mut shardio) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            tokio.push(run_case(
                Client::Tokio,
                server.addr,
                conns,
                warmup,
                measure,
            )?);
            shardio.push(run_case(
                Client::Shardio,
                server.addr,
                conns,
                warmup,
                measure,
            )?);
        }
        let ratio =
            |f: fn(&Outcome) -> f64| median(tokio.iter().zip(&shardio).map(|(t, s)| f(s) / f(t)));
        let ratios = Outcome {
            rps: ratio(|r| r.rps),
            p50_us: ratio(|r| r.p50_us),
            p99_us: ratio(|r| r.p99_us),
            cpu_us: ratio(|r| r.cpu_us),
        };
        let rps_rounds: Vec<String> = tokio
            .iter()
            .zip(&shardio)
            .map(|(t, s)| format!("{:.2}", s.rps / t.rps))
            .collect();
        let label = format!("{conns} conn GET/SET");
        for (name, r) in [
            ("tokio", Outcome::median(&tokio)),
            ("shardio", Outcome::median(&shardio)),
        ] {
            println!(
                "{label:<16} {name:>8} {:>11.0} {:>9.1} {:>9.1} {:>10.2}",
                r.rps, r.p50_us, r.p99_us, r.cpu_us
            );
        }
        println!(
            "{label:<16} {:>8} {:>10.2}x {:>8.2}x {:>8.2}x {:>9.2}x{}",
            "ratio",
            ratios.rps,
            ratios.p50_us,
            ratios.p99_us,
            ratios.cpu_us,
            if rounds > 1 {
                format!("  cmds/s ratio by round: {}", rps_rounds.join(" "))
            } else {
                String::new()
            }
        );
    }
    drop(server);
    Ok(())
}

#[derive(Clone, Copy)]
enum Client {
    Tokio,
    Shardio,
}

struct Outcome {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    /// The client's CPU per command (worker thread and io_uring's threads).
    cpu_us: f64,
}

impl Outcome {
    /// Each column's median over rounds.
    fn median(rounds: &[Outcome]) -> Outcome {
        Outcome {
            rps: median(rounds.iter().map(|r| r.rps)),
            p50_us: median(rounds.iter().map(|r| r.p50_us)),
            p99_us: median(rounds.iter().map(|r| r.p99_us)),
            cpu_us: median(rounds.iter().map(|r| r.cpu_us)),
        }
    }
}

/// One runtime worker on the client CPU: plain Tokio, or Tokio with
/// shardio installed.
fn client_runtime(kind: Client, tids: Arc<Mutex<Vec<i32>>>) -> io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(1).enable_all();
    let record = move || {
        pin(CLIENT_CPU);
        tids.lock().unwrap().push(gettid());
    };
    match kind {
        Client::Tokio => {
            builder.on_thread_start(record);
        }
        Client::Shardio => {
            use shardio::BuilderExt;
            builder.shardio(shardio::Config::default().on_thread_start(record));
        }
    }
    builder.build()
}

/// The client: `conns` connections over streams from `connect`, each a
/// closed loop of SET and GET until `done`; latencies (ns) of the commands
/// completed while `recording`.
async fn run_clients<S, F, Fut>(
    connect: F,
    conns: usize,
    recording: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
) -> redis::RedisResult<Vec<u64>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = io::Result<S>>,
{
    let mut tasks = Vec::new();
    for c in 0..conns {
        let stream = connect().await?;
        // The same client code for both streams: only the type differs.
        let (mut con, driver) = MultiplexedConnection::new_with_config(
            &RedisConnectionInfo::default(),
            stream,
            AsyncConnectionConfig::new().set_response_timeout(None),
        )
        .await?;
        tokio::spawn(driver);
        let (recording, done) = (Arc::clone(&recording), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            let key = format!("bench:{c}");
            let value = [b'v'; 64];
            con.set(&key, &value[..]).await?;
            let mut lat = Vec::new();
            let mut set = true;
            while !done.load(Ordering::Relaxed) {
                let t = Instant::now();
                if set {
                    con.set(&key, &value[..]).await?;
                } else {
                    let got = con.get(&key).await?;
                    assert_eq!(got.map(String::into_bytes).as_deref(), Some(&value[..]));
                }
                set = !set;
                if recording.load(Ordering::Relaxed) {
                    lat.push(t.elapsed().as_nanos() as u64);
                }
            }
            redis::RedisResult::Ok(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("client task")?);
    }
    Ok(lat)
}

fn run_case(
    kind: Client,
    addr: SocketAddr,
    conns: usize,
    warmup: Duration,
    measure: Duration,
) -> io::Result<Outcome> {
    let tids = Arc::new(Mutex::new(Vec::new()));
    let rt = client_runtime(kind, Arc::clone(&tids))?;
    let recording = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let (r, d) = (Arc::clone(&recording), Arc::clone(&done));
    // Spawned, so the connections are made on the worker (and on its ring).
    let clients = rt.spawn(async move {
        match kind {
            Client::Tokio => {
                let connect = || async {
                    let s = tokio::net::TcpStream::connect(addr).await?;
                    s.set_nodelay(true)?;
                    io::Result::Ok(s)
                };
                run_clients(connect, conns, r, d).await
            }
            Client::Shardio => {
                let connect = || async {
                    let s = shardio::net::TcpStream::connect(addr).await?;
                    s.set_nodelay(true)?;
                    io::Result::Ok(s)
                };
                run_clients(connect, conns, r, d).await
            }
        }
    });
    std::thread::sleep(warmup);
    let threads: Vec<i32> = {
        let mut t = tids.lock().unwrap().clone();
        t.extend(io_uring_threads());
        t
    };
    let cpu = || threads.iter().map(|&t| thread_cpu_ns(t)).sum::<u64>();
    let cpu_before = cpu();
    recording.store(true, Ordering::Relaxed);
    let started = Instant::now();
    std::thread::sleep(measure);
    recording.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let cpu_after = cpu();
    done.store(true, Ordering::Relaxed);
    let mut lat = rt
        .block_on(clients)
        .expect("client")
        .map_err(io::Error::other)?;
    drop(rt);

    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    let commands = lat.len().max(1) as f64;
    Ok(Outcome {
        rps: commands / elapsed.as_secs_f64(),
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        cpu_us: (cpu_after - cpu_before) as f64 / 1e3 / commands,
    })
}
