//! Numbers with a binary suffix, as io_properties files write them.

/// Binary multiplier of a suffix: `k`/`K`, `M`, `G`, `T`.
pub(super) fn split_suffix(text: &str) -> (&str, u64) {
    let text = text.trim();
    let mult = match text.as_bytes().last() {
        Some(b'k' | b'K') => 1 << 10,
        Some(b'M') => 1 << 20,
        Some(b'G') => 1 << 30,
        Some(b'T') => 1 << 40,
        _ => return (text, 1),
    };
    // The suffix is one ASCII byte, so this is a char boundary.
    (&text[..text.len() - 1], mult)
}

/// Parses a number the way io_properties files write them: a decimal
/// integer or float (`1000`, `1.5`, `1e3`), optionally followed by one
/// suffix that multiplies it by a power of 1024, as Seastar's
/// `parse_memory_size` does:
///
/// | suffix     | multiplier |
/// |------------|------------|
/// | `k` or `K` | 1024       |
/// | `M`        | 1024²      |
/// | `G`        | 1024³      |
/// | `T`        | 1024⁴      |
///
/// Only `k` has a lowercase form: `m`, `g` and `t` are not suffixes, so
/// `"1m"` is `None` rather than a guess between mega and milli. Spaces
/// around the whole text are ignored; none may stand between the digits
/// and the suffix.
///
/// Only the syntax is checked: the value may be zero, negative or, for a
/// huge exponent, infinite; range checks are the caller's. The
/// io_properties parser and the `io_tester` example both read their
/// numbers with this function.
///
/// ```
/// use shardio::sched::parse_size;
///
/// assert_eq!(parse_size("4k"), Some(4096.0));
/// assert_eq!(parse_size("1.5M"), Some(1.5 * 1024.0 * 1024.0));
/// assert_eq!(parse_size("2G"), Some(2.0 * (1u64 << 30) as f64));
/// assert_eq!(parse_size(" 62800 "), Some(62800.0));
/// assert_eq!(parse_size("1m"), None);
/// assert_eq!(parse_size("1KB"), None);
/// assert_eq!(parse_size("inf"), None);
/// ```
pub fn parse_size(text: &str) -> Option<f64> {
    let (digits, mult) = split_suffix(text);
    // Rust's float parser also takes `inf` and `NaN`; numbers have digits.
    if !digits.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: f64 = digits.parse().ok()?;
    Some(value * mult as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_suffixes_and_only_k_in_lowercase() {
        let k = 1024.0;
        assert_eq!(parse_size("4k"), Some(4.0 * k));
        assert_eq!(parse_size("4K"), Some(4.0 * k));
        assert_eq!(parse_size("0.5M"), Some(0.5 * k * k));
        assert_eq!(parse_size("3G"), Some(3.0 * k * k * k));
        assert_eq!(parse_size("2T"), Some(2.0 * k * k * k * k));
        assert_eq!(parse_size("1e3"), Some(1000.0));
        assert_eq!(parse_size(" 7 "), Some(7.0));
        for bad in [
            "1m", "1g", "1t", "4 k", "k", "", "1KB", "1Mi", "NaN", "inf", "x1",
        ] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
        // Syntax only: the range is the caller's to check.
        assert_eq!(parse_size("-2k"), Some(-2.0 * k));
        assert_eq!(parse_size("1e999"), Some(f64::INFINITY));
    }
}
