//! The io_uring driver: rings and everything about them.
//!
//! One ring per (thread, runtime), created lazily ([`context`]) from the
//! runtime's [`RingParams`], placed on async-worker cores when configured
//! ([`placement`]); the life of an operation on it ([`Op`], [`Multishot`],
//! the slot table); the reaper task that delivers completions; the probe
//! and the fallback decision; provided and registered buffers; and the
//! low-level counters `metrics()` reads.

mod blocking;
mod buf_lease;
mod buf_ring;
mod buf_table;
mod context;
mod counters;
mod cpuset;
mod eventfd;
mod fallback;
pub(crate) mod fault;
mod groups;
mod handshake;
pub(crate) mod idle;
mod live;
mod multishot;
mod op;
mod params;
mod placement;
mod probe;
mod reaper;
mod registry;
mod ring;
mod slab;
mod slot;
mod wakers;

pub(crate) use blocking::wait_for;
pub(crate) use buf_lease::BufLease;
pub(crate) use buf_ring::BUF_GROUP;
pub(crate) use buf_table::POOL_BASE;
pub(crate) use context::{fallback_reason, flush_thread, io_uring_active, release_thread};
cfg_unstable! {
    pub(crate) use context::{enter_task_poll, exit_task_poll};
}
pub(crate) use counters::counters;
pub(crate) use cpuset::CpuSet;
pub use fallback::FallbackReason;
pub(crate) use live::{LiveRing, failed_rings, live_rings};
pub(crate) use multishot::{Multishot, MultishotKind};
pub(crate) use op::{Op, OpKind};
pub(crate) use params::RingParams;
pub(crate) use registry::RuntimeRings;
pub(crate) use ring::Ring;
pub(crate) use slab::Cqe;
