//! An io_tester-like runner for shardio's priority classes (after Seastar's
//! `io_tester`): reads a YAML list of jobs, runs them at once on a shardio
//! runtime, and prints per class what it got.
//!
//! ```text
//! cargo run --release --example io_tester -- --jobs jobs.yaml \
//!     [--dir /var/tmp] [--io-properties io_properties.yaml] \
//!     [--duration 10] [--one-class] [--link-mbit 100 [--link-rate-factor 0.8]]
//! ```
//!
//! A jobs file:
//!
//! ```yaml
//! - name: latency          # the job's name (and its class, unless `class` is given)
//!   type: randread         # randread, seqread, randwrite, seqwrite, append (disk, O_DIRECT),
//!                          # rpc (request/response over loopback TCP), upload (bulk TCP send),
//!                          # download (bulk TCP receive: the server writes, the job reads)
//!   class: interactive     # the priority class (jobs may share one)
//!   shares: 1000           # the class's shares (the first job naming the class sets them)
//!   parallelism: 4         # concurrent requests (tasks)
//!   request_size: 4k       # bytes per request (suffixes k/K, M, G, T: binary)
//!   rps: 2000              # optional: requests per second for the whole job
//!   data_size: 1G          # the job's file size (disk jobs)
//!   duration: 10           # optional: seconds (default: --duration)
//!   stall: 2               # optional, download jobs: readers stop reading after
//!                          # 2 s and hold their connections open (a stalled reader);
//!                          # the report says what their sender wrote after that
//! ```
//!
//! Numbers take the suffixes of io_properties files, read by the same
//! function, [`shardio::sched::parse_size`]: `k` or `K` = 1024, `M` =
//! 1024², `G` = 1024³, `T` = 1024⁴; lowercase `m`, `g`, `t` are errors.
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
//!
//! Files: `cli.rs` the command line, `job.rs` the jobs file, `worker.rs`
//! the tasks that issue a job's requests, `server.rs` the network jobs'
//! peer, `link.rs` the shaped link, `report.rs` the tables printed at the end; this file sets up the
//! runtime and the classes and runs the jobs.

mod cli;
mod job;
mod link;
mod report;
mod server;
mod worker;

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use shardio::BuilderExt;
use shardio::net::TcpListener;
use shardio::sched::{ClassStats, IoProperties, PriorityClass};

use cli::{Args, USAGE, parse_args};
use job::{Job, parse_jobs};
use report::report;
use server::serve;
use worker::{Tally, Worker, prepare};

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

fn run(args: Args) -> io::Result<()> {
    let text = std::fs::read_to_string(&args.jobs)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", args.jobs.display())))?;
    let jobs = parse_jobs(&text).map_err(io::Error::other)?;
    let link = match args.link_mbit {
        Some(mbit) => Some(link::Link::new(mbit)?),
        None => None,
    };
    let mut props = match &args.props {
        Some(p) => Some(IoProperties::from_yaml(
            &std::fs::read_to_string(p)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?,
        )?),
        None => None,
    };
    if let (Some(link), Some(factor)) = (&link, args.link_rate_factor) {
        let net = link.model(factor);
        println!(
            "# network model for {}: {:.1} Mbit/s x {factor}",
            link.interface(),
            net.tx_bandwidth * 8.0 / 1e6
        );
        props = Some(props.unwrap_or_default().network(net));
    }
    let mut config = shardio::Config::new();
    if let Some(props) = props {
        config = config.io_properties(props);
    }
    if let Some(goal) = args.latency_goal {
        config = config.io_latency_goal(goal)?;
    }
    // The jobs run in the link's namespace `a` (threads spawned from here
    // on inherit it), their server in `b`.
    if let Some(link) = &link {
        link.enter_client_side()?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .shardio(config)
        .build()?;
    rt.block_on(run_jobs(jobs, args, link.as_ref()))
}

async fn run_jobs(jobs: Vec<Job>, args: Args, link: Option<&link::Link>) -> io::Result<()> {
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
            kind if kind.is_net() => None,
            _ => Some(Arc::new(prepare(&args.dir, job).await?)),
        });
    }
    let written: Arc<[AtomicU64]> = jobs.iter().map(|_| AtomicU64::new(0)).collect();
    let server = if jobs.iter().any(|j| j.kind.is_net()) {
        let job_classes: Vec<(PriorityClass, Job)> =
            jobs.iter().map(|j| (class_of(j), j.clone())).collect();
        Some(match link {
            Some(link) => link.start_server(job_classes, Arc::clone(&written))?,
            None => {
                let listener = TcpListener::bind("127.0.0.1:0").await?;
                let addr = listener.local_addr()?;
                tokio::spawn(serve(listener, job_classes, Arc::clone(&written)));
                addr
            }
        })
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
            let written = Arc::clone(&written);
            handles.push(class.spawn(async move {
                let mut worker = Worker::new(&job, w, rps, until, tally);
                match (job.kind, file) {
                    (kind, _) if kind.is_net() => {
                        let addr = server.expect("a server for network jobs");
                        worker.net(addr, j as u8, job.stall, &written[j]).await
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
