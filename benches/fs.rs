//! File I/O against fio and `tokio::fs`, in one run, on a 1 GiB file
//! (`SHARDIO_FS_BENCH_SIZE_MB` to change it; `SHARDIO_BENCH_SECS`, default
//! 3, per case; the file lives in `SHARDIO_BENCH_DIR`, default /var/tmp):
//!
//! - 4 KiB random O_DIRECT reads at queue depth 1 and 32: shardio `read_at`
//!   vs `fio --ioengine=io_uring --direct=1` vs `tokio::fs` (32 tasks);
//! - 4 KiB random reads from the page cache: shardio vs one-thread `pread`
//!   vs `tokio::fs`;
//! - 1 MiB sequential O_DIRECT writes at depth 32: shardio vs fio.
//!
//! Prints IOPS or MB/s, CPU µs per I/O (getrusage; fio's own report for fio)
//! and the ratios. fio comes from Debian's `fio` package; without it the fio
//! columns say so. `SHARDIO_BENCH_CLASS=1` runs shardio's reads in a
//! priority class (through the scheduler), `SHARDIO_BENCH_PROPS=<file>`
//! gives the scheduler an io_properties model: compare CPU/IO with and
//! without. The O_DIRECT read rows run twice: `read_at` into a buffer of
//! the task's own, and `read_fixed_at` into registered buffers
//! (`FixedBufPool`); fio runs with its defaults (no fixed buffers).
//! `SHARDIO_BENCH_STORAGE_BATCH=n` sets `Config::storage_submit_batch`.
//! Every case but `tokio::fs` alternates shardio and fio (or pread) for
//! `SHARDIO_BENCH_ROUNDS` rounds (default 3; fio goes first in every other
//! round) and prints the median of each column and the median of the
//! rounds' ratios.
//! `SHARDIO_BENCH_CASE=qd1|qd32|cache|write` runs
//! one case only; `SHARDIO_BENCH_ONLY=shardio` skips fio, pread and
//! `tokio::fs` (for profiling).

use std::io::{self, SeekFrom};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use shardio::fs::OpenOptions;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

const BLOCK: usize = 4096;

struct Figure {
    rate: f64,
    cpu_us: f64,
}

static BENCH_CLASS: std::sync::OnceLock<shardio::sched::PriorityClass> = std::sync::OnceLock::new();
static FIXED_POOL: std::sync::OnceLock<shardio::buf::FixedBufPool> = std::sync::OnceLock::new();

fn main() -> io::Result<()> {
    let smoke =
        std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench");
    let secs: f64 = env_or("SHARDIO_BENCH_SECS", 3.0);
    let time = if smoke {
        Duration::from_millis(50)
    } else {
        Duration::from_secs_f64(secs)
    };
    let size_mb: u64 = if smoke {
        8
    } else {
        env_or("SHARDIO_FS_BENCH_SIZE_MB", 1024.0) as u64
    };
    let dir = std::env::var("SHARDIO_BENCH_DIR").unwrap_or_else(|_| "/var/tmp".into());
    let path = Path::new(&dir).join(format!("shardio-fs-bench-{}", std::process::id()));
    let size = size_mb * 1024 * 1024;
    prepare(&path, size)?;
    let only_shardio = std::env::var("SHARDIO_BENCH_ONLY").is_ok_and(|v| v == "shardio");
    let fio = !only_shardio && fio_available();
    if !fio && !smoke && !only_shardio {
        println!("note: fio not found (Debian package `fio`): fio columns are n/a");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let srt = {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(1).enable_all();
        // SHARDIO_BENCH_SPIN_US: Config::spin_before_park, to compare.
        let spin = Duration::from_micros(env_or("SHARDIO_BENCH_SPIN_US", 0.0) as u64);
        let mut config = shardio::Config::default().spin_before_park(spin)?;
        // SHARDIO_BENCH_STORAGE_BATCH: Config::storage_submit_batch, to compare.
        if let Ok(batch) = std::env::var("SHARDIO_BENCH_STORAGE_BATCH") {
            config = config.storage_submit_batch(batch.parse().map_err(io::Error::other)?)?;
        }
        // SHARDIO_BENCH_PROPS=<io_properties.yaml>: the scheduler's device
        // model, to measure what throttling costs.
        if let Ok(props) = std::env::var("SHARDIO_BENCH_PROPS") {
            config = config.io_properties_file(props)?;
        }
        shardio::BuilderExt::shardio(&mut b, config);
        b.build()?
    };
    let blocks = size / BLOCK as u64;
    // SHARDIO_BENCH_CLASS=1: shardio's reads run in a priority class, so
    // every one goes through the scheduler (its CPU cost shows in CPU/IO).
    if std::env::var("SHARDIO_BENCH_CLASS").is_ok_and(|v| v == "1") {
        let _ = BENCH_CLASS.set(shardio::sched::PriorityClass::new("bench", 100));
    }
    // The O_DIRECT rows run twice: `read_at` into the task's own aligned
    // buffer, and `read_fixed_at` into registered buffers (`FixedBufPool`).
    let _ = FIXED_POOL.set(shardio::buf::FixedBufPool::new(64, BLOCK)?);

    println!(
        "{:<34} {:>16} {:>16} {:>16} {:>9}",
        "case", "shardio", "fio / pread", "tokio::fs", "ratio"
    );
    let case = std::env::var("SHARDIO_BENCH_CASE").ok();
    let rounds = if smoke {
        1
    } else {
        (env_or("SHARDIO_BENCH_ROUNDS", 3.0) as usize).max(1)
    };
    let run = |name: &str| case.as_deref().is_none_or(|c| c == name);
    for depth in [1usize, 32] {
        if !run(&format!("qd{depth}")) {
            continue;
        }
        // The disk's speed drifts within minutes: shardio and fio alternate
        // for `rounds` rounds (fio first in every other round, so neither
        // side always runs on the disk the other left behind); the rows show
        // the median of each column and the median of the rounds' ratios.
        let (mut s, mut sf, mut f) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let fio_first = round % 2 == 1;
            if fio && !smoke && fio_first {
                f.extend(fio_run(&path, "randread", "4k", depth, secs));
            }
            s.push(srt.block_on(shardio_reads(&path, blocks, depth, time, Read::Direct))?);
            sf.push(srt.block_on(shardio_reads(&path, blocks, depth, time, Read::Fixed))?);
            if fio && !smoke && !fio_first {
                f.extend(fio_run(&path, "randread", "4k", depth, secs));
            }
        }
        let t = if only_shardio {
            None
        } else {
            Some(rt.block_on(tokio_reads(&path, blocks, depth, time))?)
        };
        let f_med = median(&f);
        row(
            &format!("4 KiB O_DIRECT randread QD{depth}"),
            median(&s).as_ref().unwrap_or(&s[0]),
            f_med.as_ref(),
            t.as_ref(),
            median_ratio(&s, &f),
            "IOPS",
        );
        row(
            &format!("  same, read_fixed_at QD{depth}"),
            median(&sf).as_ref().unwrap_or(&sf[0]),
            f_med.as_ref(),
            t.as_ref(),
            median_ratio(&sf, &f),
            "IOPS",
        );
    }
    if run("cache") {
        // Page cache: warm it, then read.
        let _ = std::fs::read(&path)?;
        let (mut s, mut p) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            s.push(srt.block_on(shardio_reads(&path, blocks, 32, time, Read::Cached))?);
            if !only_shardio {
                p.push(pread_one_thread(&path, blocks, time)?);
            }
        }
        let t = if only_shardio {
            None
        } else {
            Some(rt.block_on(tokio_reads(&path, blocks, 32, time))?)
        };
        row(
            "4 KiB page-cache randread, 32 tasks",
            median(&s).as_ref().unwrap_or(&s[0]),
            median(&p).as_ref(),
            t.as_ref(),
            median_ratio(&s, &p),
            "IOPS",
        );
    }
    if run("write") {
        let (mut s, mut f) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let fio_first = round % 2 == 1;
            if fio && !smoke && fio_first {
                f.extend(fio_run(&path, "write", "1m", 32, secs));
            }
            s.push(srt.block_on(shardio_seq_writes(&path, size, 32, time))?);
            if fio && !smoke && !fio_first {
                f.extend(fio_run(&path, "write", "1m", 32, secs));
            }
        }
        row(
            "1 MiB O_DIRECT seq write QD32",
            median(&s).as_ref().unwrap_or(&s[0]),
            median(&f).as_ref(),
            None,
            median_ratio(&s, &f),
            "MB/s",
        );
    }
    std::fs::remove_file(&path)?;
    Ok(())
}

fn env_or(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The figure with the median rate (the upper one of an even count).
fn median(figures: &[Figure]) -> Option<Figure> {
    let mut sorted: Vec<&Figure> = figures.iter().collect();
    sorted.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    sorted.get(sorted.len() / 2).map(|f| Figure {
        rate: f.rate,
        cpu_us: f.cpu_us,
    })
}

/// The median of the per-round ratios `ours[i] / theirs[i]`, and all of
/// them in round order.
fn median_ratio(ours: &[Figure], theirs: &[Figure]) -> Option<(f64, Vec<f64>)> {
    let ratios: Vec<f64> = ours
        .iter()
        .zip(theirs)
        .map(|(o, t)| o.rate / t.rate)
        .collect();
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    Some((*sorted.get(sorted.len() / 2)?, ratios))
}

fn row(
    name: &str,
    s: &Figure,
    other: Option<&Figure>,
    tokio: Option<&Figure>,
    ratio: Option<(f64, Vec<f64>)>,
    unit: &str,
) {
    let show = |f: Option<&Figure>| {
        f.map_or("n/a".to_owned(), |f| {
            format!("{:.0} ({:.1}µs)", f.rate, f.cpu_us)
        })
    };
    let rounds = match &ratio {
        Some((_, all)) if all.len() > 1 => {
            let all: Vec<String> = all.iter().map(|r| format!("{r:.2}")).collect();
            format!("; rounds {}", all.join(" "))
        }
        _ => String::new(),
    };
    let ratio = ratio.map_or("n/a".to_owned(), |(r, _)| format!("{r:.2}x"));
    println!(
        "{name:<34} {:>16} {:>16} {:>16} {ratio:>9}  {unit}, CPU/IO{rounds}",
        show(Some(s)),
        show(other),
        show(tokio)
    );
}

fn prepare(path: &Path, size: u64) -> io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() == size) {
        return Ok(());
    }
    let chunk = vec![0x5au8; 1 << 20];
    let mut f = std::fs::File::create(path)?;
    for _ in 0..size / chunk.len() as u64 {
        std::io::Write::write_all(&mut f, &chunk)?;
    }
    f.sync_all()
}

fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct we pass.
    let u = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn figure(
    ops: u64,
    bytes_per_op: f64,
    start: Instant,
    cpu0: Duration,
    per_second_of: &str,
) -> Figure {
    let secs = start.elapsed().as_secs_f64();
    let rate = if per_second_of == "MB/s" {
        ops as f64 * bytes_per_op / secs / 1e6
    } else {
        ops as f64 / secs
    };
    Figure {
        rate,
        cpu_us: (cpu_time() - cpu0).as_secs_f64() * 1e6 / ops.max(1) as f64,
    }
}

/// How `shardio_reads` reads.
#[derive(Clone, Copy, PartialEq)]
enum Read {
    /// O_DIRECT `read_at` into an aligned buffer of the task's own.
    Direct,
    /// O_DIRECT `read_fixed_at` into a registered buffer.
    Fixed,
    /// `read_at` through the page cache.
    Cached,
}

async fn shardio_reads(
    path: &Path,
    blocks: u64,
    depth: usize,
    time: Duration,
    how: Read,
) -> io::Result<Figure> {
    let direct = how != Read::Cached;
    let file = Arc::new(
        OpenOptions::new()
            .read(true)
            .direct(direct)
            .open(path)
            .await?,
    );
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (start, cpu0) = (Instant::now(), cpu_time());
    let tasks: Vec<_> = (0..depth as u64)
        .map(|t| {
            let (file, count, stop) = (Arc::clone(&file), Arc::clone(&count), Arc::clone(&stop));
            let fixed = FIXED_POOL.get().filter(|_| how == Read::Fixed).cloned();
            let reads = async move {
                let mut x = 0x9e37_79b9_7f4a_7c15 ^ (t + 1);
                if let Some(pool) = fixed {
                    let mut buf = pool.get().await;
                    while !stop.load(Ordering::Relaxed) {
                        let (res, b) = file
                            .read_fixed_at(buf, xorshift(&mut x) % blocks * BLOCK as u64)
                            .await;
                        buf = b;
                        res?;
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    return io::Result::Ok(());
                }
                let mut buf = file.aligned_buf(BLOCK)?;
                while !stop.load(Ordering::Relaxed) {
                    let (res, b) = file
                        .read_at(buf, xorshift(&mut x) % blocks * BLOCK as u64)
                        .await;
                    buf = b;
                    res?;
                    count.fetch_add(1, Ordering::Relaxed);
                }
                io::Result::Ok(())
            };
            match BENCH_CLASS.get() {
                Some(class) => class.spawn(reads),
                None => tokio::spawn(reads),
            }
        })
        .collect();
    tokio::time::sleep(time).await;
    stop.store(true, Ordering::Relaxed);
    let fig = figure(
        count.load(Ordering::Relaxed),
        BLOCK as f64,
        start,
        cpu0,
        "IOPS",
    );
    for t in tasks {
        t.await.map_err(io::Error::other)??;
    }
    Ok(fig)
}

async fn tokio_reads(path: &Path, blocks: u64, tasks: usize, time: Duration) -> io::Result<Figure> {
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (start, cpu0) = (Instant::now(), cpu_time());
    let handles: Vec<_> = (0..tasks as u64)
        .map(|t| {
            let (count, stop, path) = (Arc::clone(&count), Arc::clone(&stop), path.to_owned());
            tokio::spawn(async move {
                let mut file = tokio::fs::File::open(path).await?;
                let mut buf = vec![0u8; BLOCK];
                let mut x = 0x2545_f491_4f6c_dd1d ^ (t + 1);
                while !stop.load(Ordering::Relaxed) {
                    file.seek(SeekFrom::Start(xorshift(&mut x) % blocks * BLOCK as u64))
                        .await?;
                    file.read_exact(&mut buf).await?;
                    count.fetch_add(1, Ordering::Relaxed);
                }
                io::Result::Ok(())
            })
        })
        .collect();
    tokio::time::sleep(time).await;
    stop.store(true, Ordering::Relaxed);
    let fig = figure(
        count.load(Ordering::Relaxed),
        BLOCK as f64,
        start,
        cpu0,
        "IOPS",
    );
    for h in handles {
        h.await.map_err(io::Error::other)??;
    }
    Ok(fig)
}

fn pread_one_thread(path: &Path, blocks: u64, time: Duration) -> io::Result<Figure> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; BLOCK];
    let mut x = 7u64;
    let (start, cpu0) = (Instant::now(), cpu_time());
    let mut ops = 0u64;
    while start.elapsed() < time {
        for _ in 0..256 {
            file.read_exact_at(&mut buf, xorshift(&mut x) % blocks * BLOCK as u64)?;
        }
        ops += 256;
    }
    Ok(figure(ops, BLOCK as f64, start, cpu0, "IOPS"))
}

async fn shardio_seq_writes(
    path: &Path,
    size: u64,
    depth: usize,
    time: Duration,
) -> io::Result<Figure> {
    const CHUNK: u64 = 1 << 20;
    let file = Arc::new(
        OpenOptions::new()
            .write(true)
            .direct(true)
            .open(path)
            .await?,
    );
    let next = Arc::new(AtomicU64::new(0));
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (start, cpu0) = (Instant::now(), cpu_time());
    let tasks: Vec<_> = (0..depth)
        .map(|_| {
            let (file, next, count, stop) = (
                Arc::clone(&file),
                Arc::clone(&next),
                Arc::clone(&count),
                Arc::clone(&stop),
            );
            tokio::spawn(async move {
                let mut buf = file.aligned_buf(CHUNK as usize)?;
                while !stop.load(Ordering::Relaxed) {
                    let at = next.fetch_add(CHUNK, Ordering::Relaxed) % size;
                    let (res, b) = file.write_all_at(buf, at).await;
                    buf = b;
                    res?;
                    count.fetch_add(1, Ordering::Relaxed);
                }
                io::Result::Ok(())
            })
        })
        .collect();
    tokio::time::sleep(time).await;
    stop.store(true, Ordering::Relaxed);
    let fig = figure(
        count.load(Ordering::Relaxed),
        CHUNK as f64,
        start,
        cpu0,
        "MB/s",
    );
    for t in tasks {
        t.await.map_err(io::Error::other)??;
    }
    Ok(fig)
}

fn fio_available() -> bool {
    Command::new("fio")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One fio job on `path`; returns IOPS (or MB/s for `write`) and CPU µs per
/// I/O from fio's own usr+sys percentages.
fn fio_run(path: &Path, rw: &str, bs: &str, depth: usize, secs: f64) -> Option<Figure> {
    let out = Command::new("fio")
        .args([
            "--name=bench",
            "--ioengine=io_uring",
            "--direct=1",
            "--output-format=json",
            "--time_based",
        ])
        .arg(format!("--filename={}", path.display()))
        .arg(format!("--rw={rw}"))
        .arg(format!("--bs={bs}"))
        .arg(format!("--iodepth={depth}"))
        .arg(format!("--runtime={}", secs.ceil() as u64))
        .output()
        .ok()?;
    let json = String::from_utf8_lossy(&out.stdout);
    let side = if rw.contains("write") {
        "\"write\" : {"
    } else {
        "\"read\" : {"
    };
    let section = &json[json.find(side)?..];
    let num = |key: &str, text: &str| -> Option<f64> {
        let at = text.find(&format!("\"{key}\""))?;
        let rest = &text[at + key.len() + 3..];
        rest.trim_start_matches([' ', ':'])
            .split([',', '\n', '}'])
            .next()?
            .trim()
            .parse()
            .ok()
    };
    let iops = num("iops", section)?;
    let bw_kib = num("bw", section)?;
    let usr = num("usr_cpu", &json)?;
    let sys = num("sys_cpu", &json)?;
    let cpu_us = (usr + sys) / 100.0 * 1e6 / iops.max(1.0);
    let rate = if rw.contains("write") {
        bw_kib * 1024.0 / 1e6
    } else {
        iops
    };
    Some(Figure { rate, cpu_us })
}
