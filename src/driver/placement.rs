//! How a ring is placed: plain, or on an async-worker core as the first
//! ring of its group or attached to one.

use std::os::fd::RawFd;

/// How a new ring is set up.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Placement {
    /// No SQ-poll thread: submission by `io_uring_enter` from the owner.
    Plain,
    /// The first ring of a group: SQ-poll thread and io-wq pinned to `cpu`.
    Primary { cpu: usize, group: u64 },
    /// Shares the SQ-poll thread and io-wq of the ring whose fd is `to`.
    Attached { cpu: usize, group: u64, to: RawFd },
}

impl Placement {
    pub(crate) fn cpu(&self) -> Option<usize> {
        match self {
            Placement::Plain => None,
            Placement::Primary { cpu, .. } | Placement::Attached { cpu, .. } => Some(*cpu),
        }
    }

    pub(crate) fn group(&self) -> Option<u64> {
        match self {
            Placement::Plain => None,
            Placement::Primary { group, .. } | Placement::Attached { group, .. } => Some(*group),
        }
    }
}
