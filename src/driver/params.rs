//! `RingParams`: how each ring of a runtime is set up, as the driver needs
//! it. `runtime::Config` holds one and its setters validate the values.

use std::time::Duration;

/// The setup values of a ring. The defaults are those of
/// `Config::default()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RingParams {
    /// Submission queue entries (the kernel rounds up to a power of two).
    pub(crate) sq_entries: u32,
    /// Completion queue entries.
    pub(crate) cq_entries: u32,
    /// How long an SQ-poll thread spins without work before it sleeps.
    pub(crate) sq_poll_idle: Duration,
    /// io-wq worker limits `[bounded, unbounded]`; `None`: the defaults of
    /// [`iowq_limits`](RingParams::iowq_limits).
    pub(crate) iowq_max_workers: Option<[u32; 2]>,
    /// Storage SQEs queued before they are submitted.
    pub(crate) storage_submit_batch: usize,
}

impl Default for RingParams {
    fn default() -> Self {
        RingParams {
            sq_entries: 256,
            cq_entries: 4096,
            sq_poll_idle: Duration::from_millis(2),
            iowq_max_workers: None,
            storage_submit_batch: 1,
        }
    }
}

impl RingParams {
    /// The io-wq limits to apply: configured, or 4 × CPUs bounded workers
    /// and 512 unbounded ones (Tokio's blocking pool size).
    pub(crate) fn iowq_limits(&self) -> [u32; 2] {
        self.iowq_max_workers.unwrap_or_else(|| {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
            [cpus.saturating_mul(4), 512]
        })
    }

    /// The SQ-poll idle time in the kernel's unit (ms, saturating).
    pub(crate) fn sq_poll_idle_ms(&self) -> u32 {
        self.sq_poll_idle.as_millis().min(u128::from(u32::MAX)) as u32
    }
}
