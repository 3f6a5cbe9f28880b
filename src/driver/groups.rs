//! Async-worker groups: which rings share an SQ-poll thread and an io-wq
//! pool, and on which core those run.
//!
//! `n = min(runtime threads, |cpuset|)` groups; rings join them round robin
//! in creation order. The first live ring of a group was created with
//! `SQPOLL | SQ_AFF` on the group's core; the others attach to any live
//! member with `ATTACH_WQ`. A group whose members all died starts again with
//! a new primary ring, so rings created late (threads that become workers
//! after `block_in_place`, blocking-pool threads) still land on the cores.

use std::io;
use std::sync::{Arc, Weak};

use tokio::runtime::Handle;

use super::cpuset::CpuSet;
use super::params::RingParams;
use super::placement::Placement;
use super::ring::Ring;
use crate::sync::Mutex;

/// The groups of one runtime.
pub(crate) struct WorkerGroups {
    cpus: CpuSet,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Fixed by the first ring: `min(runtime threads, |cpuset|)`.
    count: usize,
    next: usize,
    groups: Vec<Group>,
    /// Set when the kernel refused SQ polling: every later ring is plain.
    refused: bool,
}

struct Group {
    id: u64,
    members: Vec<Weak<Ring>>,
}

fn next_group_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl WorkerGroups {
    pub(crate) fn new(cpus: CpuSet) -> WorkerGroups {
        WorkerGroups {
            cpus,
            state: Mutex::new(State::default()),
        }
    }

    /// Creates the next ring of the runtime `handle` in its group.
    pub(crate) fn create_ring(
        &self,
        handle: &Handle,
        params: &RingParams,
    ) -> io::Result<Arc<Ring>> {
        let mut state = self.state.lock();
        if state.refused {
            return Ring::new(params, Placement::Plain).map(Arc::new);
        }
        if state.count == 0 {
            let threads = handle.metrics().num_workers().max(1);
            state.count = threads.min(self.cpus.len());
            state.groups = (0..state.count)
                .map(|_| Group {
                    id: next_group_id(),
                    members: Vec::new(),
                })
                .collect();
        }
        let index = state.next % state.count;
        state.next += 1;
        let cpu = self.cpus.cpus()[index];
        let group = &mut state.groups[index];
        group.members.retain(|w| w.strong_count() > 0);
        let attach_to = group.members.iter().find_map(Weak::upgrade);
        let ring = match &attach_to {
            Some(member) => {
                let placement = Placement::Attached {
                    cpu,
                    group: group.id,
                    to: member.ring_fd(),
                };
                // `member` is alive (held here), so its fd is valid.
                Ring::new(params, placement).or_else(|e| {
                    tracing::warn!(
                        target: "shardio::driver",
                        error = %e,
                        cpu,
                        "attaching a ring to its async-worker group failed; it gets its own SQ-poll thread"
                    );
                    Ring::new(params, Placement::Primary { cpu, group: group.id })
                })
            }
            None => Ring::new(
                params,
                Placement::Primary {
                    cpu,
                    group: group.id,
                },
            ),
        };
        match ring {
            Ok(ring) => {
                let ring = Arc::new(ring);
                group.members.push(Arc::downgrade(&ring));
                Ok(ring)
            }
            Err(e) => {
                state.refused = true;
                tracing::warn!(
                    target: "shardio::driver",
                    error = %e,
                    cpuset = %self.cpus,
                    "the kernel refused an SQ-poll ring on the async-worker cores; shardio uses \
                     plain rings (kernel work stays on the application cores). SQPOLL needs \
                     Linux 5.11+ (or CAP_SYS_NICE before it) and SQ_AFF a CPU this process may use"
                );
                Ring::new(params, Placement::Plain).map(Arc::new)
            }
        }
    }
}
