//! The jobs file: a YAML list of jobs.

use std::time::Duration;

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use shardio::sched::parse_size;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    RandRead,
    SeqRead,
    RandWrite,
    SeqWrite,
    Append,
    Rpc,
    Upload,
    Download,
}

#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) class: String,
    pub(crate) shares: u32,
    pub(crate) parallelism: usize,
    pub(crate) request_size: usize,
    pub(crate) rps: Option<f64>,
    pub(crate) data_size: u64,
    pub(crate) duration: Option<Duration>,
    /// A download job's readers stop reading after this long (and keep
    /// their connections open): a stalled reader.
    pub(crate) stall: Option<Duration>,
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

/// A number greater than 0, written as io_properties numbers are: with
/// an optional binary suffix `k`/`K`, `M`, `G` or `T`
/// ([`shardio::sched::parse_size`], so both read `1G` alike; lowercase
/// `m`, `g` are not suffixes).
fn positive(text: &str) -> Option<f64> {
    parse_size(text).filter(|v| v.is_finite() && *v > 0.0)
}

pub(crate) fn parse_jobs(text: &str) -> Result<Vec<Job>, String> {
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
        let bad_number = |key: &str, v: &str| {
            format!(
                "job {name}: `{key}: {v}` is not valid (expected a number greater than 0, \
                 optionally with a binary suffix k, M, G or T)"
            )
        };
        let kind = match get("type").as_deref() {
            Some("randread") => Kind::RandRead,
            Some("seqread") => Kind::SeqRead,
            Some("randwrite") => Kind::RandWrite,
            Some("seqwrite") => Kind::SeqWrite,
            Some("append") => Kind::Append,
            Some("rpc") => Kind::Rpc,
            Some("upload") => Kind::Upload,
            Some("download") => Kind::Download,
            Some(other) => return Err(bad("type", other)),
            None => return Err(format!("job {name}: `type` is missing")),
        };
        let num = |key: &str, default: f64| -> Result<f64, String> {
            match get(key) {
                Some(v) => positive(&v).ok_or_else(|| bad_number(key, &v)),
                None => Ok(default),
            }
        };
        let seconds = |key: &str| -> Result<Option<Duration>, String> {
            get(key)
                .map(|v| {
                    positive(&v)
                        .map(Duration::from_secs_f64)
                        .ok_or_else(|| bad_number(key, &v))
                })
                .transpose()
        };
        let job = Job {
            class: get("class").unwrap_or_else(|| name.clone()),
            shares: num("shares", 100.0)? as u32,
            parallelism: num("parallelism", 1.0)? as usize,
            request_size: num("request_size", 4096.0)? as usize,
            rps: get("rps")
                .map(|v| positive(&v).ok_or_else(|| bad_number("rps", &v)))
                .transpose()?,
            data_size: num("data_size", 256.0 * 1024.0 * 1024.0)? as u64,
            duration: seconds("duration")?,
            stall: seconds("stall")?,
            kind,
            name,
        };
        if job.stall.is_some() && job.kind != Kind::Download {
            return Err(format!("job {}: `stall` is for download jobs", job.name));
        }
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

impl Kind {
    /// A network job (served by `server.rs`), not a disk one.
    pub(crate) fn is_net(self) -> bool {
        matches!(self, Kind::Rpc | Kind::Upload | Kind::Download)
    }
}
