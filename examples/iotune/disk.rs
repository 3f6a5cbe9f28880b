//! iotune's disk mode (see `main.rs`): a test file measured with O_DIRECT
//! reads and writes through shardio.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use shardio::fs::{File, OpenOptions};

use crate::{Args, MIB, SEQ_DEPTH};

const RAND_DEPTH: usize = 64;

/// Measures the device holding `dir` on `runtime` and writes the file.
pub(crate) fn main(
    args: &Args,
    dir: &Path,
    runtime: &tokio::runtime::Runtime,
) -> Result<ExitCode, (u8, String)> {
    let dir = std::fs::canonicalize(dir)
        .and_then(|d| match d.is_dir() {
            true => Ok(d),
            false => Err(io::Error::other("not a directory")),
        })
        .map_err(|e| (2, format!("--dir {}: {e}", dir.display())))?;
    let mountpoint = mountpoint(&dir).unwrap_or_else(|e| {
        eprintln!("iotune: warning: /proc/self/mountinfo: {e}");
        dir.clone()
    });
    let path = dir.join(".shardio-iotune.tmp");
    let res = runtime.block_on(async {
        tokio::select! {
            res = calibrate(args, &dir, &path, &mountpoint) => res.map(|()| ExitCode::SUCCESS),
            Ok(()) = tokio::signal::ctrl_c() => {
                eprintln!("iotune: interrupted");
                Ok(ExitCode::from(130))
            }
        }
    });
    // Slots still running after Ctrl-C write to the unlinked file until the
    // runtime is dropped, which cancels them.
    if let Err(e) = std::fs::remove_file(&path) {
        if e.kind() != io::ErrorKind::NotFound {
            eprintln!("iotune: cannot remove {}: {e}", path.display());
        }
    }
    res.map_err(|msg| (1, msg))
}

/// The longest mount point in /proc/self/mountinfo holding `dir` (canonical).
fn mountpoint(dir: &Path) -> io::Result<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")?;
    info.lines()
        .filter_map(|line| line.split(' ').nth(4).map(unescape))
        .filter(|mp| dir.starts_with(mp))
        .max_by_key(|mp| mp.components().count())
        .ok_or_else(|| io::Error::other("no mount point holds the directory"))
}

/// Undoes mountinfo's octal escapes (`\040` for a space, ...).
fn unescape(field: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    let (bytes, mut out, mut i) = (field.as_bytes(), Vec::new(), 0);
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .and_then(|o| std::str::from_utf8(o).ok());
        match octal.and_then(|o| u8::from_str_radix(o, 8).ok()) {
            Some(b) if bytes[i] == b'\\' => (out.push(b), i += 4),
            _ => (out.push(bytes[i]), i += 1),
        };
    }
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

/// Transfers of `block` bytes, `depth` at a time, on a file of `size` bytes.
#[derive(Clone, Copy)]
struct Job {
    write: bool,
    random: bool,
    block: usize,
    depth: usize,
    size: u64,
}

#[derive(Default)]
struct Counters {
    ops: AtomicU64,
    stop: AtomicBool,
}

/// Runs `job` on `depth` tasks until `deadline`, or for one pass over the
/// file when there is none; returns (operations per second, seconds).
async fn run(file: &Arc<File>, job: Job, deadline: Option<Instant>) -> io::Result<(f64, f64)> {
    let counters = Arc::new(Counters::default());
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(job.depth);
    for index in 0..job.depth {
        let mut buf = file.aligned_buf(job.block)?;
        buf.fill(0x5a);
        let (file, counters) = (Arc::clone(file), Arc::clone(&counters));
        tasks.push(tokio::spawn(async move {
            let res = slot(&file, buf, job, index, deadline, &counters).await;
            counters.stop.fetch_or(res.is_err(), Relaxed);
            res
        }));
    }
    let mut first_err = Ok(());
    for task in tasks {
        let res = task.await.unwrap_or_else(|e| Err(io::Error::other(e)));
        first_err = first_err.and(res);
    }
    first_err?;
    let secs = start.elapsed().as_secs_f64();
    Ok((counters.ops.load(Relaxed) as f64 / secs, secs))
}

/// One queue slot: a sequential slot cycles through its slice of the file,
/// a random one picks blocks anywhere in it.
async fn slot(
    file: &File,
    mut buf: shardio::buf::AlignedBuf,
    job: Job,
    index: usize,
    deadline: Option<Instant>,
    counters: &Counters,
) -> io::Result<()> {
    let (block, size) = (job.block as u64, job.size);
    let slice = size / job.depth as u64;
    let (base, blocks) = match job.random {
        true => (0, size / block),
        false => (index as u64 * slice, slice / block),
    };
    let mut rng = 0x2545_f491_4f6c_dd1d_u64.wrapping_mul(index as u64 + 1);
    let mut done = 0u64;
    while !counters.stop.load(Relaxed) && deadline.map_or(done < blocks, |d| Instant::now() < d) {
        let n = if job.random { mix(&mut rng) } else { done };
        let pos = base + n % blocks * block;
        let (res, b) = match job.write {
            true => file.write_at(buf, pos).await,
            false => file.read_at(buf, pos).await,
        };
        buf = b;
        let n = res?;
        if n != job.block {
            return Err(io::Error::other(format!("short transfer at {pos}: {n} B")));
        }
        done += 1;
        counters.ops.fetch_add(1, Relaxed);
    }
    Ok(())
}

/// splitmix64: a random block number per call.
fn mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

async fn calibrate(args: &Args, dir: &Path, path: &Path, mountpoint: &Path) -> Result<(), String> {
    if let Some(reason) = shardio::metrics().fallback_reason {
        println!("note: io_uring unavailable ({reason}); measuring shardio's fallback path");
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true);
    let file = options.direct(true).direct_strict(true).open(path).await;
    let file = file.map_err(|e| match e.kind() {
        io::ErrorKind::InvalidInput => format!(
            "the filesystem of {} rejects O_DIRECT (e.g. ramfs, or tmpfs before Linux 6.6); \
             run iotune on the filesystem that will hold the data",
            dir.display()
        ),
        _ => format!("cannot create {}: {e}", path.display()),
    })?;
    let align = file.direct_alignment().unwrap_or(4096);
    let (file, size, small) = (Arc::new(file), args.file_size, align.max(4096));
    let fail = |what: &str, e: io::Error| format!("{what} on {}: {e}", path.display());
    let job = |write, random| {
        let (block, depth) = if random {
            (small, RAND_DEPTH)
        } else {
            (MIB as usize, SEQ_DEPTH)
        };
        Job {
            write,
            random,
            block,
            depth,
            size,
        }
    };
    println!("device of {} (alignment {align} B)", mountpoint.display());

    let filled = run(&file, job(true, false), None).await;
    let (mib_per_s, secs) = filled.map_err(|e| fail("filling", e))?; // 1 MiB per op
    file.sync_all().await.map_err(|e| fail("fsync", e))?;
    println!(
        "filled {} MiB in {secs:.1} s ({mib_per_s:.0} MiB/s)",
        size / MIB
    );

    let measure = async |name: &str, job: Job| {
        let deadline = Instant::now() + args.duration;
        let rate = run(&file, job, Some(deadline)).await;
        let (iops, _) = rate.map_err(|e| fail(name, e))?;
        let (iops, bw) = (iops as u64, (iops * job.block as f64) as u64);
        if iops == 0 {
            return Err(format!(
                "{name}: no operation completed in {:?}",
                args.duration
            ));
        }
        let (depth, mib) = (job.depth, bw as f64 / MIB as f64);
        match job.random {
            true => println!("{name}: {iops} IOPS ({} B at depth {depth})", job.block),
            false => println!("{name}: {mib:.1} MiB/s ({bw} B/s, 1 MiB at depth {depth})"),
        }
        Ok::<_, String>((iops, bw))
    };
    let (_, write_bw) = measure("write bandwidth", job(true, false)).await?;
    let (_, read_bw) = measure("read bandwidth", job(false, false)).await?;
    let (read_iops, _) = measure("read IOPS", job(false, true)).await?;
    let (write_iops, _) = measure("write IOPS", job(true, true)).await?;

    let yaml = format!(
        "disks:\n  - mountpoint: {}\n    read_iops: {read_iops}\n    read_bandwidth: {read_bw}\n    \
         write_iops: {write_iops}\n    write_bandwidth: {write_bw}\n    rate_factor: {:?}\n",
        yaml_str(&mountpoint.to_string_lossy()),
        args.rate_factor
    );
    crate::write(&args.out, &yaml)
}

/// A YAML scalar: plain when safe, double-quoted otherwise.
fn yaml_str(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+".contains(c);
    match s.chars().all(plain) && !s.is_empty() {
        true => s.to_string(),
        false => format!("{s:?}"),
    }
}
