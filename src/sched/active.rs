//! The process-wide switch that turns the scheduler on.

use std::sync::atomic::{AtomicBool, Ordering};

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Turns the scheduler on: a class was created or a model installed.
pub(crate) fn activate() {
    ACTIVE.store(true, Ordering::Release);
}

/// Whether operations go through the scheduler at all.
#[inline]
pub(crate) fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}
