//! Latency histograms per class: log-linear buckets (eight per power of
//! two, so a percentile is within 12.5% of the truth) counted with relaxed
//! atomics, and the snapshot [`Histogram`] that `class.stats()` returns.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Sub-buckets per power of two.
const SUBS: u64 = 8;
/// Values from 2^40 ns (about 18 minutes) up share the last bucket.
const TOP_POWER: u32 = 40;
const BUCKETS: usize = (SUBS * (TOP_POWER as u64 - 1)) as usize;

/// The bucket of `ns`: exact below 8, then eight per power of two.
fn index(ns: u64) -> usize {
    if ns < SUBS {
        return ns as usize;
    }
    let power = 63 - ns.leading_zeros();
    if power >= TOP_POWER {
        return BUCKETS - 1;
    }
    let sub = (ns >> (power - 3)) - SUBS;
    (SUBS * u64::from(power - 2) + sub) as usize
}

/// The largest value in bucket `i` (values there are at most this).
fn upper(i: usize) -> u64 {
    let i = i as u64;
    if i < SUBS {
        return i;
    }
    let power = i / SUBS + 2;
    let sub = i % SUBS;
    ((SUBS + sub + 1) << (power - 3)) - 1
}

/// A histogram being counted into from any thread.
pub(crate) struct AtomicHistogram {
    buckets: Box<[AtomicU64]>,
}

impl Default for AtomicHistogram {
    fn default() -> Self {
        AtomicHistogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl AtomicHistogram {
    pub(crate) fn record(&self, ns: u64) {
        self.buckets[index(ns)].fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Histogram {
        Histogram {
            buckets: self.buckets.iter().map(|b| b.load(Relaxed)).collect(),
        }
    }
}

/// Latencies counted since a class was created (see
/// [`ClassStats`](super::ClassStats)): read percentiles from it, or
/// subtract an earlier snapshot ([`since`](Histogram::since)) for those of
/// a window. Values are kept within 12.5%: a percentile is reported as
/// the top of its bucket, so it is never below the true value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Histogram {
    buckets: Vec<u64>,
}

impl Histogram {
    /// How many latencies were counted.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// The latency that a fraction `q` (0 to 1) of those counted did not
    /// exceed; zero when nothing was counted.
    pub fn quantile(&self, q: f64) -> Duration {
        let count = self.count();
        if count == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Duration::from_nanos(upper(i));
            }
        }
        Duration::from_nanos(upper(self.buckets.len().saturating_sub(1)))
    }

    /// The median.
    pub fn p50(&self) -> Duration {
        self.quantile(0.5)
    }

    /// The 99th percentile.
    pub fn p99(&self) -> Duration {
        self.quantile(0.99)
    }

    /// The 99.9th percentile.
    pub fn p999(&self) -> Duration {
        self.quantile(0.999)
    }

    /// What was counted after `earlier` (an earlier snapshot of the same
    /// histogram).
    pub fn since(&self, earlier: &Histogram) -> Histogram {
        Histogram {
            buckets: self
                .buckets
                .iter()
                .enumerate()
                .map(|(i, n)| n.saturating_sub(earlier.buckets.get(i).copied().unwrap_or(0)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_values_within_an_eighth() {
        for ns in (0..100_000u64).chain([1 << 20, 123_456_789, (1 << 40) - 1]) {
            let i = index(ns);
            assert!(ns <= upper(i), "{ns} above its bucket's top {}", upper(i));
            if i > 0 {
                assert!(ns > upper(i - 1), "{ns} belongs in an earlier bucket");
            }
            assert!(
                upper(i) - ns <= ns / 8,
                "{ns}: bucket top {} too far",
                upper(i)
            );
        }
        assert_eq!(index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_and_windows() {
        let h = AtomicHistogram::default();
        for us in 1..=1000u64 {
            h.record(us * 1000);
        }
        let all = h.snapshot();
        assert_eq!(all.count(), 1000);
        let within = |d: Duration, us: u64| {
            let ns = d.as_nanos() as u64;
            ns >= us * 1000 && ns <= us * 1000 + us * 1000 / 8
        };
        assert!(within(all.p50(), 500), "{:?}", all.p50());
        assert!(within(all.p99(), 990), "{:?}", all.p99());
        assert!(within(all.p999(), 999), "{:?}", all.p999());
        h.record(5_000_000);
        let window = h.snapshot().since(&all);
        assert_eq!(window.count(), 1);
        assert!(within(window.p50(), 5000));
        assert_eq!(Histogram::default().p99(), Duration::ZERO);
    }
}
