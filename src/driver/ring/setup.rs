//! Creating a ring: queue sizes, task-run mode, SQ-poll placement, the
//! io-wq pool and the eventfd its completions signal.

use std::collections::VecDeque;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use io_uring::IoUring;

use super::{Inner, Ring};
use crate::driver::buf_table::BufTable;
use crate::driver::counters::counters;
use crate::driver::cpuset::cpu_set_of;
use crate::driver::eventfd;
use crate::driver::fault;
use crate::driver::handshake::Handshake;
use crate::driver::params::RingParams;
use crate::driver::placement::Placement;
use crate::driver::slab::Slab;
use crate::sync::Mutex;

fn next_ring_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Pins and bounds the io-wq pool this ring uses. An attached ring shares its
/// group's pool, already configured. Failures only cost isolation: logged.
fn configure_iowq(uring: &IoUring, params: &RingParams, placement: Placement) {
    let submitter = uring.submitter();
    if let Placement::Primary { cpu, .. } = placement {
        let set = cpu_set_of(&[cpu]);
        if let Err(e) = submitter.register_iowq_aff(&set) {
            tracing::warn!(target: "shardio::driver", error = %e, cpu, "could not pin the io-wq pool to its async-worker core");
        }
    }
    if let Placement::Attached { .. } = placement {
        return;
    }
    let mut limits = params.iowq_limits();
    if let Err(e) = submitter.register_iowq_max_workers(&mut limits) {
        tracing::debug!(target: "shardio::driver", error = %e, "could not bound the io-wq pool");
    }
}

impl Ring {
    /// Creates a ring as `config` says, with an eventfd registered for CQEs.
    pub(crate) fn new(params: &RingParams, placement: Placement) -> io::Result<Ring> {
        if let Some(e) = fault::ring_setup_error() {
            return Err(e);
        }
        let (sq_entries, cq_entries) = fault::ring_entries(params.sq_entries, params.cq_entries);
        let mut builder = IoUring::builder();
        builder.setup_cqsize(cq_entries).setup_clamp();
        let idle_ms = params.sq_poll_idle_ms();
        match placement {
            // COOP_TASKRUN: the kernel runs completion work (e.g. a multishot
            // receive) when this thread next enters the kernel, instead of
            // interrupting it with an IPI while it runs tasks; measured on the
            // echo benchmark it removed most of the socket-lock contention of
            // receiving (13.6 -> 4.3 µs of server CPU per request). The kernel
            // refuses it with SQPOLL, where the poll thread runs that work.
            Placement::Plain => {
                builder.setup_coop_taskrun().setup_taskrun_flag();
            }
            Placement::Primary { cpu, .. } => {
                builder.setup_sqpoll(idle_ms).setup_sqpoll_cpu(cpu as u32);
            }
            Placement::Attached { to, .. } => {
                builder.setup_sqpoll(idle_ms).setup_attach_wq(to);
            }
        }
        let uring = match builder.build(sq_entries) {
            // Kernels before 5.19 lack COOP_TASKRUN: a plain ring without it.
            Err(e)
                if e.raw_os_error() == Some(libc::EINVAL)
                    && matches!(placement, Placement::Plain) =>
            {
                IoUring::builder()
                    .setup_cqsize(cq_entries)
                    .setup_clamp()
                    .build(sq_entries)?
            }
            other => other?,
        };
        configure_iowq(&uring, params, placement);
        let eventfd = eventfd::new()?;
        uring.submitter().register_eventfd(eventfd.as_raw_fd())?;
        counters().ring_created();
        let thread = std::thread::current();
        Ok(Ring {
            inner: Mutex::new(Inner {
                uring,
                slab: Slab::new(),
                backlog: VecDeque::new(),
                storage_queued: 0,
                storage_batch: params.storage_submit_batch,
                buf_acct: None,
            }),
            eventfd,
            retired: AtomicBool::new(false),
            bufs: OnceLock::new(),
            buf_table: BufTable::default(),
            handshake: Handshake::default(),
            id: next_ring_id(),
            owner: thread
                .name()
                .map_or_else(|| format!("{:?}", thread.id()), str::to_owned),
            placement,
        })
    }
}
