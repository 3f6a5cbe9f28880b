//! Per-worker poll state, written by the task-poll hooks.

use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::StallDetector;

/// What the watchdog sees of one worker thread.
pub(crate) struct WorkerSlot {
    pub(crate) tid: i32,
    pub(crate) name: String,
    /// Start of the poll in progress, in ns since `epoch()`; 0 when idle.
    pub(crate) poll_start: AtomicU64,
    /// The task being polled.
    pub(crate) task: AtomicU64,
    /// Counts polls, so a long poll is reported once.
    pub(crate) seq: AtomicU64,
    pub(crate) reported_seq: AtomicU64,
    pub(crate) stalls: AtomicU64,
    pub(crate) longest_ns: AtomicU64,
}

/// The monotonic origin of the timestamps.
pub(crate) fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

pub(crate) fn now_ns() -> u64 {
    epoch().elapsed().as_nanos() as u64 | 1
}

/// Recovers the number of a Tokio task id (its derived `Hash` writes it).
fn task_number(id: tokio::task::Id) -> u64 {
    struct Capture(u64);
    impl Hasher for Capture {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.0 = self.0.rotate_left(8) ^ u64::from(*b);
            }
        }
        fn write_u64(&mut self, n: u64) {
            self.0 = n;
        }
    }
    let mut h = Capture(0);
    id.hash(&mut h);
    h.finish()
}

thread_local! {
    /// This thread's slot in each runtime's detector (normally one).
    static SLOTS: RefCell<Vec<(usize, Arc<WorkerSlot>)>> = const { RefCell::new(Vec::new()) };
}

fn slot_for(detector: &Arc<StallDetector>) -> Option<Arc<WorkerSlot>> {
    let key = Arc::as_ptr(detector) as usize;
    SLOTS
        .try_with(|slots| {
            let mut slots = slots.borrow_mut();
            if let Some((_, slot)) = slots.iter().find(|(k, _)| *k == key) {
                return Arc::clone(slot);
            }
            let thread = std::thread::current();
            let slot = Arc::new(WorkerSlot {
                // SAFETY: gettid has no preconditions.
                tid: unsafe { libc::gettid() },
                name: thread.name().unwrap_or("unnamed").to_owned(),
                poll_start: AtomicU64::new(0),
                task: AtomicU64::new(0),
                seq: AtomicU64::new(0),
                reported_seq: AtomicU64::new(0),
                stalls: AtomicU64::new(0),
                longest_ns: AtomicU64::new(0),
            });
            detector.register(Arc::clone(&slot));
            slots.push((key, Arc::clone(&slot)));
            slot
        })
        .ok()
}

/// Before-task-poll body: a timestamp and the task id.
pub(crate) fn enter_poll(detector: &Arc<StallDetector>, meta: &tokio::runtime::TaskMeta<'_>) {
    if let Some(slot) = slot_for(detector) {
        slot.task.store(task_number(meta.id()), Ordering::Relaxed);
        slot.seq.fetch_add(1, Ordering::Relaxed);
        slot.poll_start.store(now_ns(), Ordering::Release);
    }
}

/// After-task-poll body: the poll ended; keep the longest, and count it as
/// a stall if it was one the watchdog did not see while it ran (it reports
/// live, but may be busy symbolizing another report).
pub(crate) fn exit_poll(detector: &Arc<StallDetector>) {
    if let Some(slot) = slot_for(detector) {
        let start = slot.poll_start.swap(0, Ordering::AcqRel);
        if start != 0 {
            let took = now_ns().saturating_sub(start);
            slot.longest_ns.fetch_max(took, Ordering::Relaxed);
            if took >= detector.threshold.as_nanos() as u64 {
                let seq = slot.seq.load(Ordering::Relaxed);
                if slot.reported_seq.swap(seq, Ordering::Relaxed) != seq {
                    slot.stalls.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

impl WorkerSlot {
    pub(crate) fn stats(&self) -> SlotStats {
        SlotStats {
            thread: format!("{} (tid {})", self.name, self.tid),
            stalls: self.stalls.load(Ordering::Relaxed),
            longest_poll: Duration::from_nanos(self.longest_ns.load(Ordering::Relaxed)),
        }
    }
}

/// One worker's stall counters, as `metrics()` lists them.
#[derive(Debug, Clone)]
pub(crate) struct SlotStats {
    /// The worker thread's name and kernel thread id.
    pub(crate) thread: String,
    pub(crate) stalls: u64,
    pub(crate) longest_poll: Duration,
}
