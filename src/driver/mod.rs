//! The io_uring driver: one ring per runtime thread, the lifecycle of an
//! operation on it, reaping, probing and the fallback decision.

mod fallback;
// The first users of multishot (accept, receive) arrive with `shardio::net`;
// until then its unit tests are its users.
#[cfg_attr(not(test), allow(dead_code))]
mod multishot;
mod op;
mod probe;
mod reaper;
mod ring;
mod slab;

pub(crate) use fallback::FallbackReason;
pub(crate) use op::{Op, OpKind};
pub(crate) use slab::Cqe;
pub(crate) use probe::{global_fallback, probe};
pub(crate) use reaper::spawn_reaper;
pub(crate) use ring::Ring;
