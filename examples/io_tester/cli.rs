//! The command line.

use std::path::PathBuf;
use std::time::Duration;

pub(crate) struct Args {
    pub(crate) jobs: PathBuf,
    pub(crate) dir: PathBuf,
    pub(crate) props: Option<PathBuf>,
    pub(crate) duration: Duration,
    pub(crate) one_class: bool,
    pub(crate) latency_goal: Option<Duration>,
    /// Network jobs cross a link of this many Mbit/s between two network
    /// namespaces (root and iproute2 needed) instead of loopback.
    pub(crate) link_mbit: Option<u32>,
    /// With `link_mbit`: a network model for the link's sending end at
    /// this share of what TCP carries of it.
    pub(crate) link_rate_factor: Option<f64>,
}

pub(crate) const USAGE: &str = "usage: io_tester --jobs JOBS.yaml [--dir DIR] [--io-properties FILE] [--latency-goal-us N] [--duration SECS] [--one-class] [--link-mbit N [--link-rate-factor F]]";

pub(crate) fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut jobs = None;
    let mut dir = PathBuf::from("/var/tmp");
    let mut props = None;
    let mut duration = Duration::from_secs(10);
    let mut one_class = false;
    let mut latency_goal = None;
    let mut link_mbit = None;
    let mut link_rate_factor = None;
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
            "--link-mbit" => {
                let v = val("--link-mbit")?;
                let mbit: u32 =
                    v.parse()
                        .ok()
                        .filter(|m| (1..=100_000).contains(m))
                        .ok_or(format!(
                            "--link-mbit {v}: use a whole number of Mbit/s, 1 to 100000"
                        ))?;
                link_mbit = Some(mbit);
            }
            "--link-rate-factor" => {
                let v = val("--link-rate-factor")?;
                let f: f64 = v
                    .parse()
                    .ok()
                    .filter(|f| *f > 0.0 && *f <= 1.0)
                    .ok_or(format!(
                        "--link-rate-factor {v}: use a number in (0, 1], e.g. 0.8"
                    ))?;
                link_rate_factor = Some(f);
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
        link_mbit,
        link_rate_factor,
    })
}
