//! The stall detector: reports a task poll that keeps a worker busy longer
//! than a threshold, while it is still running, with a backtrace of the
//! stalled thread: Seastar's blocked-reactor report for Tokio.
//!
//! Needs `--cfg tokio_unstable` (Tokio's before/after task-poll hooks). The
//! hot path is a timestamp and a task id stored per poll; one watchdog
//! thread per runtime looks at them.

mod signal;
mod slot;
mod watchdog;

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;
use crate::sync::Mutex;

pub(crate) use slot::{SlotStats, WorkerSlot, enter_poll, exit_poll};

/// Detector state of one runtime.
pub(crate) struct StallDetector {
    threshold: Duration,
    reports_per_minute: u32,
    slots: Mutex<Vec<Arc<WorkerSlot>>>,
    watchdog: OnceLock<()>,
}

impl StallDetector {
    pub(crate) fn new(threshold: Duration, reports_per_minute: u32) -> Arc<StallDetector> {
        Arc::new(StallDetector {
            threshold,
            reports_per_minute,
            slots: Mutex::new(Vec::new()),
            watchdog: OnceLock::new(),
        })
    }

    /// Adds a worker's slot, starting the watchdog on the first.
    fn register(self: &Arc<Self>, slot: Arc<WorkerSlot>) {
        self.slots.lock().push(Arc::clone(&slot));
        all_slots().lock().push(Arc::downgrade(&slot));
        self.watchdog.get_or_init(|| {
            signal::install();
            watchdog::spawn(Arc::downgrade(self));
        });
    }
}

/// Every worker slot of every runtime, for `metrics()`.
fn all_slots() -> &'static Mutex<Vec<Weak<WorkerSlot>>> {
    static SLOTS: Mutex<Vec<Weak<WorkerSlot>>> = Mutex::new(Vec::new());
    &SLOTS
}

/// Per-worker stall counters for `metrics()`.
pub(crate) fn worker_stats() -> Vec<SlotStats> {
    let mut slots = all_slots().lock();
    slots.retain(|w| w.strong_count() > 0);
    slots.iter().filter_map(Weak::upgrade).map(|s| s.stats()).collect()
}
