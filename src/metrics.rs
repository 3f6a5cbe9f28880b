//! Process-wide counters and the [`metrics()`] snapshot.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::runtime::context::fallback_reason;

/// A snapshot of shardio's process-wide counters.
///
/// Counters only grow, except `rings_alive`. Read it before and after a piece
/// of work to see what the work cost:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let before = shardio::metrics();
/// shardio::nop().await?;
/// let after = shardio::metrics();
/// if !after.fallback_active {
///     assert!(after.ops_completed > before.ops_completed);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Rings that exist now (one per thread and runtime that did I/O).
    pub rings_alive: u64,
    /// Rings created since the process started.
    pub rings_created: u64,
    /// Operations pushed to a ring.
    pub ops_submitted: u64,
    /// Operations whose last completion arrived while their future waited.
    pub ops_completed: u64,
    /// Operations dropped in flight (cancel requested, buffers kept until the
    /// kernel finished).
    pub ops_cancelled: u64,
    /// Operations run on the fallback path (no io_uring, or opcode missing).
    pub ops_fallback: u64,
    /// `io_uring_enter` system calls made.
    pub enter_calls: u64,
    /// Times a ring's completion queue was found overflowed (the kernel kept
    /// the completions; shardio flushed them).
    pub cq_overflows: u64,
    /// Whether operations run on the fallback path.
    pub fallback_active: bool,
    /// Why, when `fallback_active`: the cause and the fix.
    pub fallback_reason: Option<String>,
}

/// Returns a snapshot of shardio's counters.
pub fn metrics() -> Metrics {
    let c = counters();
    let reason = fallback_reason();
    Metrics {
        rings_alive: c.rings_alive.load(Relaxed),
        rings_created: c.rings_created.load(Relaxed),
        ops_submitted: c.ops_submitted.load(Relaxed),
        ops_completed: c.ops_completed.load(Relaxed),
        ops_cancelled: c.ops_cancelled.load(Relaxed),
        ops_fallback: c.ops_fallback.load(Relaxed),
        enter_calls: c.enter_calls.load(Relaxed),
        cq_overflows: c.cq_overflows.load(Relaxed),
        fallback_active: reason.is_some(),
        fallback_reason: reason.map(|r| r.to_string()),
    }
}

/// The counters behind [`Metrics`].
pub(crate) struct Counters {
    rings_alive: AtomicU64,
    rings_created: AtomicU64,
    ops_submitted: AtomicU64,
    ops_completed: AtomicU64,
    ops_cancelled: AtomicU64,
    ops_fallback: AtomicU64,
    enter_calls: AtomicU64,
    cq_overflows: AtomicU64,
}

static COUNTERS: Counters = Counters {
    rings_alive: AtomicU64::new(0),
    rings_created: AtomicU64::new(0),
    ops_submitted: AtomicU64::new(0),
    ops_completed: AtomicU64::new(0),
    ops_cancelled: AtomicU64::new(0),
    ops_fallback: AtomicU64::new(0),
    enter_calls: AtomicU64::new(0),
    cq_overflows: AtomicU64::new(0),
};

pub(crate) fn counters() -> &'static Counters {
    &COUNTERS
}

impl Counters {
    pub(crate) fn ring_created(&self) {
        self.rings_created.fetch_add(1, Relaxed);
        self.rings_alive.fetch_add(1, Relaxed);
    }
    pub(crate) fn ring_dropped(&self) {
        self.rings_alive.fetch_sub(1, Relaxed);
    }
    pub(crate) fn op_submitted(&self) {
        self.ops_submitted.fetch_add(1, Relaxed);
    }
    pub(crate) fn op_completed(&self) {
        self.ops_completed.fetch_add(1, Relaxed);
    }
    pub(crate) fn op_cancelled(&self) {
        self.ops_cancelled.fetch_add(1, Relaxed);
    }
    pub(crate) fn op_fallback(&self) {
        self.ops_fallback.fetch_add(1, Relaxed);
    }
    pub(crate) fn enter(&self) {
        self.enter_calls.fetch_add(1, Relaxed);
    }
    pub(crate) fn cq_overflow(&self) {
        self.cq_overflows.fetch_add(1, Relaxed);
    }
}
