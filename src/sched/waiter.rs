//! A request in a device's queue: waiting for dispatch, then granted until
//! its permit is dropped.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::Waker;

use super::class::ClassInner;
use crate::sync::model::Mutex;

/// How long a dispatched request occupies the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// Until its permit is dropped, when the operation completes: file
    /// operations awaited by the future that issued them.
    UntilDone,
    /// Not past dispatch: what it does next is not tied to a future that
    /// will surely be polled (a poll-based write submitted and left, a
    /// received chunk handed out), so it must not keep room in the device.
    Instant,
}

/// A request waiting in, or granted by, a device's queue.
pub(crate) struct Waiter {
    pub(super) state: Mutex<WaiterState>,
    pub(super) class: Arc<ClassInner>,
    pub(super) bytes: u64,
    pub(super) cost: u64,
    pub(super) queued_at: u64,
    /// Tokens it holds in the device bucket until it completes.
    pub(super) held: AtomicU64,
    pub(super) hold: Hold,
}

#[derive(Default)]
pub(super) struct WaiterState {
    pub(super) granted: bool,
    pub(super) cancelled: bool,
    pub(super) dispatched_at: u64,
    pub(super) waker: Option<Waker>,
}

impl Waiter {
    /// Whether the request was granted; if not, `waker` is woken when it is.
    pub(crate) fn poll_granted(&self, waker: &Waker) -> bool {
        let mut ws = self.state.lock();
        if ws.granted {
            return true;
        }
        match &mut ws.waker {
            Some(w) => w.clone_from(waker),
            None => ws.waker = Some(waker.clone()),
        }
        false
    }

    /// The future waiting for this request was dropped: returns whether it
    /// had been granted (the caller then owes a completion).
    pub(crate) fn cancel(&self) -> bool {
        let mut ws = self.state.lock();
        ws.cancelled = true;
        ws.waker = None;
        ws.granted
    }

    pub(super) fn dispatched_at(&self) -> u64 {
        self.state.lock().dispatched_at
    }
}
