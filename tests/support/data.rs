//! Helpers shared by the stream tests: a bound on each test's time, and
//! reproducible test bytes.

use std::time::Duration;

/// Bounds every test: a hang fails instead of blocking the suite.
pub(crate) async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test timed out after 20 s")
}

/// `len` pseudo-random bytes, the same for the same `seed`.
pub(crate) fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
