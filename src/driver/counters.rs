//! The driver's process-wide counters, bumped by rings and operations and
//! read by `metrics()`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The counters behind `Metrics`.
pub(crate) struct Counters {
    rings_alive: AtomicU64,
    rings_created: AtomicU64,
    ops_submitted: AtomicU64,
    ops_completed: AtomicU64,
    ops_cancelled: AtomicU64,
    ops_fallback: AtomicU64,
    reads_inline: AtomicU64,
    ops_registered_buf: AtomicU64,
    enter_calls: AtomicU64,
    cq_overflows: AtomicU64,
    recv_limit_hits: AtomicU64,
    recv_pauses: AtomicU64,
    enter_retries: AtomicU64,
    ops_resubmitted: AtomicU64,
    recv_no_buffers: AtomicU64,
    reactor_receives: AtomicU64,
    registrations_refused: AtomicU64,
    ring_setup_failures: AtomicU64,
    recv_bytes_held: AtomicU64,
    ops_orphaned: AtomicU64,
}

/// The counters' values at one moment (each read on its own: counters that
/// move meanwhile may be one operation apart).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CounterValues {
    pub(crate) rings_alive: u64,
    pub(crate) rings_created: u64,
    pub(crate) ops_submitted: u64,
    pub(crate) ops_completed: u64,
    pub(crate) ops_cancelled: u64,
    pub(crate) ops_fallback: u64,
    pub(crate) reads_inline: u64,
    pub(crate) ops_registered_buf: u64,
    pub(crate) enter_calls: u64,
    pub(crate) cq_overflows: u64,
    pub(crate) recv_limit_hits: u64,
    pub(crate) recv_pauses: u64,
    pub(crate) enter_retries: u64,
    pub(crate) ops_resubmitted: u64,
    pub(crate) recv_no_buffers: u64,
    pub(crate) reactor_receives: u64,
    pub(crate) registrations_refused: u64,
    pub(crate) ring_setup_failures: u64,
    pub(crate) recv_bytes_held: u64,
    pub(crate) ops_orphaned: u64,
}

static COUNTERS: Counters = Counters {
    rings_alive: AtomicU64::new(0),
    rings_created: AtomicU64::new(0),
    ops_submitted: AtomicU64::new(0),
    ops_completed: AtomicU64::new(0),
    ops_cancelled: AtomicU64::new(0),
    ops_fallback: AtomicU64::new(0),
    reads_inline: AtomicU64::new(0),
    ops_registered_buf: AtomicU64::new(0),
    enter_calls: AtomicU64::new(0),
    cq_overflows: AtomicU64::new(0),
    recv_limit_hits: AtomicU64::new(0),
    recv_pauses: AtomicU64::new(0),
    enter_retries: AtomicU64::new(0),
    ops_resubmitted: AtomicU64::new(0),
    recv_no_buffers: AtomicU64::new(0),
    reactor_receives: AtomicU64::new(0),
    registrations_refused: AtomicU64::new(0),
    ring_setup_failures: AtomicU64::new(0),
    recv_bytes_held: AtomicU64::new(0),
    ops_orphaned: AtomicU64::new(0),
};

/// The process's counters.
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
    pub(crate) fn read_inline(&self) {
        self.reads_inline.fetch_add(1, Relaxed);
    }
    pub(crate) fn op_registered_buf(&self) {
        self.ops_registered_buf.fetch_add(1, Relaxed);
    }
    pub(crate) fn enter(&self) {
        self.enter_calls.fetch_add(1, Relaxed);
    }
    pub(crate) fn cq_overflow(&self) {
        self.cq_overflows.fetch_add(1, Relaxed);
    }
    pub(crate) fn recv_limit_hit(&self) {
        self.recv_limit_hits.fetch_add(1, Relaxed);
    }
    pub(crate) fn recv_paused(&self) {
        self.recv_pauses.fetch_add(1, Relaxed);
    }
    pub(crate) fn enter_retry(&self) {
        self.enter_retries.fetch_add(1, Relaxed);
    }
    pub(crate) fn op_resubmitted(&self) {
        self.ops_resubmitted.fetch_add(1, Relaxed);
    }
    pub(crate) fn recv_no_buffers(&self) {
        self.recv_no_buffers.fetch_add(1, Relaxed);
    }
    pub(crate) fn reactor_receive(&self) {
        self.reactor_receives.fetch_add(1, Relaxed);
    }
    pub(crate) fn registration_refused(&self) {
        self.registrations_refused.fetch_add(1, Relaxed);
    }
    pub(crate) fn ring_setup_failed(&self) {
        self.ring_setup_failures.fetch_add(1, Relaxed);
    }

    /// Reads every counter.
    pub(crate) fn values(&self) -> CounterValues {
        CounterValues {
            rings_alive: self.rings_alive.load(Relaxed),
            rings_created: self.rings_created.load(Relaxed),
            ops_submitted: self.ops_submitted.load(Relaxed),
            ops_completed: self.ops_completed.load(Relaxed),
            ops_cancelled: self.ops_cancelled.load(Relaxed),
            ops_fallback: self.ops_fallback.load(Relaxed),
            reads_inline: self.reads_inline.load(Relaxed),
            ops_registered_buf: self.ops_registered_buf.load(Relaxed),
            enter_calls: self.enter_calls.load(Relaxed),
            cq_overflows: self.cq_overflows.load(Relaxed),
            recv_limit_hits: self.recv_limit_hits.load(Relaxed),
            recv_pauses: self.recv_pauses.load(Relaxed),
            enter_retries: self.enter_retries.load(Relaxed),
            ops_resubmitted: self.ops_resubmitted.load(Relaxed),
            recv_no_buffers: self.recv_no_buffers.load(Relaxed),
            reactor_receives: self.reactor_receives.load(Relaxed),
            registrations_refused: self.registrations_refused.load(Relaxed),
            ring_setup_failures: self.ring_setup_failures.load(Relaxed),
            recv_bytes_held: self.recv_bytes_held.load(Relaxed),
            ops_orphaned: self.ops_orphaned.load(Relaxed),
        }
    }

    // Gauges of what is held (they go down as well as up).

    /// `n` received bytes now sit in a receive buffer, not yet read.
    pub(crate) fn recv_held(&self, n: u64) {
        self.recv_bytes_held.fetch_add(n, Relaxed);
    }
    /// `n` bytes counted by [`recv_held`](Self::recv_held) were read or
    /// given up.
    pub(crate) fn recv_released(&self, n: u64) {
        self.recv_bytes_held.fetch_sub(n, Relaxed);
    }
    /// An operation was dropped in flight; its data waits for the last CQE.
    pub(crate) fn op_orphaned(&self) {
        self.ops_orphaned.fetch_add(1, Relaxed);
    }
    /// The last CQE of an orphaned operation arrived (its data is freed).
    pub(crate) fn orphan_done(&self) {
        self.ops_orphaned.fetch_sub(1, Relaxed);
    }
}
