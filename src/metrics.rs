//! The [`metrics()`] snapshot: reads the counters and state of every layer
//! (driver, scheduler, stall detector); no layer imports it.

use crate::driver::{self, FallbackReason, LiveRing};

/// A snapshot of shardio's process-wide counters.
///
/// Counters only grow, except `rings_alive`. Read it before and after a piece
/// of work to see what the work cost:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let before = shardio::metrics();
/// shardio::nop().await?;
/// let after = shardio::metrics();
/// if !after.fallback_active {
///     assert!(after.ops_completed > before.ops_completed);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Metrics {
    /// Rings that exist now (one per thread and runtime that did I/O).
    pub rings_alive: u64,
    /// Rings created since the process started.
    pub rings_created: u64,
    /// Operations pushed to a ring.
    pub ops_submitted: u64,
    /// Operations whose last completion arrived while their future waited.
    pub ops_completed: u64,
    /// Operations dropped in flight (cancel requested, buffers kept until the
    /// kernel finished).
    pub ops_cancelled: u64,
    /// Operations run on the fallback path (no io_uring, or opcode missing).
    pub ops_fallback: u64,
    /// File reads served from the page cache on the calling thread
    /// (`RWF_NOWAIT`), without a ring round trip.
    pub reads_inline: u64,
    /// File reads and writes that used a registered buffer: into a
    /// [`FixedBuf`](crate::buf::FixedBuf), or into an
    /// [`AlignedBuf`](crate::buf::AlignedBuf) from the registered arena.
    pub ops_registered_buf: u64,
    /// `io_uring_enter` system calls made.
    pub enter_calls: u64,
    /// Times a ring's completion queue was found overflowed (the kernel kept
    /// the completions; shardio flushed them).
    pub cq_overflows: u64,
    /// Times a connection's multishot receive stopped after a socket
    /// buffer's worth of bytes and waited for its reader to take them
    /// before it was armed again. (A reader that stops reading so holds at
    /// most that much in shardio's buffers; the rest waits in the kernel's
    /// socket buffer, and TCP pushes back on the sender.)
    pub recv_limit_hits: u64,
    /// Whether operations run on the fallback path.
    pub fallback_active: bool,
    /// Why, when `fallback_active`; its `Display` names the cause and the
    /// fix.
    pub fallback_reason: Option<FallbackReason>,
    /// Every ring alive, with its owner thread and async-worker placement.
    pub rings: Vec<RingInfo>,
    /// Async-worker groups alive (see [`Config::async_workers`](crate::Config::async_workers)):
    /// each is one SQ-poll thread and one io-wq pool on one core, shared by
    /// the rings listed.
    pub worker_groups: Vec<WorkerGroupInfo>,
    /// Stall-detector counters per worker thread (see
    /// [`Config::stall_threshold`](crate::Config::stall_threshold); empty
    /// without it).
    pub stalls: Vec<WorkerStalls>,
    /// Every priority class alive, in order of creation (the default class
    /// first once anything ran in it), with what its operations cost; see
    /// [`PriorityClass::stats`](crate::sched::PriorityClass::stats).
    pub classes: Vec<crate::sched::ClassStats>,
}

/// One worker's stall counters, as listed in [`Metrics::stalls`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStalls {
    /// The worker thread's name and kernel thread id.
    pub thread: String,
    /// Polls that ran longer than the threshold.
    pub stalls: u64,
    /// The longest poll seen on this worker.
    pub longest_poll: std::time::Duration,
}

/// One ring, as listed in [`Metrics::rings`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RingInfo {
    /// Process-unique ring id.
    pub id: u64,
    /// Name (or id) of the thread that created the ring and submits to it.
    pub owner_thread: String,
    /// The async-worker core of its SQ-poll thread; `None` for a plain ring.
    pub sq_poll_cpu: Option<usize>,
    /// The async-worker group it belongs to.
    pub group: Option<u64>,
}

/// One async-worker group, as listed in [`Metrics::worker_groups`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerGroupInfo {
    /// Group id, as in [`RingInfo::group`].
    pub id: u64,
    /// The core its SQ-poll thread and io-wq workers run on.
    pub cpu: usize,
    /// Ids of the rings sharing them.
    pub rings: Vec<u64>,
}

fn ring_listing(live: &[LiveRing]) -> (Vec<RingInfo>, Vec<WorkerGroupInfo>) {
    let mut groups: Vec<WorkerGroupInfo> = Vec::new();
    let rings = live
        .iter()
        .map(|ring| {
            let placement = ring.placement;
            if let (Some(id), Some(cpu)) = (placement.group(), placement.cpu()) {
                match groups.iter_mut().find(|g| g.id == id) {
                    Some(group) => group.rings.push(ring.id),
                    None => groups.push(WorkerGroupInfo {
                        id,
                        cpu,
                        rings: vec![ring.id],
                    }),
                }
            }
            RingInfo {
                id: ring.id,
                owner_thread: ring.owner.clone(),
                sq_poll_cpu: placement.cpu(),
                group: placement.group(),
            }
        })
        .collect();
    (rings, groups)
}

/// Returns a snapshot of shardio's counters.
pub fn metrics() -> Metrics {
    let c = driver::counters().values();
    let reason = driver::fallback_reason();
    let (rings, worker_groups) = ring_listing(&driver::live_rings());
    Metrics {
        rings_alive: c.rings_alive,
        rings_created: c.rings_created,
        ops_submitted: c.ops_submitted,
        ops_completed: c.ops_completed,
        ops_cancelled: c.ops_cancelled,
        ops_fallback: c.ops_fallback,
        reads_inline: c.reads_inline,
        ops_registered_buf: c.ops_registered_buf,
        enter_calls: c.enter_calls,
        cq_overflows: c.cq_overflows,
        recv_limit_hits: c.recv_limit_hits,
        fallback_active: reason.is_some(),
        fallback_reason: reason,
        rings,
        worker_groups,
        stalls: stall_stats(),
        classes: crate::sched::all_stats(),
    }
}

#[cfg(tokio_unstable)]
fn stall_stats() -> Vec<WorkerStalls> {
    crate::stall::worker_stats()
        .into_iter()
        .map(|s| WorkerStalls {
            thread: s.thread,
            stalls: s.stalls,
            longest_poll: s.longest_poll,
        })
        .collect()
}

#[cfg(not(tokio_unstable))]
fn stall_stats() -> Vec<WorkerStalls> {
    Vec::new()
}
