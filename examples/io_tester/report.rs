//! The report printed at the end: per job, then per class.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use shardio::sched::{ClassStats, PriorityClass};

use crate::job::Job;
use crate::worker::Tally;

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

pub(crate) fn report(
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
    for (job, tally) in jobs.iter().zip(tallies) {
        if let Some((sent, over)) = *tally.sent_after_stall.lock().expect("tally") {
            println!(
                "{}: readers stalled after {:.1} s; their sender wrote {sent} bytes in the \
                 last {over:.1} s (0: TCP's window stopped it)",
                job.name,
                job.stall.map_or(0.0, |d| d.as_secs_f64()),
            );
        }
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
    // The scheduler's own histograms for this run: the wait for dispatch,
    // the time in the device (operations awaited to completion), and both.
    println!(
        "\n{:<12} {:>28} {:>28} {:>28}",
        "class", "queue p50/p99/p999 µs", "device p50/p99/p999 µs", "latency p50/p99/p999 µs"
    );
    for (name, class) in classes {
        let (now, was) = (class.stats(), &before[name]);
        let three = |h: shardio::sched::Histogram| {
            let us = |d: std::time::Duration| d.as_secs_f64() * 1e6;
            format!("{:.0}/{:.0}/{:.0}", us(h.p50()), us(h.p99()), us(h.p999()))
        };
        println!(
            "{:<12} {:>28} {:>28} {:>28}",
            name,
            three(now.queue_delay_histogram.since(&was.queue_delay_histogram)),
            three(now.device_time_histogram.since(&was.device_time_histogram)),
            three(now.latency_histogram.since(&was.latency_histogram)),
        );
    }
}
