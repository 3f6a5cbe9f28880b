//! The command line (and its environment variables).

use std::path::PathBuf;
use std::time::Duration;

pub(crate) struct Args {
    /// Client connections kept open at once (each has a server end here too).
    pub(crate) conns: usize,
    pub(crate) duration: Duration,
    pub(crate) workers: usize,
    /// Tasks writing and reading back files.
    pub(crate) files: usize,
    pub(crate) dir: PathBuf,
    /// Most a client waits between two rounds.
    pub(crate) think: Duration,
    /// How often a line is printed (and progress is required).
    pub(crate) interval: Duration,
    /// Figures before this are not the baseline of the growth check.
    pub(crate) warmup: Duration,
    /// Run as the echo server child (started by the soak itself).
    pub(crate) server: bool,
}

pub(crate) const USAGE: &str = "usage: soak [--conns N] [--secs S] [--workers W] [--files F] \
[--dir DIR] [--think-ms MS] [--interval-secs S] [--warmup-secs S]
  --conns N         connections (default 10000; env SOAK_CONNS)
  --secs S          how long to run (default 600; env SOAK_SECS)
  --workers W       runtime worker threads (default 2)
  --files F         file tasks (default 8)
  --dir DIR         where the files go (default: the temp dir)
  --think-ms MS     most a client waits between rounds (default 2000)
  --interval-secs S a line every S seconds (default 10)
  --warmup-secs S   the growth check's baseline is the first line after S (default: two thirds of the run, at most 60)";

fn number<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{name} {v}: not a number (see --help)"))
}

fn env_number<T: std::str::FromStr>(var: &str) -> Result<Option<T>, String> {
    match std::env::var(var) {
        Ok(v) => number(var, &v).map(Some),
        Err(_) => Ok(None),
    }
}

pub(crate) fn parse_args() -> Result<Args, String> {
    let mut conns: usize = env_number("SOAK_CONNS")?.unwrap_or(10_000);
    let mut secs: u64 = env_number("SOAK_SECS")?.unwrap_or(600);
    let mut workers = 2usize;
    let mut files = 8usize;
    let mut dir = std::env::temp_dir();
    let mut think_ms = 2000u64;
    let mut interval_secs = 10u64;
    let mut warmup_secs = None;
    let mut server = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--conns" => conns = number("--conns", &val("--conns")?)?,
            "--secs" => secs = number("--secs", &val("--secs")?)?,
            "--workers" => workers = number("--workers", &val("--workers")?)?,
            "--files" => files = number("--files", &val("--files")?)?,
            "--dir" => dir = PathBuf::from(val("--dir")?),
            "--think-ms" => think_ms = number("--think-ms", &val("--think-ms")?)?,
            "--interval-secs" => {
                interval_secs = number("--interval-secs", &val("--interval-secs")?)?
            }
            "--warmup-secs" => warmup_secs = Some(number("--warmup-secs", &val("--warmup-secs")?)?),
            "--server" => server = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if conns == 0 || workers == 0 || interval_secs == 0 {
        return Err("--conns, --workers and --interval-secs must be at least 1".into());
    }
    if secs < 2 * interval_secs {
        return Err(format!(
            "--secs {secs}: run for at least two intervals ({} s) so that growth can be judged",
            2 * interval_secs
        ));
    }
    let warmup_secs = warmup_secs.unwrap_or((secs * 2 / 3).min(60));
    if warmup_secs + interval_secs > secs {
        return Err(format!(
            "--warmup-secs {warmup_secs}: leave at least one interval after the warm-up"
        ));
    }
    Ok(Args {
        conns,
        duration: Duration::from_secs(secs),
        workers,
        files,
        dir,
        think: Duration::from_millis(think_ms),
        interval: Duration::from_secs(interval_secs),
        warmup: Duration::from_secs(warmup_secs),
        server,
    })
}
