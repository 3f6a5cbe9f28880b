//! The process-wide list of live rings, for `metrics()`.

use std::sync::{Arc, Weak};

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

static RINGS: Mutex<Vec<Weak<Ring>>> = Mutex::new(Vec::new());

/// Adds a new ring to the list (it leaves it when dropped).
pub(crate) fn register(ring: &Arc<Ring>) {
    let mut rings = RINGS.lock();
    rings.retain(|w| w.strong_count() > 0);
    rings.push(Arc::downgrade(ring));
}

/// Every ring alive now, in creation order.
pub(crate) fn live_rings() -> Vec<LiveRing> {
    RINGS
        .lock()
        .iter()
        .filter_map(Weak::upgrade)
        .map(|ring| LiveRing {
            id: ring.id(),
            owner: ring.owner().to_owned(),
            placement: ring.placement(),
        })
        .collect()
}
