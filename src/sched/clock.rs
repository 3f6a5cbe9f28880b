//! The scheduler's monotonic clock, in nanoseconds since its first use.

use std::sync::LazyLock;
use std::time::Instant;

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Nanoseconds on the scheduler's monotonic clock.
pub(crate) fn now_ns() -> u64 {
    EPOCH.elapsed().as_nanos() as u64
}
