//! Measures a disk the way Seastar's `iotune` does, or a network path to a
//! peer, and writes an io_properties file.
//!
//! ```text
//! cargo run --release --example iotune -- --dir /var/lib/db \
//!     [--out io_properties.yaml] [--duration-secs 5] [--file-size 1G] [--rate-factor 0.9]
//! cargo run --release --example iotune -- --serve 0.0.0.0:7700        # on the peer
//! cargo run --release --example iotune -- --net PEER:7700 \
//!     [--connections 4] [--out io_properties.yaml] [--duration-secs 5] [--rate-factor 0.8]
//! ```
//!
//! **Disk** (`--dir`): it creates `<dir>/.shardio-iotune.tmp`
//! (`--file-size`, default 1 GiB), fills it with sequential 1 MiB writes,
//! then measures for `--duration-secs` each, all O_DIRECT through shardio's
//! `write_at`/`read_at`, one Tokio task per queue slot: write and read
//! bandwidth (sequential 1 MiB at depth 16, each task owning a slice of the
//! file), then read and write IOPS (random 4 KiB at depth 64). The file is
//! removed at the end, also after an error or Ctrl-C. The result, for the
//! mount point holding `--dir`, is written in Seastar's format (bytes/s,
//! ops/s) for `Config`'s io_properties and the `io_tester` example:
//!
//! ```yaml
//! disks:
//!   - mountpoint: /var/lib
//!     read_iops: 62800
//!     read_bandwidth: 1234567890
//!     write_iops: 40000
//!     write_bandwidth: 500000000
//!     rate_factor: 0.9
//! ```
//!
//! **Network** (`--net PEER`, with `iotune --serve` running on the peer):
//! over `--connections` TCP connections at once, for `--duration-secs`
//! each, it measures what the path carries to the peer (64 KiB writes,
//! counted by the peer from its first byte to its last) and from it (the
//! peer writes, this side counts), and the rate of 64-byte sends each way
//! (small messages per second, Nagle off). The result is the `network:`
//! section, for the interface the connections leave by (a priority class's
//! sockets on that interface are then paced by it):
//!
//! ```yaml
//! network:
//!   interface: eth0
//!   tx_ops: 812000
//!   tx_bandwidth: 11870000
//!   rx_ops: 790000
//!   rx_bandwidth: 11860000
//!   rate_factor: 0.8
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use shardio::BuilderExt;

mod disk;
mod net;

const MIB: u64 = 1 << 20;
const SEQ_DEPTH: usize = 16;
const USAGE: &str = "\
usage: iotune --dir DIR [--out FILE] [--duration-secs N] [--file-size SIZE] [--rate-factor K]
       iotune --net PEER [--connections N] [--out FILE] [--duration-secs N] [--rate-factor K]
       iotune --serve ADDR

  --dir DIR            directory on the device to measure
  --net PEER           measure the network path to PEER (host:port), where
                       `iotune --serve` runs
  --serve ADDR         be the peer of `--net` runs, listening on ADDR (host:port)
  --connections N      TCP connections at once for --net (default: 4)
  --out FILE           io_properties file to write (default: io_properties.yaml)
  --duration-secs N    seconds per measurement (default: 5)
  --file-size SIZE     test file size, binary k/M/G suffixes, a multiple of 16M
                       (default: 1G, min 16M, else rounded down)
  --rate-factor K      rate_factor written to the file (default: 1.0)
  -h, --help           this help";

/// What to measure.
enum Mode {
    Disk(PathBuf),
    Net(SocketAddr),
    Serve(SocketAddr),
}

struct Args {
    mode: Mode,
    out: PathBuf,
    duration: Duration,
    file_size: u64,
    rate_factor: f64,
    connections: usize,
}

/// `Ok(None)` for `--help`; `Err` is the message for a bad argument.
fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args {
        mode: Mode::Disk(PathBuf::new()),
        connections: 4,
        out: PathBuf::from("io_properties.yaml"),
        duration: Duration::from_secs(5),
        file_size: 1 << 30,
        rate_factor: 1.0,
    };
    let mut mode = None;
    while let Some(arg) = it.next() {
        let (flag, mut inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = || {
            let value = inline
                .take()
                .or_else(|| it.next())
                .filter(|v| !v.is_empty());
            value.ok_or_else(|| format!("{flag} needs a value"))
        };
        let bad = |value: &str, why: &str| Err(format!("{flag} {value:?}: {why}"));
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--dir" => mode = Some(Mode::Disk(PathBuf::from(value()?))),
            "--net" | "--serve" => {
                let v = value()?;
                let Some(addr) = std::net::ToSocketAddrs::to_socket_addrs(&v)
                    .ok()
                    .and_then(|mut a| a.next())
                else {
                    return bad(&v, "expected host:port");
                };
                mode = Some(match flag.as_str() {
                    "--net" => Mode::Net(addr),
                    _ => Mode::Serve(addr),
                });
            }
            "--connections" => {
                let v = value()?;
                match v.parse().ok().filter(|n| (1..=1024).contains(n)) {
                    Some(n) => args.connections = n,
                    None => return bad(&v, "expected a number of connections in 1..=1024"),
                }
            }
            "--out" => args.out = PathBuf::from(value()?),
            "--duration-secs" => {
                let v = value()?;
                match v.parse().ok().filter(|s| *s > 0.0 && *s <= 86400.0) {
                    Some(secs) => args.duration = Duration::from_secs_f64(secs),
                    None => return bad(&v, "expected seconds in (0, 86400]"),
                }
            }
            "--file-size" => {
                let v = value()?;
                // A whole number of 1 MiB blocks for each of the 16 slices.
                let unit = SEQ_DEPTH as u64 * MIB;
                match parse_size(&v) {
                    Some(size) if size >= unit => args.file_size = size / unit * unit,
                    Some(_) => return bad(&v, "at least 16M is needed"),
                    None => return bad(&v, "expected a size such as 268435456, 256M or 1G"),
                }
            }
            "--rate-factor" => {
                let v = value()?;
                match v.parse().ok().filter(|k| *k > 0.0 && *k <= 1000.0) {
                    Some(k) => args.rate_factor = k,
                    None => return bad(&v, "expected a number in (0, 1000] such as 0.9"),
                }
            }
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    args.mode = mode.ok_or("one of --dir, --net or --serve is required")?;
    Ok(Some(args))
}

/// A whole number of bytes with the suffixes of io_properties files
/// (`k`/`K`, `M`, `G`, `T`: powers of 1024), read by the crate's one parser.
fn parse_size(s: &str) -> Option<u64> {
    let value = shardio::sched::parse_size(s)?;
    (value >= 0.0 && value.fract() == 0.0 && value < u64::MAX as f64).then_some(value as u64)
}

/// `Err((exit code, message))` for what stops the run before measuring.
fn try_main() -> Result<ExitCode, (u8, String)> {
    let Some(args) =
        parse_args(std::env::args().skip(1)).map_err(|m| (2, format!("{m}\n\n{USAGE}")))?
    else {
        println!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    };
    let out_dir = args.out.parent().filter(|p| !p.as_os_str().is_empty());
    if !out_dir.unwrap_or(Path::new(".")).is_dir() {
        return Err((
            2,
            format!("--out {}: no such directory", args.out.display()),
        ));
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    let runtime = builder.enable_all().shardio(Default::default()).build();
    let runtime = runtime.map_err(|e| (1, format!("cannot start the runtime: {e}")))?;
    match &args.mode {
        Mode::Disk(dir) => disk::main(&args, dir, &runtime),
        Mode::Net(peer) => {
            let res = runtime.block_on(async {
                tokio::select! {
                    res = calibrate_net(&args, *peer) => res.map(|()| ExitCode::SUCCESS),
                    Ok(()) = tokio::signal::ctrl_c() => Ok(ExitCode::from(130)),
                }
            });
            res.map_err(|msg| (1, msg))
        }
        Mode::Serve(addr) => {
            let res = runtime.block_on(async {
                let listener = shardio::net::TcpListener::bind(addr).await?;
                println!("iotune: serving --net runs on {}", listener.local_addr()?);
                tokio::select! {
                    res = net::serve(listener) => res,
                    Ok(()) = tokio::signal::ctrl_c() => Ok(()),
                }
            });
            res.map(|()| ExitCode::SUCCESS)
                .map_err(|e| (1, format!("--serve {addr}: {e}")))
        }
    }
}

/// Measures the path to `peer` and writes the `network:` section.
async fn calibrate_net(args: &Args, peer: SocketAddr) -> Result<(), String> {
    if let Some(reason) = shardio::metrics().fallback_reason {
        println!("note: io_uring unavailable ({reason}); measuring shardio's fallback path");
    }
    let mut props = net::calibrate(peer, args.connections, args.duration, |line| {
        println!("{line}");
    })
    .await
    .map_err(|e| format!("--net {peer}: {e}"))?;
    props.rate_factor = args.rate_factor;
    write(
        &args.out,
        &shardio::sched::IoProperties::new().network(props).to_yaml(),
    )
}

/// Writes the io_properties file and shows it.
fn write(out: &Path, yaml: &str) -> Result<(), String> {
    let shown = out.display();
    std::fs::write(out, yaml).map_err(|e| format!("cannot write {shown}: {e}"))?;
    println!("\nwrote {shown}:\n{yaml}");
    Ok(())
}

fn main() -> ExitCode {
    try_main().unwrap_or_else(|(code, msg)| {
        eprintln!("iotune: {msg}");
        ExitCode::from(code)
    })
}
