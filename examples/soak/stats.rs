//! What the soak counts, shared by every task, and the tasks' random numbers.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// How many problem messages are printed (the rest are only counted).
const MESSAGES: usize = 20;

#[derive(Default)]
pub(crate) struct Stats {
    /// Echoed bytes that came back equal to what was sent.
    pub(crate) net_verified: AtomicU64,
    /// File bytes read back equal to what was written.
    pub(crate) file_verified: AtomicU64,
    /// Client connections open now.
    pub(crate) conns_open: AtomicU64,
    /// Client connections that ended with a clean close.
    pub(crate) sessions: AtomicU64,
    pub(crate) rounds: AtomicU64,
    /// Connections the client dropped mid-stream.
    pub(crate) aborts: AtomicU64,
    /// Rounds whose reader paused before reading its echo.
    pub(crate) slow_reads: AtomicU64,
    pub(crate) file_ops: AtomicU64,
    /// Server connections ended by a reset (the clients' aborts).
    pub(crate) server_resets: AtomicU64,
    pub(crate) errors: AtomicU64,
    /// Streams that ended before every byte sent came back.
    pub(crate) lost: AtomicU64,
    /// Bytes that came back different from what was sent.
    pub(crate) corrupt: AtomicU64,
    /// Operations that did not finish within their timeout.
    pub(crate) hangs: AtomicU64,
    messages: Mutex<usize>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Problem {
    Error,
    Lost,
    Corrupt,
    Hang,
}

impl Stats {
    pub(crate) fn verified(&self) -> u64 {
        self.net_verified.load(Relaxed) + self.file_verified.load(Relaxed)
    }

    /// Counts a problem and prints the first few.
    pub(crate) fn problem(&self, kind: Problem, what: std::fmt::Arguments<'_>) {
        let counter = match kind {
            Problem::Error => &self.errors,
            Problem::Lost => &self.lost,
            Problem::Corrupt => &self.corrupt,
            Problem::Hang => &self.hangs,
        };
        counter.fetch_add(1, Relaxed);
        let mut printed = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        if *printed < MESSAGES {
            *printed += 1;
            eprintln!("soak: {kind:?}: {what}");
            if *printed == MESSAGES {
                eprintln!("soak: (further problems are only counted)");
            }
        }
    }

    /// Lost or corrupted bytes, or hangs: the run has failed.
    pub(crate) fn broken(&self) -> bool {
        self.lost.load(Relaxed) + self.corrupt.load(Relaxed) + self.hangs.load(Relaxed) > 0
    }
}

/// xorshift64*: fast, and enough for picking sizes and filling buffers.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Spread evenly over the orders of magnitude from `lo` to `hi`.
    pub(crate) fn log_uniform(&mut self, lo: usize, hi: usize) -> usize {
        let (lo, hi) = ((lo.max(1)) as f64, hi as f64);
        let x = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((lo.ln() + x * (hi.ln() - lo.ln())).exp() as usize).clamp(lo as usize, hi as usize)
    }

    /// Fills `buf` with the next bytes (8 per number; a tail of fewer
    /// than 8 uses the start of one).
    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for part in buf.chunks_mut(8) {
            part.copy_from_slice(&self.next().to_le_bytes()[..part.len()]);
        }
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}
