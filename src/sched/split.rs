//! Splitting requests larger than the throttle lets through at once.

/// The largest request in bytes whose cost fits `limit_ns` device
/// nanoseconds, for a per-request cost of `per_op_ns` and `ns_per_byte`;
/// at least one byte, so a split always progresses.
pub(crate) fn max_bytes_for(limit_ns: u64, per_op_ns: u64, ns_per_byte: f64) -> u64 {
    let room = limit_ns.saturating_sub(per_op_ns) as f64;
    if ns_per_byte <= 0.0 {
        return u64::MAX;
    }
    ((room / ns_per_byte) as u64).max(1)
}

/// Cuts `len` bytes starting at `offset` into contiguous parts of at most
/// `max` bytes: `(offset, len)` pairs covering the range exactly.
pub(crate) fn split(offset: u64, len: u64, max: u64) -> impl Iterator<Item = (u64, u64)> {
    let max = max.max(1);
    let parts = len.div_ceil(max);
    (0..parts).map(move |i| {
        let start = i * max;
        (offset + start, max.min(len - start))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_range_exactly() {
        for (len, max) in [
            (0u64, 4096u64),
            (1, 4096),
            (4096, 4096),
            (4097, 4096),
            (1 << 20, 3000),
            (10, 1),
        ] {
            let parts: Vec<_> = split(7, len, max).collect();
            let mut next = 7;
            for &(off, n) in &parts {
                assert_eq!(off, next, "contiguous");
                assert!(n >= 1 && n <= max, "part of {n} bytes with max {max}");
                next += n;
            }
            assert_eq!(next - 7, len, "covers {len} bytes");
            assert_eq!(parts.len() as u64, len.div_ceil(max));
        }
    }

    #[test]
    fn max_bytes_fit_the_limit() {
        // 100k IOPS (10 µs per op), 1 GB/s (1 ns per byte), 0.75 ms limit.
        let max = max_bytes_for(750_000, 10_000, 1.0);
        assert_eq!(max, 740_000);
        assert!(10_000 + max <= 750_000);
        assert_eq!(max_bytes_for(5_000, 10_000, 1.0), 1, "always progresses");
    }
}
