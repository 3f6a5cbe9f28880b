//! What a stream's receive side holds for its reader: the armed receive,
//! the received bytes not yet read, and where the reader is in them.
//! Received bytes count in `metrics().recv_bytes_held` until read.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tokio::io::ReadBuf;

use crate::driver::{BufLease, Multishot, Op, counters};
use crate::ops::recv::Recv;
use crate::ops::recv_multi::{Received, RecvMulti};
use crate::sched::Admit;

use super::ready_recv::ReadyRecv;

#[derive(Default)]
pub(super) struct ReadState {
    /// The armed multishot receive, if any.
    pub(super) recv: Option<Multishot<RecvMulti>>,
    /// Received bytes not yet handed to the reader, and how far it got.
    pub(super) current: Option<(Pending, usize)>,
    /// A single-shot receive, used when the provided buffers ran out.
    pub(super) single: Option<Box<Op<Recv<Vec<u8>>>>>,
    /// The kernel cannot do multishot receives with provided buffers here.
    pub(super) no_multishot: bool,
    pub(super) eof: bool,
    /// The last read found nothing: the stream is not readable until bytes
    /// (or end of stream) arrive. Until a read finds nothing, the stream
    /// counts as readable, as Tokio's do.
    pub(super) drained: bool,
    /// What only some streams' receives keep (a scheduled stream's
    /// charges, a stream on a mostly parked thread its registration with
    /// Tokio's reactor); boxed, so that the others (and every idle
    /// connection) pay one pointer for it.
    pub(super) extra: Option<Box<ReadExtra>>,
}

/// The rarely used part of a stream's receive state (see
/// [`ReadState::extra`]).
#[derive(Default)]
pub(super) struct ReadExtra {
    /// The scheduler's charge for `current`, received but not handed out
    /// until the receive side dispatches it (post-paid receives).
    pub(super) charge: Option<Box<Admit>>,
    /// When a charge last had to wait (its class was over its share of
    /// the receive side): for [`HOLD_BACK`] after it, the receive is armed
    /// for a little at a time, so that what waits for the class's turn
    /// stays in the kernel's socket buffer rather than in the ring's
    /// shared pool.
    pub(super) waited_at: Option<Instant>,
    /// The receive's next items, taken while the reader still had
    /// `current` (see [`Ahead`]).
    pub(super) ahead: VecDeque<Ahead>,
    /// The socket's registration with Tokio's reactor, once the stream
    /// received through it (see `ready_recv`); kept until the stream ends
    /// or is handed back.
    pub(super) ready: Option<ReadyRecv>,
    /// Registering failed (no reactor): the stream keeps the ring's
    /// receive.
    pub(super) no_ready: bool,
}

impl ReadExtra {
    /// Whether a charge waited within [`HOLD_BACK`].
    pub(super) fn held_back(&self) -> bool {
        self.waited_at.is_some_and(|at| at.elapsed() < HOLD_BACK)
    }
}

/// What a scheduled stream took from its receive ahead of its reader: a
/// chunk, already charged, so that its class keeps requests in the
/// receive side's queue while the reader works on the current one (with
/// one request at a time, a class whose reader takes a while between reads
/// drops out of the queue after each and loses its share), or the item
/// that ended the receive, kept for its turn.
pub(super) enum Ahead {
    Chunk(BufLease, Option<Box<Admit>>),
    Item(Option<std::io::Result<Received>>),
}

impl Ahead {
    /// Received bytes it holds.
    fn len(&self) -> usize {
        match self {
            Ahead::Chunk(lease, _) | Ahead::Item(Some(Ok(Received::Data(lease, _)))) => lease.len(),
            Ahead::Item(_) => 0,
        }
    }
}

/// Received bytes waiting for the reader.
pub(super) enum Pending {
    /// In a provided buffer of the ring's pool (counted as held by the
    /// pool's accounting).
    Lease(BufLease),
    /// In the connection's own buffer, from a single-shot receive.
    Owned(OwnedRecv),
}

impl Pending {
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Pending::Lease(lease) => lease.bytes(),
            Pending::Owned(owned) => &owned.0,
        }
    }
}

/// The buffer of a single-shot receive, counted as held until dropped.
pub(super) struct OwnedRecv(Vec<u8>);

impl OwnedRecv {
    pub(super) fn new(vec: Vec<u8>) -> OwnedRecv {
        counters().recv_held(vec.len() as u64);
        OwnedRecv(vec)
    }
}

impl Drop for OwnedRecv {
    fn drop(&mut self) {
        counters().recv_released(self.0.len() as u64);
    }
}

/// How long a stream stays held back after a charge of its receive had to
/// wait. Held back per charge instead (after a charge that waited, not
/// after one that went through at once), a contending stream's armings
/// flipped between held back and whole at almost every charge, each flip
/// a paused receive (cancel, re-arm): 111-440 pauses in 3.5 s for two
/// classes of two downloads each, against 4 (one per stream) with this.
pub(super) const HOLD_BACK: Duration = Duration::from_secs(1);

impl ReadState {
    /// Whether a charge waited within [`HOLD_BACK`].
    pub(super) fn held_back(&self) -> bool {
        self.extra.as_ref().is_some_and(|p| p.held_back())
    }

    /// Sets the charge for `current` (none when the scheduler is off, and
    /// then nothing is allocated).
    pub(super) fn set_charge(&mut self, charge: Option<Box<Admit>>) {
        if charge.is_some() || self.extra.is_some() {
            self.extra.get_or_insert_default().charge = charge;
        }
    }

    /// Copies received bytes into `buf` (consuming them if `consume`);
    /// returns how many. Copies nothing at end of stream.
    pub(super) fn copy_out(&mut self, buf: &mut ReadBuf<'_>, consume: bool) -> usize {
        let Some((pending, pos)) = &mut self.current else {
            return 0;
        };
        let bytes = &pending.bytes()[*pos..];
        let n = bytes.len().min(buf.remaining());
        buf.put_slice(&bytes[..n]);
        if consume {
            *pos += n;
            if *pos == pending.bytes().len() {
                self.current = None;
            }
        }
        n
    }

    /// The armed receive has ended (its final CQE was taken): drops it,
    /// counting a receive that reached its limit (one this stream stopped
    /// itself, a pause, is not counted).
    pub(super) fn arming_ended(&mut self) {
        if let Some(recv) = self.recv.take() {
            if !recv.stopping() {
                counters().recv_limit_hit();
            }
        }
    }

    /// Bytes received and not yet read, of those already handed over by
    /// the receive (for `into_std`'s count).
    pub(super) fn unread(&self) -> usize {
        let current = self
            .current
            .as_ref()
            .map_or(0, |(pending, pos)| pending.bytes().len() - pos);
        let ahead = self
            .extra
            .as_ref()
            .map_or(0, |p| p.ahead.iter().map(Ahead::len).sum::<usize>());
        current + ahead
    }
}
