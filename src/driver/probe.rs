//! Probes io_uring once per process: is it usable, and which opcodes exist.

use std::sync::OnceLock;

use io_uring::{IoUring, Probe};

use super::FallbackReason;

/// What the kernel offers, decided once per process.
pub(crate) struct Probed {
    /// A bitmap of supported opcodes, or why io_uring cannot be used at all.
    usable: Result<[u64; 4], FallbackReason>,
}

impl Probed {
    /// Whether `opcode` is supported; false when io_uring is unusable.
    pub(crate) fn supports(&self, opcode: u8) -> bool {
        match &self.usable {
            Ok(bits) => bits[usize::from(opcode / 64)] & (1 << (opcode % 64)) != 0,
            Err(_) => false,
        }
    }

    /// The reason io_uring is unusable, if it is.
    pub(crate) fn unusable(&self) -> Option<&FallbackReason> {
        self.usable.as_ref().err()
    }
}

/// Probes on first call; later calls return the same answer.
pub(crate) fn probe() -> &'static Probed {
    static PROBED: OnceLock<Probed> = OnceLock::new();
    PROBED.get_or_init(|| {
        let usable = if forced_by_env() {
            Err(FallbackReason::ForcedByEnv)
        } else {
            run_probe()
        };
        if let Err(reason) = &usable {
            reason.warn_once();
        }
        Probed { usable }
    })
}

/// The process-wide fallback reason, if any (environment or kernel).
pub(crate) fn global_fallback() -> Option<&'static FallbackReason> {
    probe().unusable()
}

fn forced_by_env() -> bool {
    matches!(
        std::env::var("SHARDIO_FORCE_FALLBACK").as_deref(),
        Ok("1") | Ok("true") | Ok("yes")
    )
}

fn run_probe() -> Result<[u64; 4], FallbackReason> {
    let ring = IoUring::new(2).map_err(|e| FallbackReason::from_setup_error(&e))?;
    let mut probe = Probe::new();
    ring.submitter()
        .register_probe(&mut probe)
        .map_err(|e| FallbackReason::Other(format!("IORING_REGISTER_PROBE failed: {e}")))?;
    let mut bits = [0u64; 4];
    for opcode in 0..=u8::MAX {
        if probe.is_supported(opcode) {
            bits[usize::from(opcode / 64)] |= 1 << (opcode % 64);
        }
    }
    Ok(bits)
}
