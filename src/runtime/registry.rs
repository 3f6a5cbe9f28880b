//! Which `Config` belongs to which Tokio runtime.
//!
//! A configuration reaches a runtime through the hooks installed by
//! `BuilderExt::shardio`; the first hook that runs inside the runtime binds the
//! configuration to the runtime's id. A thread that is not a runtime worker
//! (the one calling `block_on`) may need a ring before any hook ran; it then
//! claims the configuration most recently attached to a builder on this same
//! thread that is not bound yet, which is the runtime it built.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use tokio::runtime::{Handle, Id};

use super::config::Config;
use super::groups::WorkerGroups;

/// The state shared by one configured runtime's hooks.
pub(crate) struct RuntimeShared {
    pub(crate) config: Config,
    /// Present when the config names async-worker cores.
    pub(crate) groups: Option<WorkerGroups>,
    /// Present when the config sets a stall threshold.
    #[cfg(tokio_unstable)]
    pub(crate) stall: Option<Arc<crate::stall::StallDetector>>,
    bound: OnceLock<Id>,
}

static BOUND: Mutex<Vec<(Id, Weak<RuntimeShared>)>> = Mutex::new(Vec::new());

thread_local! {
    /// Configurations attached to builders on this thread, not yet bound.
    static PENDING: RefCell<Vec<Weak<RuntimeShared>>> = const { RefCell::new(Vec::new()) };
}

impl RuntimeShared {
    /// Wraps `config` and records it as pending on the calling thread.
    pub(crate) fn attach(config: Config) -> Arc<RuntimeShared> {
        let groups = config.async_workers.clone().map(WorkerGroups::new);
        #[cfg(tokio_unstable)]
        let stall = config
            .stall_threshold
            .map(|t| crate::stall::StallDetector::new(t, config.stall_reports_per_minute));
        let shared = Arc::new(RuntimeShared {
            config,
            groups,
            #[cfg(tokio_unstable)]
            stall,
            bound: OnceLock::new(),
        });
        let _ = PENDING.try_with(|p| {
            let mut p = p.borrow_mut();
            p.retain(|w| w.strong_count() > 0);
            p.push(Arc::downgrade(&shared));
        });
        shared
    }

    /// Binds this configuration to the runtime the calling thread is in.
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

fn bind(shared: &Arc<RuntimeShared>, id: Id) {
    let mut table = BOUND.lock().unwrap_or_else(|e| e.into_inner());
    table.retain(|(_, w)| w.strong_count() > 0);
    if !table.iter().any(|(bound, _)| *bound == id) && shared.bound.set(id).is_ok() {
        table.push((id, Arc::downgrade(shared)));
    }
}

/// The configuration of runtime `id`, if it was built with shardio.
pub(crate) fn lookup(id: Id) -> Option<Arc<RuntimeShared>> {
    {
        let table = BOUND.lock().unwrap_or_else(|e| e.into_inner());
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
