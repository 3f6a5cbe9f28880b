//! The io_uring driver: one ring per runtime thread, the lifecycle of an
//! operation on it, reaping, probing and the fallback decision.

mod buf_ring;
mod buf_table;
mod fallback;
mod multishot;
mod op;
mod probe;
mod reaper;
mod ring;
mod slab;

pub(crate) use buf_ring::{BUF_GROUP, BufLease};
pub(crate) use buf_table::{MAX_POOL_BUFS, POOL_BASE};
pub(crate) use fallback::FallbackReason;
pub(crate) use multishot::{Multishot, MultishotKind};
pub(crate) use op::{Op, OpKind};
pub(crate) use probe::{global_fallback, probe};
pub(crate) use reaper::spawn_reaper;
pub(crate) use ring::Ring;
pub(crate) use slab::Cqe;
