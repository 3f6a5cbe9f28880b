//! 4 KiB random reads from a file in the page cache: shardio `read_at` vs
//! `tokio::fs` (its blocking pool) vs `std` `pread` on one thread, at 1 and
//! 64 concurrent tasks, in one run. Prints ops/s, CPU µs per op (getrusage,
//! whole process) and the ratios. `cargo bench --bench read`; set
//! `SHARDIO_BENCH_SECS` for the time per case (default 2), and
//! `SHARDIO_BENCH_ASYNC_WORKERS=1` to run shardio with `async_workers("1")`.

use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncSeekExt};

const FILE_SIZE: u64 = 64 * 1024 * 1024;
const BLOCK: usize = 4096;

fn main() -> io::Result<()> {
    let smoke =
        std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench");
    let secs: f64 = std::env::var("SHARDIO_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let time = if smoke {
        Duration::from_millis(50)
    } else {
        Duration::from_secs_f64(secs)
    };
    let size = if smoke { 1024 * 1024 } else { FILE_SIZE };
    let path = std::env::temp_dir().join(format!("shardio-read-bench-{}", std::process::id()));
    std::fs::write(&path, vec![0x5au8; size as usize])?;
    // Warm the page cache.
    let _ = std::fs::read(&path)?;
    let blocks = size / BLOCK as u64;

    println!(
        "{:<8} {:>12} {:>12} {:>12} {:>10} {:>10}",
        "tasks", "std pread", "tokio::fs", "shardio", "/tokio", "/std"
    );
    for tasks in [1usize, 64] {
        let std_rate = run_std(&path, blocks, time)?;
        let tokio_rate = run_tokio(&path, blocks, tasks, time)?;
        let shardio_rate = run_shardio(&path, blocks, tasks, time)?;
        println!(
            "{:<8} {:>12} {:>12} {:>12} {:>9.2}x {:>9.2}x",
            tasks,
            std_rate.show(),
            tokio_rate.show(),
            shardio_rate.show(),
            shardio_rate.ops / tokio_rate.ops,
            shardio_rate.ops / std_rate.ops,
        );
    }
    println!("(ops/s, with CPU µs per op in parentheses; std is always one thread)");
    match shardio::metrics().fallback_reason {
        Some(reason) => println!("fallback: {reason}"),
        None => println!("io_uring active"),
    }
    std::fs::remove_file(&path)?;
    Ok(())
}

struct Rate {
    ops: f64,
    cpu_us: f64,
}

impl Rate {
    fn show(&self) -> String {
        format!("{:.0}k ({:.1})", self.ops / 1e3, self.cpu_us)
    }
}

fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// xorshift: a block index per call.
fn next_block(state: &mut u64, blocks: u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state % blocks
}

fn measure(ops: u64, elapsed: Duration, cpu: Duration) -> Rate {
    Rate {
        ops: ops as f64 / elapsed.as_secs_f64(),
        cpu_us: cpu.as_secs_f64() * 1e6 / ops.max(1) as f64,
    }
}

fn run_std(path: &std::path::Path, blocks: u64, time: Duration) -> io::Result<Rate> {
    let file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; BLOCK];
    let mut state = 0x9e3779b97f4a7c15u64;
    let (start, cpu0) = (Instant::now(), cpu_time());
    let mut ops = 0;
    while start.elapsed() < time {
        for _ in 0..256 {
            file.read_exact_at(&mut buf, next_block(&mut state, blocks) * BLOCK as u64)?;
        }
        ops += 256;
    }
    Ok(measure(ops, start.elapsed(), cpu_time() - cpu0))
}

fn runtime(shardio: bool) -> io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(1).enable_all();
    if shardio {
        let mut config = shardio::Config::default().on_thread_start(|| {
            // SAFETY: gettid has no preconditions.
            APP_TID.store(unsafe { libc::gettid() } as u64, Ordering::Relaxed);
        });
        if async_workers() {
            config = config.async_workers("1")?.pin_workers("0")?;
        }
        shardio::BuilderExt::shardio(&mut builder, config);
    }
    builder.build()
}

/// The shardio runtime's worker thread, for its own CPU time.
static APP_TID: AtomicU64 = AtomicU64::new(0);

/// `SHARDIO_BENCH_ASYNC_WORKERS=1`: shardio with `async_workers("1")` and its
/// worker pinned to CPU 0 (issue 6), reporting the worker's own CPU per op.
fn async_workers() -> bool {
    std::env::var_os("SHARDIO_BENCH_ASYNC_WORKERS").is_some()
}

/// CPU time of one thread of this process.
fn thread_cpu(tid: u64) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap_or_default();
    let after = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Duration::from_secs_f64(ticks as f64 / hz)
}

fn run_tokio(
    path: &std::path::Path,
    blocks: u64,
    tasks: usize,
    time: Duration,
) -> io::Result<Rate> {
    let rt = runtime(false)?;
    rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicU64::new(0));
        let mut handles = Vec::new();
        for t in 0..tasks {
            let (stop, count, path) = (Arc::clone(&stop), Arc::clone(&count), path.to_owned());
            handles.push(tokio::spawn(async move {
                // tokio::fs::File: each seek and read is a blocking-pool hop.
                let mut file = tokio::fs::File::open(path).await?;
                let mut buf = vec![0u8; BLOCK];
                let mut state = 0x2545f4914f6cdd1du64 + t as u64;
                while !stop.load(Ordering::Relaxed) {
                    file.seek(io::SeekFrom::Start(
                        next_block(&mut state, blocks) * BLOCK as u64,
                    ))
                    .await?;
                    file.read_exact(&mut buf).await?;
                    count.fetch_add(1, Ordering::Relaxed);
                }
                io::Result::Ok(())
            }));
        }
        let (start, cpu0) = (Instant::now(), cpu_time());
        let before = count.load(Ordering::Relaxed);
        tokio::time::sleep(time).await;
        let ops = count.load(Ordering::Relaxed) - before;
        let rate = measure(ops, start.elapsed(), cpu_time() - cpu0);
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            h.await.expect("task")?;
        }
        Ok(rate)
    })
}

fn run_shardio(
    path: &std::path::Path,
    blocks: u64,
    tasks: usize,
    time: Duration,
) -> io::Result<Rate> {
    let rt = runtime(true)?;
    rt.block_on(async {
        let file = Arc::new(shardio::fs::File::open(path).await?);
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicU64::new(0));
        let mut handles = Vec::new();
        for t in 0..tasks {
            let (stop, count, file) = (Arc::clone(&stop), Arc::clone(&count), Arc::clone(&file));
            handles.push(tokio::spawn(async move {
                let mut buf = vec![0u8; BLOCK];
                let mut state = 0x2545f4914f6cdd1du64 + t as u64;
                while !stop.load(Ordering::Relaxed) {
                    let (res, b) = file
                        .read_at(buf, next_block(&mut state, blocks) * BLOCK as u64)
                        .await;
                    buf = b;
                    if res? != BLOCK {
                        return Err(io::Error::other("short read from the page cache"));
                    }
                    count.fetch_add(1, Ordering::Relaxed);
                }
                io::Result::Ok(())
            }));
        }
        let (start, cpu0) = (Instant::now(), cpu_time());
        let app0 = thread_cpu(APP_TID.load(Ordering::Relaxed));
        let before = count.load(Ordering::Relaxed);
        tokio::time::sleep(time).await;
        let ops = count.load(Ordering::Relaxed) - before;
        let rate = measure(ops, start.elapsed(), cpu_time() - cpu0);
        if async_workers() {
            let app = thread_cpu(APP_TID.load(Ordering::Relaxed)) - app0;
            println!(
                "  shardio, {tasks} tasks: worker thread {:.2} µs/op, whole process {:.2} µs/op",
                app.as_secs_f64() * 1e6 / ops.max(1) as f64,
                rate.cpu_us
            );
        }
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            h.await.expect("task")?;
        }
        Ok(rate)
    })
}
