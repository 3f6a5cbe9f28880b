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

/// A number written as a string, with an optional binary suffix.
pub(super) fn parse_suffixed(text: &str) -> Option<f64> {
    let (digits, mult) = split_suffix(text);
    // Rust's float parser also takes `inf` and `NaN`; numbers have digits.
    if !digits.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: f64 = digits.parse().ok()?;
    Some(value * mult as f64)
}
