//! Waker bookkeeping shared by the reap path and the reaper task: updating
//! a stored waker, and a per-thread buffer that batches of wakers reuse so
//! the hot path does not allocate.

use std::cell::Cell;
use std::task::{Context, Waker};

/// Stores `cx`'s waker in `slot` unless the one there already wakes the
/// same task.
pub(crate) fn set_waker(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(waker) if waker.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

thread_local! {
    /// A waker buffer reused across reaps.
    static SCRATCH: Cell<Vec<Waker>> = const { Cell::new(Vec::new()) };
}

/// Takes the thread's scratch waker buffer (empty, with its capacity).
pub(crate) fn take_scratch() -> Vec<Waker> {
    SCRATCH.try_with(Cell::take).unwrap_or_default()
}

/// Returns a drained waker buffer for reuse.
pub(crate) fn give_scratch(mut wakers: Vec<Waker>) {
    wakers.clear();
    let _ = SCRATCH.try_with(|c| c.set(wakers));
}
