//! An io_tester-like runner for shardio's priority classes (after Seastar's
//! `io_tester`): reads a YAML list of jobs, runs them at once on a shardio
//! runtime, and prints per class what it got.
//!
//! ```text
//! cargo run --release --example io_tester -- --jobs jobs.yaml \
//!     [--dir /var/tmp] [--io-properties io_properties.yaml] \
//!     [--duration 10] [--one-class]
//! ```
//!
//! A jobs file:
//!
//! ```yaml
//! - name: latency          # the job's name (and its class, unless `class` is given)
//!   type: randread         # randread, seqread, randwrite, seqwrite, append (disk, O_DIRECT),
//!                          # rpc (request/response over loopback TCP), upload (bulk TCP send)
//!   class: interactive     # the priority class (jobs may share one)
//!   shares: 1000           # the class's shares (the first job naming the class sets them)
//!   parallelism: 4         # concurrent requests (tasks)
//!   request_size: 4k       # bytes per request (k/M/G suffixes, binary)
//!   rps: 2000              # optional: requests per second for the whole job
//!   data_size: 1G          # the job's file size (disk jobs)
//!   duration: 10           # optional: seconds (default: --duration)
//! ```
//!
//! Disk jobs use O_DIRECT on `<dir>/io_tester-<name>.dat` (created and
//! filled first, also for writes so they overwrite allocated blocks; kept
//! for the next run; an `append` job starts from an empty file). Network jobs talk to a server in the
//! same process; the server side of each connection runs in the job's class
//! too. `--one-class` puts every job into one class, to compare with.
//! `--io-properties` gives the scheduler a device model (see the `iotune`
//! example); without one, classes are ordered by shares under a cap of
//! requests in flight per device.
//!
//! Printed per class: IOPS, throughput, latency p50/p95/p99/p99.9/max,
//! consumption (device-seconds and per share), mean queue delay, and for
//! rate-limited jobs the share of the target rate achieved.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use shardio::BuilderExt;
use shardio::fs::{File, OpenOptions};
use shardio::net::{TcpListener, TcpStream};
use shardio::sched::{ClassStats, PriorityClass};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    RandRead,
    SeqRead,
    RandWrite,
    SeqWrite,
    Append,
    Rpc,
    Upload,
}

#[derive(Debug, Clone)]
struct Job {
    name: String,
    kind: Kind,
    class: String,
    shares: u32,
    parallelism: usize,
    request_size: usize,
    rps: Option<f64>,
    data_size: u64,
    duration: Option<Duration>,
}

struct Args {
    jobs: PathBuf,
    dir: PathBuf,
    props: Option<PathBuf>,
    duration: Duration,
    one_class: bool,
    latency_goal: Option<Duration>,
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("io_tester: {msg}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(args) {
        eprintln!("io_tester: {e}");
        std::process::exit(1);
    }
}

const USAGE: &str = "usage: io_tester --jobs JOBS.yaml [--dir DIR] [--io-properties FILE] [--latency-goal-us N] [--duration SECS] [--one-class]";

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut jobs = None;
    let mut dir = PathBuf::from("/var/tmp");
    let mut props = None;
    let mut duration = Duration::from_secs(10);
    let mut one_class = false;
    let mut latency_goal = None;
    while let Some(a) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--jobs" => jobs = Some(PathBuf::from(val("--jobs")?)),
            "--dir" => dir = PathBuf::from(val("--dir")?),
            "--io-properties" => props = Some(PathBuf::from(val("--io-properties")?)),
            "--duration" => {
                let v = val("--duration")?;
                let secs: f64 = v
                    .parse()
                    .map_err(|_| format!("--duration {v}: not a number of seconds"))?;
                if !(secs > 0.0 && secs < 86_400.0) {
                    return Err(format!("--duration {v}: use 0 < seconds < 86400"));
                }
                duration = Duration::from_secs_f64(secs);
            }
            "--one-class" => one_class = true,
            "--latency-goal-us" => {
                let v = val("--latency-goal-us")?;
                let us: u64 = v
                    .parse()
                    .map_err(|_| format!("--latency-goal-us {v}: not a number of microseconds"))?;
                latency_goal = Some(Duration::from_micros(us));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        jobs: jobs.ok_or("--jobs is required")?,
        dir,
        props,
        duration,
        one_class,
        latency_goal,
    })
}

fn scalar_text(node: &Yaml<'_>) -> Option<String> {
    match node {
        Yaml::Value(Scalar::String(s)) => Some(s.to_string()),
        Yaml::Value(Scalar::Integer(i)) => Some(i.to_string()),
        Yaml::Value(Scalar::FloatingPoint(f)) => Some(f.into_inner().to_string()),
        Yaml::Representation(s, _, _) => Some(s.to_string()),
        _ => None,
    }
}

fn size(text: &str) -> Option<f64> {
    let t = text.trim();
    let (num, mult) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 1024.0),
        (i, 'm' | 'M') => (&t[..i], 1024.0 * 1024.0),
        (i, 'g' | 'G') => (&t[..i], 1024.0 * 1024.0 * 1024.0),
        _ => (t, 1.0),
    };
    let v: f64 = num.trim().parse().ok()?;
    (v.is_finite() && v > 0.0).then_some(v * mult)
}

fn parse_jobs(text: &str) -> Result<Vec<Job>, String> {
    let docs = Yaml::load_from_str(text).map_err(|e| format!("jobs file: {e}"))?;
    let list = docs
        .first()
        .and_then(|d| d.as_sequence())
        .ok_or("jobs file: expected a list of jobs")?;
    let mut jobs = Vec::new();
    for (i, node) in list.iter().enumerate() {
        let get = |key: &str| node.as_mapping_get(key).and_then(scalar_text);
        let name = get("name").ok_or(format!("job {}: `name` is missing", i + 1))?;
        let bad = |key: &str, v: &str| format!("job {name}: `{key}: {v}` is not valid");
        let kind = match get("type").as_deref() {
            Some("randread") => Kind::RandRead,
            Some("seqread") => Kind::SeqRead,
            Some("randwrite") => Kind::RandWrite,
            Some("seqwrite") => Kind::SeqWrite,
            Some("append") => Kind::Append,
            Some("rpc") => Kind::Rpc,
            Some("upload") => Kind::Upload,
            Some(other) => return Err(bad("type", other)),
            None => return Err(format!("job {name}: `type` is missing")),
        };
        let num = |key: &str, default: f64| -> Result<f64, String> {
            match get(key) {
                Some(v) => size(&v).ok_or_else(|| bad(key, &v)),
                None => Ok(default),
            }
        };
        let job = Job {
            class: get("class").unwrap_or_else(|| name.clone()),
            shares: num("shares", 100.0)? as u32,
            parallelism: num("parallelism", 1.0)? as usize,
            request_size: num("request_size", 4096.0)? as usize,
            rps: get("rps")
                .map(|v| size(&v).ok_or_else(|| bad("rps", &v)))
                .transpose()?,
            data_size: num("data_size", 256.0 * 1024.0 * 1024.0)? as u64,
            duration: get("duration")
                .map(|v| {
                    size(&v)
                        .map(Duration::from_secs_f64)
                        .ok_or_else(|| bad("duration", &v))
                })
                .transpose()?,
            kind,
            name,
        };
        if job.parallelism == 0 || job.request_size == 0 {
            return Err(format!(
                "job {}: parallelism and request_size must be ≥ 1",
                job.name
            ));
        }
        jobs.push(job);
    }
    Ok(jobs)
}

/// What one job measured.
#[derive(Default)]
struct Tally {
    ops: AtomicU64,
    bytes: AtomicU64,
    lat_ns: Mutex<Vec<u64>>,
    /// Blocks an `append` job wrote so far.
    appended: Arc<AtomicU64>,
}

fn run(args: Args) -> io::Result<()> {
    let text = std::fs::read_to_string(&args.jobs)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", args.jobs.display())))?;
    let jobs = parse_jobs(&text).map_err(io::Error::other)?;
    let mut config = shardio::Config::new();
    if let Some(p) = &args.props {
        config = config.io_properties_file(p)?;
    }
    if let Some(goal) = args.latency_goal {
        config = config.io_latency_goal(goal)?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .shardio(config)
        .build()?;
    rt.block_on(run_jobs(jobs, args))
}

async fn run_jobs(jobs: Vec<Job>, args: Args) -> io::Result<()> {
    // Classes by name; the first job naming one sets its shares.
    let mut classes: BTreeMap<String, PriorityClass> = BTreeMap::new();
    for job in &jobs {
        let (name, shares) = if args.one_class {
            ("all".to_string(), 100)
        } else {
            (job.class.clone(), job.shares)
        };
        classes
            .entry(name.clone())
            .or_insert_with(|| PriorityClass::new(name, shares));
    }
    let class_of = |job: &Job| {
        let key = if args.one_class { "all" } else { &job.class };
        classes[key].clone()
    };
    let mut files = Vec::new();
    for job in &jobs {
        files.push(match job.kind {
            Kind::Rpc | Kind::Upload => None,
            _ => Some(Arc::new(prepare(&args.dir, job).await?)),
        });
    }
    let server = if jobs
        .iter()
        .any(|j| matches!(j.kind, Kind::Rpc | Kind::Upload))
    {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let job_classes: Vec<(PriorityClass, Job)> =
            jobs.iter().map(|j| (class_of(j), j.clone())).collect();
        tokio::spawn(serve(listener, job_classes));
        Some(addr)
    } else {
        None
    };

    let before: BTreeMap<String, ClassStats> = classes
        .iter()
        .map(|(n, c)| (n.clone(), c.stats()))
        .collect();
    let started = Instant::now();
    let mut handles = Vec::new();
    let mut tallies = Vec::new();
    for (j, job) in jobs.iter().enumerate() {
        let tally = Arc::new(Tally::default());
        tallies.push(Arc::clone(&tally));
        let until = started + job.duration.unwrap_or(args.duration);
        for w in 0..job.parallelism {
            let job = job.clone();
            let tally = Arc::clone(&tally);
            let class = class_of(&job);
            let file = files[j].clone();
            let rps = job.rps.map(|r| r / job.parallelism as f64);
            handles.push(class.spawn(async move {
                let mut worker = Worker::new(&job, w, rps, until, tally);
                match (job.kind, file) {
                    (Kind::Rpc | Kind::Upload, _) => {
                        let addr = server.expect("a server for network jobs");
                        worker.net(addr, j as u8).await
                    }
                    (_, Some(file)) => worker.disk(&file).await,
                    (_, None) => Ok(()),
                }
            }));
        }
    }
    for h in handles {
        h.await.map_err(io::Error::other)??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    report(&jobs, &tallies, &classes, &before, elapsed, args.one_class);
    Ok(())
}

async fn prepare(dir: &Path, job: &Job) -> io::Result<File> {
    let path = dir.join(format!("io_tester-{}.dat", job.name));
    let size = job.data_size.div_ceil(1 << 20) << 20;
    // Reads need data; writes need allocated blocks (overwriting a sparse
    // file makes the filesystem allocate and journal on every write).
    let needs_data = job.kind != Kind::Append;
    let have = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .direct(true)
        .direct_strict(true)
        .open(&path)
        .await?;
    if needs_data && have < size {
        eprintln!("io_tester: filling {} ({} MiB)", path.display(), size >> 20);
        let mut buf = file.aligned_buf(1 << 20)?;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        let mut at = 0;
        while at < size {
            let (res, b) = file.write_all_at(buf, at).await;
            res?;
            buf = b;
            at += 1 << 20;
        }
        file.sync_all().await?;
    } else if !needs_data {
        file.set_len(0).await?;
    }
    Ok(file)
}

struct Worker {
    kind: Kind,
    size: usize,
    blocks: u64,
    interval: Option<Duration>,
    until: Instant,
    tally: Arc<Tally>,
    seed: u64,
    next_seq: u64,
    /// The end of an `append` job's file, shared by its workers.
    append: Arc<AtomicU64>,
    lat: Vec<u64>,
}

impl Worker {
    fn new(job: &Job, w: usize, rps: Option<f64>, until: Instant, tally: Arc<Tally>) -> Worker {
        let blocks = (job.data_size / job.request_size as u64).max(1);
        Worker {
            append: Arc::clone(&tally.appended),
            kind: job.kind,
            size: job.request_size,
            blocks,
            interval: rps.map(|r| Duration::from_secs_f64(1.0 / r)),
            until,
            tally,
            seed: 0x9e37_79b9_7f4a_7c15 ^ ((w as u64 + 1) << 32) ^ job.name.len() as u64,
            next_seq: blocks * w as u64 / job.parallelism as u64,
            lat: Vec::new(),
        }
    }

    fn block(&mut self) -> u64 {
        match self.kind {
            Kind::Append => self.append.fetch_add(1, Ordering::Relaxed),
            Kind::RandRead | Kind::RandWrite => {
                self.seed ^= self.seed << 13;
                self.seed ^= self.seed >> 7;
                self.seed ^= self.seed << 17;
                self.seed % self.blocks
            }
            _ => {
                let b = self.next_seq % self.blocks;
                self.next_seq += 1;
                b
            }
        }
    }

    /// Runs requests until the deadline, paced when the job has a rate.
    async fn paced<F, Fut>(&mut self, mut one: F) -> io::Result<()>
    where
        F: FnMut(u64) -> Fut,
        Fut: Future<Output = io::Result<usize>>,
    {
        let start = Instant::now();
        let mut n = 0u32;
        loop {
            if let Some(iv) = self.interval {
                let due = start + iv * n;
                if due >= self.until {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
            } else if Instant::now() >= self.until {
                break;
            }
            n += 1;
            let block = self.block();
            let t = Instant::now();
            let bytes = one(block).await?;
            self.lat.push(t.elapsed().as_nanos() as u64);
            self.tally.ops.fetch_add(1, Ordering::Relaxed);
            self.tally.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        }
        let lat = std::mem::take(&mut self.lat);
        self.tally.lat_ns.lock().expect("tally").extend(lat);
        Ok(())
    }

    async fn disk(&mut self, file: &File) -> io::Result<()> {
        let size = self.size;
        let buf = Arc::new(Mutex::new(Some(file.aligned_buf(size)?)));
        let write = matches!(self.kind, Kind::RandWrite | Kind::SeqWrite | Kind::Append);
        self.paced(|block| {
            let buf = Arc::clone(&buf);
            async move {
                let b = buf
                    .lock()
                    .expect("buf")
                    .take()
                    .expect("one request at a time");
                let pos = block * size as u64;
                let (res, b) = if write {
                    file.write_at(b, pos).await
                } else {
                    file.read_at(b, pos).await
                };
                *buf.lock().expect("buf") = Some(b);
                res
            }
        })
        .await
    }

    async fn net(&mut self, addr: std::net::SocketAddr, job: u8) -> io::Result<()> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let stream = Arc::new(tokio::sync::Mutex::new(stream));
        stream.lock().await.write_all(&[job]).await?;
        let size = self.size;
        let rpc = self.kind == Kind::Rpc;
        self.paced(|_| {
            let stream = Arc::clone(&stream);
            async move {
                let mut s = stream.lock().await;
                let mut buf = vec![1u8; size];
                s.write_all(&buf).await?;
                if rpc {
                    s.read_exact(&mut buf).await?;
                }
                Ok(size)
            }
        })
        .await
    }
}

/// The network jobs' server: the first byte says which job a connection
/// belongs to; rpc connections are echoed, upload connections drained, each
/// in its job's class.
async fn serve(listener: TcpListener, jobs: Vec<(PriorityClass, Job)>) {
    let jobs = Arc::new(jobs);
    while let Ok((mut stream, _)) = listener.accept().await {
        let jobs = Arc::clone(&jobs);
        tokio::spawn(async move {
            let mut id = [0u8];
            if stream.read_exact(&mut id).await.is_err() {
                return;
            }
            let Some((class, job)) = jobs.get(id[0] as usize) else {
                return;
            };
            let _ = stream.set_nodelay(true);
            stream.set_class(class);
            let mut buf = vec![0u8; job.request_size];
            let echo = job.kind == Kind::Rpc;
            loop {
                if stream.read_exact(&mut buf).await.is_err() {
                    return;
                }
                if echo && stream.write_all(&buf).await.is_err() {
                    return;
                }
            }
        });
    }
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

fn report(
    jobs: &[Job],
    tallies: &[Arc<Tally>],
    classes: &BTreeMap<String, PriorityClass>,
    before: &BTreeMap<String, ClassStats>,
    secs: f64,
    one_class: bool,
) {
    println!("# {secs:.1} s");
    println!(
        "{:<14} {:<12} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8}",
        "job",
        "class",
        "IOPS",
        "MB/s",
        "p50 µs",
        "p95 µs",
        "p99 µs",
        "p99.9 µs",
        "max µs",
        "rate %"
    );
    for (job, tally) in jobs.iter().zip(tallies) {
        let mut lat = tally.lat_ns.lock().expect("tally").clone();
        lat.sort_unstable();
        let ops = tally.ops.load(Ordering::Relaxed) as f64;
        let bytes = tally.bytes.load(Ordering::Relaxed) as f64;
        let dur = job.duration.map_or(secs, |d| d.as_secs_f64().min(secs));
        let rate = job.rps.map_or("-".to_string(), |r| {
            format!("{:.1}", 100.0 * ops / (r * dur))
        });
        println!(
            "{:<14} {:<12} {:>10.0} {:>10.1} {:>9.0} {:>9.0} {:>9.0} {:>9.0} {:>10.0} {:>8}",
            job.name,
            if one_class { "all" } else { &job.class },
            ops / dur,
            bytes / dur / 1e6,
            pct(&lat, 0.50),
            pct(&lat, 0.95),
            pct(&lat, 0.99),
            pct(&lat, 0.999),
            lat.last().copied().unwrap_or(0) as f64 / 1000.0,
            rate,
        );
    }
    println!(
        "\n{:<12} {:>7} {:>10} {:>14} {:>16} {:>12} {:>12} {:>10}",
        "class",
        "shares",
        "ops",
        "consumption s",
        "consumption/shr",
        "queue µs/op",
        "device µs/op",
        "starved s"
    );
    for (name, class) in classes {
        let now = class.stats();
        let was = &before[name];
        let ops = now.ops - was.ops;
        let consumption = now.consumption - was.consumption;
        let queue = (now.queue_delay - was.queue_delay).as_secs_f64();
        let device = (now.in_device - was.in_device).as_secs_f64();
        let per_op = |t: f64| if ops > 0 { t * 1e6 / ops as f64 } else { 0.0 };
        println!(
            "{:<12} {:>7} {:>10} {:>14.3} {:>16.6} {:>12.1} {:>12.1} {:>10.3}",
            name,
            now.shares,
            ops,
            consumption,
            consumption / f64::from(now.shares),
            per_op(queue),
            per_op(device),
            (now.starvation - was.starvation).as_secs_f64(),
        );
    }
}
