//! The [`metrics()`] snapshot: reads the counters and state of every layer
//! (driver, scheduler, stall detector); no layer imports it.

use crate::driver::{self, FallbackReason, LiveRing};

/// A snapshot of shardio's process-wide counters.
///
/// Counters only grow, except `rings_alive` and the gauges of what is held
/// now (`recv_bytes_held`, `ops_orphaned`). Read it before and after a
/// piece of work to see what the work cost:
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
    /// buffer's worth of bytes (at most a quarter of its ring's shared
    /// receive pool: 1 MiB) and waited for its reader to take them before it
    /// was armed again. (A reader that stops reading so holds at
    /// most that much in shardio's buffers; the rest waits in the kernel's
    /// socket buffer, and TCP pushes back on the sender.)
    pub recv_limit_hits: u64,
    /// Times a connection's receive was stopped because its priority
    /// class was over its share of the interface's receive side (the
    /// scheduler had to queue the charge for bytes it received): until
    /// the class's turn comes, what arrives for the connection waits in
    /// the kernel's socket buffer, TCP's window pushes back on the sender,
    /// and the ring's shared pool stays free for other classes.
    pub recv_pauses: u64,
    /// `io_uring_enter` calls that failed with EINTR (a signal), EAGAIN
    /// (the kernel short of memory for requests) or EBUSY (completions
    /// overflowed) and were made again.
    pub enter_retries: u64,
    /// Operations the kernel cancelled without shardio asking (as when a
    /// thread that submitted them exits), submitted again: ECANCELED
    /// means they did not run. Connects are not resubmitted (they fail
    /// with ECANCELED).
    pub ops_resubmitted: u64,
    /// Times a connection's multishot receive found the ring's provided
    /// buffers exhausted (ENOBUFS) and that read received into a buffer of
    /// its own instead.
    pub recv_no_buffers: u64,
    /// Receives a stream took through Tokio's reactor (readiness, then a
    /// `recv`) instead of the ring: streams do while their thread mostly
    /// parks between receives, where a ring's completion would cost the
    /// sleeping thread an extra trip through Tokio's park loop.
    pub reactor_receives: u64,
    /// Buffer registrations the kernel refused (e.g. over
    /// RLIMIT_MEMLOCK): the operations used unregistered memory, and
    /// receives buffers of their own.
    pub registrations_refused: u64,
    /// Rings that could not be set up on a thread while io_uring worked in
    /// the process (see [`ring_failures`](Metrics::ring_failures)).
    pub ring_setup_failures: u64,
    /// Bytes received into shardio's buffers (a ring's shared receive pool,
    /// or a connection's own buffer when the pool was empty) that their
    /// readers have not taken yet. A gauge: it falls as readers read. Each
    /// connection holds at most its receive limit (see
    /// [`recv_limit_hits`](Self::recv_limit_hits)); a buffer counts whole
    /// until its reader has taken all of it.
    pub recv_bytes_held: u64,
    /// Operations dropped in flight whose last completion has not arrived
    /// yet: the kernel is still cancelling them, and shardio keeps their
    /// buffers and fds alive until it is done. A gauge: it falls as the
    /// kernel lets go (operations leaked at a ring's shutdown, see the
    /// `shardio::driver` warning, stay counted).
    pub ops_orphaned: u64,
    /// Whether operations run on the fallback path.
    pub fallback_active: bool,
    /// Why, when `fallback_active`; its `Display` names the cause and the
    /// fix.
    pub fallback_reason: Option<FallbackReason>,
    /// Every ring alive, with its owner thread and async-worker placement.
    pub rings: Vec<RingInfo>,
    /// Threads alive whose ring could not be set up while other threads
    /// have theirs: their operations go to another ring of the same
    /// runtime, or take the fallback path while the runtime has none.
    /// (`fallback_active` stays false: io_uring is in use.)
    pub ring_failures: Vec<RingFailure>,
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
    /// Every scheduler device in use (a disk, one direction of a network
    /// interface), with what it holds now: requests in flight and queued,
    /// and the level of its token bucket when it has a model.
    pub devices: Vec<crate::sched::DeviceStats>,
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

/// A thread without a ring of its own, in [`Metrics::ring_failures`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RingFailure {
    /// The thread's name (or id).
    pub thread: String,
    /// Why its ring could not be set up; its `Display` names the fix.
    pub reason: FallbackReason,
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
        recv_pauses: c.recv_pauses,
        enter_retries: c.enter_retries,
        ops_resubmitted: c.ops_resubmitted,
        recv_no_buffers: c.recv_no_buffers,
        reactor_receives: c.reactor_receives,
        registrations_refused: c.registrations_refused,
        ring_setup_failures: c.ring_setup_failures,
        recv_bytes_held: c.recv_bytes_held,
        ops_orphaned: c.ops_orphaned,
        fallback_active: reason.is_some(),
        fallback_reason: reason,
        rings,
        ring_failures: driver::failed_rings()
            .into_iter()
            .map(|f| RingFailure {
                thread: f.thread,
                reason: f.reason,
            })
            .collect(),
        worker_groups,
        stalls: stall_stats(),
        classes: crate::sched::all_stats(),
        devices: crate::sched::all_devices(),
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
