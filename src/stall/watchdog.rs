//! The watchdog thread of one runtime.

use std::collections::VecDeque;
use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::slot::{WorkerSlot, now_ns};
use super::{StallDetector, signal};

pub(super) fn spawn(detector: Weak<StallDetector>) {
    let spawned = std::thread::Builder::new()
        .name("shardio-stall".into())
        .spawn(move || run(detector));
    if let Err(e) = spawned {
        tracing::warn!(target: "shardio::stall", error = %e, "could not start the stall watchdog; stalls go unreported");
    }
}

/// At most `per_minute` reports in any minute; the rest are counted.
struct RateLimit {
    per_minute: usize,
    sent: VecDeque<Instant>,
    suppressed: u64,
}

impl RateLimit {
    fn allow(&mut self) -> bool {
        let now = Instant::now();
        while self.sent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60)) {
            self.sent.pop_front();
        }
        if self.sent.len() < self.per_minute {
            self.sent.push_back(now);
            true
        } else {
            self.suppressed += 1;
            false
        }
    }
}

fn run(detector: Weak<StallDetector>) {
    let mut limit = None;
    // The runtime (and with it the detector) going away ends the thread.
    while let Some(d) = detector.upgrade() {
        let limit = limit.get_or_insert_with(|| RateLimit {
            per_minute: d.reports_per_minute as usize,
            sent: VecDeque::new(),
            suppressed: 0,
        });
        let threshold = d.threshold.as_nanos() as u64;
        let slots: Vec<_> = d.slots.lock().clone();
        let interval = (d.threshold / 4).clamp(Duration::from_millis(1), Duration::from_millis(100));
        drop(d);
        for slot in slots {
            check(&slot, threshold, limit);
        }
        std::thread::sleep(interval);
    }
}

fn check(slot: &WorkerSlot, threshold: u64, limit: &mut RateLimit) {
    let start = slot.poll_start.load(Ordering::Acquire);
    if start == 0 {
        return;
    }
    let ran = now_ns().saturating_sub(start);
    if ran < threshold {
        return;
    }
    let seq = slot.seq.load(Ordering::Relaxed);
    if slot.reported_seq.swap(seq, Ordering::Relaxed) == seq {
        return; // this poll was reported already
    }
    slot.stalls.fetch_add(1, Ordering::Relaxed);
    slot.longest_ns.fetch_max(ran, Ordering::Relaxed);
    if !limit.allow() {
        return;
    }
    let suppressed = std::mem::take(&mut limit.suppressed);
    let backtrace = match signal::capture(slot.tid) {
        Some(frames) if slot.poll_start.load(Ordering::Acquire) == start => signal::symbolize(&frames),
        Some(_) => "  (the poll ended before the backtrace was taken)".to_owned(),
        None => "  (no backtrace: the thread could not be interrupted)".to_owned(),
    };
    tracing::warn!(
        target: "shardio::stall",
        thread = %slot.name,
        tid = slot.tid,
        task = slot.task.load(Ordering::Relaxed),
        running_ms = ran / 1_000_000,
        suppressed,
        "a task poll has blocked worker `{}` for {:?} and is still running (a blocking call or a long computation in async code: move it to spawn_blocking or yield); {} reports suppressed since the last one; backtrace of the stalled thread:\n{}",
        slot.name,
        Duration::from_nanos(ran),
        suppressed,
        backtrace
    );
}
