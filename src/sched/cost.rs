//! The cost model: what a request costs in device nanoseconds.

use super::dir::Dir;
use super::properties::{DiskProperties, NetProperties};
use super::split::max_bytes_for;

/// `cost = per_op + bytes × per_byte` nanoseconds of device time, for reads
/// and writes; with a rate when the figures came from io_properties.
#[derive(Debug, Clone)]
pub(crate) struct CostModel {
    read: (f64, f64),
    write: (f64, f64),
    /// Tokens (device ns) replenished per ns, and the bucket limit.
    rate: Option<(f64, u64)>,
}

impl CostModel {
    /// Without io_properties: a nominal 10 µs per operation plus 1 ns per
    /// byte (a 1 GB/s device), so shares order requests by a rough size
    /// rather than by count; no rate.
    pub(crate) fn nominal() -> CostModel {
        CostModel {
            read: (10_000.0, 1.0),
            write: (10_000.0, 1.0),
            rate: None,
        }
    }

    fn with_rate(read: (f64, f64), write: (f64, f64), k: f64, latency_goal_ns: u64) -> CostModel {
        let limit = (latency_goal_ns as f64 * k).max(1.0) as u64;
        CostModel {
            read,
            write,
            rate: Some((k, limit)),
        }
    }

    pub(crate) fn disk(p: &DiskProperties, latency_goal_ns: u64) -> CostModel {
        CostModel::with_rate(
            (1e9 / p.read_iops, 1e9 / p.read_bandwidth),
            (1e9 / p.write_iops, 1e9 / p.write_bandwidth),
            p.rate_factor,
            latency_goal_ns,
        )
    }

    pub(crate) fn net(p: &NetProperties, latency_goal_ns: u64) -> CostModel {
        CostModel::with_rate(
            (1e9 / p.rx_ops, 1e9 / p.rx_bandwidth),
            (1e9 / p.tx_ops, 1e9 / p.tx_bandwidth),
            p.rate_factor,
            latency_goal_ns,
        )
    }

    pub(crate) fn cost(&self, dir: Dir, bytes: u64) -> u64 {
        let (op, byte) = match dir {
            Dir::Read => self.read,
            Dir::Write => self.write,
        };
        ((op + bytes as f64 * byte).round() as u64).max(1)
    }

    /// The largest request in bytes whose cost fits the bucket, when the
    /// model has a rate: larger ones are split.
    pub(crate) fn max_bytes(&self, dir: Dir) -> Option<u64> {
        let (_, limit) = self.rate?;
        let (op, byte) = match dir {
            Dir::Read => self.read,
            Dir::Write => self.write,
        };
        Some(max_bytes_for(limit, op.ceil() as u64, byte))
    }

    /// Tokens per ns and the bucket's limit, when the model has a rate.
    pub(crate) fn rate(&self) -> Option<(f64, u64)> {
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_costs_one_over_iops_plus_bytes_over_bandwidth() {
        let p = DiskProperties::new("/", 100_000.0, 1e9, 50_000.0, 5e8);
        let m = CostModel::disk(&p, 750_000);
        assert_eq!(m.cost(Dir::Read, 0), 10_000);
        assert_eq!(m.cost(Dir::Read, 4096), 10_000 + 4096);
        assert_eq!(m.cost(Dir::Write, 131_072), 20_000 + 262_144);
        assert_eq!(m.rate(), Some((1.0, 750_000)));
    }
}
