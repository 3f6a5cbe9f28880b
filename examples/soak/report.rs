//! What the soak prints every interval and at the end, and the judgement:
//! lost or corrupted bytes, a hang (an interval without progress), or fds
//! or memory that keep growing fail the run.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::server_process::ServerProcess;
use crate::stats::Stats;

/// One interval's figures, of this process (the clients and the files)
/// and of the server child.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    pub(crate) at: Duration,
    pub(crate) rss: u64,
    pub(crate) fds: u64,
    pub(crate) server_rss: u64,
    pub(crate) server_fds: u64,
    /// Heap bytes this process's code holds (the counting allocator).
    pub(crate) heap: u64,
    pub(crate) verified: u64,
}

/// A process's resident set (`VmRSS` in its `status` file), in bytes.
pub(crate) fn rss_of(status: &str) -> u64 {
    std::fs::read_to_string(status)
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// A process's open fds (entries of its `fd` directory).
pub(crate) fn fds_of(dir: &str) -> u64 {
    std::fs::read_dir(dir).map_or(0, |d| d.count() as u64)
}

pub(crate) fn fds() -> u64 {
    fds_of("/proc/self/fd")
}

pub(crate) fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

pub(crate) fn sample(at: Duration, stats: &Stats, server: &ServerProcess) -> Sample {
    Sample {
        at,
        rss: rss_of("/proc/self/status"),
        fds: fds(),
        server_rss: server.rss(),
        server_fds: server.fds(),
        heap: crate::alloc::live(),
        verified: stats.verified(),
    }
}

/// The interval's line.
pub(crate) fn line(now: &Sample, prev: &Sample, stats: &Stats) {
    let m = shardio::metrics();
    println!(
        "[{:>4} s] rss {:6.1}+{:6.1} MiB (heap {:6.1}) | fds {:>5}+{:>5} | conns {:>5} | verified {:9.1} MiB \
         (+{:7.1}) | rounds {} sessions {} aborts {} slow {} files {} | errors {} lost {} \
         corrupt {} hangs {} | held {:.1} MiB orphaned {} limit-hits {} pool-dry {}",
        now.at.as_secs(),
        mib(now.rss),
        mib(now.server_rss),
        mib(now.heap),
        now.fds,
        now.server_fds,
        stats.conns_open.load(Relaxed),
        mib(now.verified),
        mib(now.verified - prev.verified),
        stats.rounds.load(Relaxed),
        stats.sessions.load(Relaxed),
        stats.aborts.load(Relaxed),
        stats.slow_reads.load(Relaxed),
        stats.file_ops.load(Relaxed),
        stats.errors.load(Relaxed),
        stats.lost.load(Relaxed),
        stats.corrupt.load(Relaxed),
        stats.hangs.load(Relaxed),
        mib(m.recv_bytes_held),
        m.ops_orphaned,
        m.recv_limit_hits,
        m.recv_no_buffers,
    );
}

/// Growth allowed between the first line after the warm-up and the last,
/// for each process's RSS and fds and the client process's heap:
/// generous, so that only growth without bound fails.
pub(crate) fn growth_failures(base: &Sample, last: &Sample) -> Vec<String> {
    let mut failures = Vec::new();
    let (from, to) = (base.at.as_secs(), last.at.as_secs());
    for (who, base_rss, last_rss, base_fds, last_fds) in [
        ("client process", base.rss, last.rss, base.fds, last.fds),
        (
            "server process",
            base.server_rss,
            last.server_rss,
            base.server_fds,
            last.server_fds,
        ),
    ] {
        let rss_limit = base_rss + base_rss / 2 + (64 << 20);
        if last_rss > rss_limit {
            failures.push(format!(
                "{who}: RSS grew from {:.1} MiB (at {from} s) to {:.1} MiB (at {to} s), over \
                 the {:.1} MiB allowed",
                mib(base_rss),
                mib(last_rss),
                mib(rss_limit)
            ));
        }
        let fds_limit = base_fds + (base_fds / 10).max(64);
        if last_fds > fds_limit {
            failures.push(format!(
                "{who}: open fds grew from {base_fds} (at {from} s) to {last_fds} (at {to} s), \
                 over the {fds_limit} allowed"
            ));
        }
    }
    let heap_limit = base.heap + base.heap / 2 + (64 << 20);
    if last.heap > heap_limit {
        failures.push(format!(
            "client process: heap grew from {:.1} MiB (at {from} s) to {:.1} MiB (at {to} s), \
             over the {:.1} MiB allowed",
            mib(base.heap),
            mib(last.heap),
            mib(heap_limit)
        ));
    }
    failures
}

/// The summary printed at the end.
pub(crate) fn summary(
    args: &crate::cli::Args,
    stats: &Stats,
    base: Option<&Sample>,
    last: &Sample,
    peak_rss: (u64, u64),
    fds_at_start: (u64, u64),
) {
    let secs = last.at.as_secs_f64().max(1.0);
    println!(
        "== summary: {} s, {} connections",
        last.at.as_secs(),
        args.conns
    );
    println!(
        "verified {:.1} MiB ({:.1} MiB/s): network {:.1} MiB, files {:.1} MiB",
        mib(stats.verified()),
        mib(stats.verified()) / secs,
        mib(stats.net_verified.load(Relaxed)),
        mib(stats.file_verified.load(Relaxed))
    );
    println!(
        "rounds {}, clean sessions {}, aborts {}, slow readers {}, file round trips {}",
        stats.rounds.load(Relaxed),
        stats.sessions.load(Relaxed),
        stats.aborts.load(Relaxed),
        stats.slow_reads.load(Relaxed),
        stats.file_ops.load(Relaxed)
    );
    println!(
        "problems: errors {}, lost {}, corrupt {}, hangs {}",
        stats.errors.load(Relaxed),
        stats.lost.load(Relaxed),
        stats.corrupt.load(Relaxed),
        stats.hangs.load(Relaxed)
    );
    if let Some(base) = base {
        println!(
            "after the warm-up ({} s), client + server: RSS {:.1}+{:.1} -> {:.1}+{:.1} MiB \
             (peak {:.1}+{:.1}), client heap {:.1} -> {:.1} MiB, fds {}+{} -> {}+{} ({}+{} \
             before the first connection)",
            base.at.as_secs(),
            mib(base.rss),
            mib(base.server_rss),
            mib(last.rss),
            mib(last.server_rss),
            mib(peak_rss.0),
            mib(peak_rss.1),
            mib(base.heap),
            mib(last.heap),
            base.fds,
            base.server_fds,
            last.fds,
            last.server_fds,
            fds_at_start.0,
            fds_at_start.1
        );
    }
    let m = shardio::metrics();
    println!(
        "shardio (client process): ops {} submitted, {} cancelled; receive-limit hits {}, pool ran dry {} times; \
         CQ overflows {}",
        m.ops_submitted, m.ops_cancelled, m.recv_limit_hits, m.recv_no_buffers, m.cq_overflows
    );
}
