//! The per-thread table of rings: one ring per (thread, runtime), created on
//! the thread's first operation in that runtime, or the fallback path where
//! io_uring cannot be used; and the per-thread batching of submissions.

use std::cell::{Cell, RefCell};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use tokio::runtime::{Handle, Id};

use super::counters::counters;
use super::fallback::FallbackReason;
use super::groups::WorkerGroups;
use super::params::RingParams;
use super::placement::Placement;
use super::probe::global_fallback;
use super::reaper::spawn_reaper;
use super::ring::Ring;
use super::{live, registry};

/// Where the current thread's operations go.
pub(crate) enum Driver {
    Ring(Arc<Ring>),
    Fallback,
}

enum Entry {
    /// Weak: the ring's reaper task (owned by the runtime) and the ops in
    /// flight keep it alive; once the runtime is gone, so is the ring.
    Ring(Weak<Ring>),
    /// The runtime's operations take the fallback path (forced).
    Fallback,
    /// This thread's ring could not be set up while io_uring works in the
    /// process: operations go to another ring of the runtime (any thread
    /// may submit to a ring), or take the fallback path while it has none.
    Failed,
}

#[derive(Default)]
struct ThreadRings {
    entries: Vec<(Id, Entry)>,
    /// Rings with SQEs pushed during the current task poll, flushed after it.
    dirty: Vec<Arc<Ring>>,
    /// A ring setup failed on this thread (it is listed in `metrics()`).
    failed: bool,
}

impl Drop for ThreadRings {
    fn drop(&mut self) {
        if self.failed {
            live::forget_failure();
        }
        for ring in self.dirty.drain(..) {
            ring.flush();
        }
        for (_, entry) in self.entries.drain(..) {
            if let Entry::Ring(weak) = entry {
                if let Some(ring) = weak.upgrade() {
                    ring.retire();
                }
            }
        }
    }
}

thread_local! {
    static RINGS: RefCell<ThreadRings> = RefCell::new(ThreadRings::default());
    /// True between shardio's before- and after-task-poll hooks: pushes may
    /// then wait for the after-poll flush instead of entering the kernel.
    static IN_TASK_POLL: Cell<bool> = const { Cell::new(false) };
}

/// Set once any runtime forced the fallback through its `Config`.
static FORCED_BY_CONFIG: AtomicBool = AtomicBool::new(false);

/// The fallback reason to report in metrics, if any.
pub(crate) fn fallback_reason() -> Option<FallbackReason> {
    if let Some(reason) = global_fallback() {
        return Some(reason.clone());
    }
    FORCED_BY_CONFIG
        .load(Ordering::Relaxed)
        .then_some(FallbackReason::ForcedByConfig)
}

/// The driver for an operation started on this thread now.
pub(crate) fn current() -> io::Result<Driver> {
    // A runtime is needed on either path (the fallback uses its blocking pool).
    let handle = Handle::try_current().map_err(|_| {
        io::Error::other(
            "shardio: this operation must run inside a Tokio runtime (for example under \
             #[shardio::main] or #[tokio::main]); no runtime is running on this thread",
        )
    })?;
    if global_fallback().is_some() {
        return Ok(Driver::Fallback);
    }
    let id = handle.id();
    let found = RINGS.try_with(|rings| {
        let mut rings = rings.borrow_mut();
        let position = rings.entries.iter().position(|(rt, _)| *rt == id)?;
        match &rings.entries[position].1 {
            Entry::Fallback => Some(Driver::Fallback),
            Entry::Failed => Some(borrowed(id)),
            Entry::Ring(weak) => match weak.upgrade() {
                Some(ring) if !ring.is_retired() => Some(Driver::Ring(ring)),
                _ => {
                    rings.entries.swap_remove(position);
                    None
                }
            },
        }
    });
    match found {
        Ok(Some(driver)) => Ok(driver),
        Ok(None) => create(&handle, id),
        // The thread is exiting and its table is gone: use a ring of its own
        // for this operation, unregistered; its reaper owns it.
        Err(_) => match new_ring(&handle, &RingParams::default(), None) {
            Ok(ring) => Ok(Driver::Ring(ring)),
            Err(NewRingError::Setup(_)) => Ok(borrowed(id)),
            Err(NewRingError::NoReactor(e)) => Err(e),
        },
    }
}

/// For a thread without a ring of its own in runtime `id`: another ring of
/// the runtime if there is one, else the fallback path.
fn borrowed(id: Id) -> Driver {
    live::sibling(id).map_or(Driver::Fallback, Driver::Ring)
}

/// This thread's ring setup failed with `err` although io_uring works in
/// this process: recorded for `metrics()`, and said in a warning.
fn setup_failed(err: &io::Error) {
    let reason = FallbackReason::from_setup_error(err);
    counters().ring_setup_failed();
    let thread = std::thread::current();
    tracing::warn!(
        target: "shardio::driver",
        thread = thread.name().unwrap_or("unnamed"),
        "this thread's io_uring ring could not be set up ({err}); its operations go to \
         another ring of the runtime, or take the fallback path while there is none \
         (metrics().ring_failures lists such threads). The cause and its fix, as for a \
         whole process: {reason}"
    );
    live::record_failure(reason);
    let _ = RINGS.try_with(|rings| rings.borrow_mut().failed = true);
}

fn create(handle: &Handle, id: Id) -> io::Result<Driver> {
    let settings = registry::lookup(id);
    let default_params;
    let params = match &settings {
        Some(settings) => &settings.params,
        None => {
            default_params = RingParams::default();
            &default_params
        }
    };
    let groups = settings.as_ref().and_then(|s| s.groups.as_ref());
    let force_fallback = settings.as_ref().is_some_and(|s| s.force_fallback);
    let (entry, driver) = if force_fallback {
        if !FORCED_BY_CONFIG.swap(true, Ordering::Relaxed) {
            FallbackReason::ForcedByConfig.warn_once();
        }
        (Entry::Fallback, Driver::Fallback)
    } else {
        match new_ring(handle, params, groups) {
            Ok(ring) => (Entry::Ring(Arc::downgrade(&ring)), Driver::Ring(ring)),
            Err(NewRingError::NoReactor(e)) => return Err(e),
            Err(NewRingError::Setup(e)) => {
                setup_failed(&e);
                (Entry::Failed, borrowed(id))
            }
        }
    };
    let _ = RINGS.try_with(|rings| rings.borrow_mut().entries.push((id, entry)));
    Ok(driver)
}

enum NewRingError {
    /// io_uring refused the ring: the thread falls back.
    Setup(io::Error),
    /// The runtime cannot wake a reaper: the user must enable Tokio's I/O.
    NoReactor(io::Error),
}

fn new_ring(
    handle: &Handle,
    params: &RingParams,
    groups: Option<&WorkerGroups>,
) -> Result<Arc<Ring>, NewRingError> {
    let ring = match groups {
        Some(groups) => groups.create_ring(handle, params),
        None => Ring::new(params, Placement::Plain).map(Arc::new),
    }
    .map_err(NewRingError::Setup)?;
    live::register(&ring, handle.id());
    spawn_reaper(handle, &ring).map_err(NewRingError::NoReactor)?;
    tracing::debug!(
        target: "shardio::driver",
        ring = ring.id(),
        owner = ring.owner(),
        placement = ?ring.placement(),
        "ring created"
    );
    Ok(ring)
}

/// Whether operations started on this thread now use io_uring (false on the
/// fallback path). Errors outside a Tokio runtime.
pub(crate) fn io_uring_active() -> io::Result<bool> {
    Ok(matches!(current()?, Driver::Ring(_)))
}

/// After pushing an SQE on `ring`: submit it soon, batched with others.
///
/// Inside a task poll with shardio's after-poll hook (`tokio_unstable`), that
/// hook submits. Otherwise the ring's reaper task submits once the worker ran
/// the tasks that are ready now (and the park hook submits before a worker
/// sleeps), so the SQEs of many tasks share one `io_uring_enter`.
pub(crate) fn flush_or_defer(ring: &Arc<Ring>) {
    let after_poll = IN_TASK_POLL.try_with(Cell::get).unwrap_or(false)
        && RINGS
            .try_with(|rings| {
                let mut rings = rings.borrow_mut();
                if !rings.dirty.iter().any(|r| Arc::ptr_eq(r, ring)) {
                    rings.dirty.push(Arc::clone(ring));
                }
            })
            .is_ok();
    if !after_poll {
        ring.request_flush();
    }
}

/// Park hook body: submit what this thread's rings have queued before the
/// worker sleeps, and count the park (see [`idle`](super::idle)).
/// Completions are left to the reaper (see `Ring::submit_only`).
pub(crate) fn flush_thread(spin: std::time::Duration) {
    super::idle::note_park();
    for ring in thread_rings() {
        ring.submit_only();
        if !spin.is_zero() {
            ring.spin_for_completion(spin);
        }
    }
}

/// Thread-stop hook body: the thread will not come back; its rings end once
/// their operations are done.
pub(crate) fn release_thread() {
    let _ = RINGS.try_with(|rings| {
        let taken = std::mem::take(&mut *rings.borrow_mut());
        drop(taken);
    });
}

fn thread_rings() -> Vec<Arc<Ring>> {
    RINGS
        .try_with(|rings| {
            rings
                .borrow()
                .entries
                .iter()
                .filter_map(|(_, entry)| match entry {
                    Entry::Ring(weak) => weak.upgrade(),
                    Entry::Fallback | Entry::Failed => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

cfg_unstable! {
    /// Before-task-poll hook body.
    pub(crate) fn enter_task_poll() {
        let _ = IN_TASK_POLL.try_with(|f| f.set(true));
    }

    /// After-task-poll hook body: submit what the poll queued.
    pub(crate) fn exit_task_poll() {
        let _ = IN_TASK_POLL.try_with(|f| f.set(false));
        let dirty = RINGS
            .try_with(|rings| std::mem::take(&mut rings.borrow_mut().dirty))
            .unwrap_or_default();
        for ring in dirty {
            ring.flush();
        }
    }
}
