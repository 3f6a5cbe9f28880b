//! Which ring settings belong to which Tokio runtime.
//!
//! Settings reach a runtime through the hooks installed by
//! `BuilderExt::shardio`; the first hook that runs inside the runtime binds
//! them to the runtime's id. A thread that is not a runtime worker
//! (the one calling `block_on`) may need a ring before any hook ran; it then
//! claims the settings most recently attached to a builder on this same
//! thread that is not bound yet, which is the runtime it built.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock, Weak};

use tokio::runtime::{Handle, Id};

use super::cpuset::CpuSet;
use super::groups::WorkerGroups;
use super::params::RingParams;
use crate::sync::Mutex;

/// How the rings of one configured runtime are made.
pub(crate) struct RuntimeRings {
    pub(crate) params: RingParams,
    /// Every operation of the runtime takes the fallback path.
    pub(crate) force_fallback: bool,
    /// Present when async-worker cores were configured.
    pub(crate) groups: Option<WorkerGroups>,
    bound: OnceLock<Id>,
}

static BOUND: Mutex<Vec<(Id, Weak<RuntimeRings>)>> = Mutex::new(Vec::new());

thread_local! {
    /// Settings attached to builders on this thread, not yet bound.
    static PENDING: RefCell<Vec<Weak<RuntimeRings>>> = const { RefCell::new(Vec::new()) };
}

impl RuntimeRings {
    /// Settings for a runtime's rings, recorded as pending on the calling
    /// thread (the one building the runtime).
    pub(crate) fn attach(
        params: RingParams,
        force_fallback: bool,
        async_workers: Option<CpuSet>,
    ) -> Arc<RuntimeRings> {
        let shared = Arc::new(RuntimeRings {
            params,
            force_fallback,
            groups: async_workers.map(WorkerGroups::new),
            bound: OnceLock::new(),
        });
        let _ = PENDING.try_with(|p| {
            let mut p = p.borrow_mut();
            p.retain(|w| w.strong_count() > 0);
            p.push(Arc::downgrade(&shared));
        });
        shared
    }

    /// Binds these settings to the runtime the calling thread is in.
    /// Cheap after the first call.
    pub(crate) fn bind_current(self: &Arc<Self>) {
        if self.bound.get().is_some() {
            return;
        }
        if let Ok(handle) = Handle::try_current() {
            bind(self, handle.id());
        }
    }
}

fn bind(shared: &Arc<RuntimeRings>, id: Id) {
    let mut table = BOUND.lock();
    table.retain(|(_, w)| w.strong_count() > 0);
    if !table.iter().any(|(bound, _)| *bound == id) && shared.bound.set(id).is_ok() {
        table.push((id, Arc::downgrade(shared)));
    }
}

/// The settings of runtime `id`, if it was built with shardio.
pub(crate) fn lookup(id: Id) -> Option<Arc<RuntimeRings>> {
    {
        let table = BOUND.lock();
        if let Some(shared) = table
            .iter()
            .find(|(bound, _)| *bound == id)
            .and_then(|(_, w)| w.upgrade())
        {
            return Some(shared);
        }
    }
    let claimed = PENDING
        .try_with(|p| {
            let mut p = p.borrow_mut();
            p.retain(|w| w.upgrade().is_some_and(|s| s.bound.get().is_none()));
            p.pop().and_then(|w| w.upgrade())
        })
        .ok()
        .flatten()?;
    bind(&claimed, id);
    (claimed.bound.get() == Some(&id)).then_some(claimed)
}
