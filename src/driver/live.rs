//! The process-wide lists of live rings (by runtime) and of threads whose
//! ring could not be set up, for `metrics()` and for those threads to find
//! another ring of their runtime.

use std::sync::{Arc, Weak};
use std::thread::ThreadId;

use tokio::runtime::Id;

use super::fallback::FallbackReason;
use super::placement::Placement;
use super::ring::Ring;
use crate::sync::Mutex;

/// What `metrics()` shows of one ring.
#[derive(Debug, Clone)]
pub(crate) struct LiveRing {
    pub(crate) id: u64,
    pub(crate) owner: String,
    pub(crate) placement: Placement,
}

/// What `metrics()` shows of a thread without a ring of its own.
#[derive(Debug, Clone)]
pub(crate) struct FailedRing {
    pub(crate) thread: String,
    pub(crate) reason: FallbackReason,
}

static RINGS: Mutex<Vec<(Id, Weak<Ring>)>> = Mutex::new(Vec::new());
static FAILED: Mutex<Vec<(ThreadId, FailedRing)>> = Mutex::new(Vec::new());

/// Adds a new ring of runtime `runtime` to the list (it leaves it when dropped).
pub(crate) fn register(ring: &Arc<Ring>, runtime: Id) {
    let mut rings = RINGS.lock();
    rings.retain(|(_, w)| w.strong_count() > 0);
    rings.push((runtime, Arc::downgrade(ring)));
}

/// Every ring alive now, in creation order.
pub(crate) fn live_rings() -> Vec<LiveRing> {
    RINGS
        .lock()
        .iter()
        .filter_map(|(_, w)| w.upgrade())
        .map(|ring| LiveRing {
            id: ring.id(),
            owner: ring.owner().to_owned(),
            placement: ring.placement(),
        })
        .collect()
}

/// A ring of runtime `runtime` whose thread is still there, for a thread
/// of that runtime without one of its own.
pub(crate) fn sibling(runtime: Id) -> Option<Arc<Ring>> {
    RINGS
        .lock()
        .iter()
        .filter(|(rt, _)| *rt == runtime)
        .filter_map(|(_, w)| w.upgrade())
        .find(|ring| !ring.is_retired())
}

/// The calling thread could not set up its ring, for `reason`.
pub(crate) fn record_failure(reason: FallbackReason) {
    let thread = std::thread::current();
    let name = thread
        .name()
        .map_or_else(|| format!("{:?}", thread.id()), str::to_owned);
    let mut failed = FAILED.lock();
    if !failed.iter().any(|(id, _)| *id == thread.id()) {
        failed.push((
            thread.id(),
            FailedRing {
                thread: name,
                reason,
            },
        ));
    }
}

/// The calling thread is going away: it no longer lacks a ring.
pub(crate) fn forget_failure() {
    let id = std::thread::current().id();
    FAILED.lock().retain(|(thread, _)| *thread != id);
}

/// Every thread alive that could not set up its ring.
pub(crate) fn failed_rings() -> Vec<FailedRing> {
    FAILED.lock().iter().map(|(_, f)| f.clone()).collect()
}
