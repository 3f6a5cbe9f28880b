//! `Op<T>`: the future of one io_uring operation.
//!
//! Life of an op: *unsubmitted* (created, not polled) → first poll pushes the
//! SQE on the ring of the polling thread → *in flight* (a slot in that ring;
//! the op keeps the `Arc<Ring>`, so the task may migrate) → the CQE moves the
//! slot to *completed* and wakes the task → the next poll takes the result.
//! Dropped in flight, the op moves its data (buffers, fds) into the slot and
//! asks the kernel to cancel; the slot frees the data when the last CQE comes.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};

use io_uring::squeue;
use tokio::task::JoinHandle;

use super::blocking::{self, CancelSignal};
use super::context::{self, Driver};
use super::counters::counters;
use super::fault;
use super::probe::probe;
use super::ring::Ring;
use super::slab::{Cqe, Held, Lifecycle, Orphaned};
use crate::sync::Mutex;

/// An operation that runs on io_uring, or on the fallback path.
///
/// # Safety
///
/// Every pointer that [`sqe`](OpKind::sqe) writes into the entry must point at
/// memory owned by `self` that does not move when `self` moves (heap or static
/// memory) and stays valid as long as `self` is alive. The driver keeps `self`
/// alive until the operation's last CQE.
pub(crate) unsafe trait OpKind: Send + Sized + 'static {
    /// What the future resolves to.
    type Output: Send + 'static;

    /// The io_uring opcode, to check the kernel supports it.
    const OPCODE: u8;

    /// Run [`blocking`](OpKind::blocking) inline instead of on the blocking
    /// pool (for operations that do not block, like a nop).
    const INLINE_FALLBACK: bool = false;

    /// Submit the operation again, unchanged, when the kernel cancels it
    /// without shardio asking (its future still waits, so shardio did not
    /// cancel it): ECANCELED means it did not run, and the kernel cancels
    /// work on its own, e.g. when a thread that submitted it exits. False
    /// where running it again after a cancellation is not the same
    /// operation (a connect, whose socket may be mid-connection).
    const RESUBMIT_CANCELLED: bool = true;

    /// Its [`blocking`](OpKind::blocking) form waits for the fd's readiness
    /// ([`wait_for`](super::wait_for)), possibly for ever: on the fallback
    /// path it gets a cancel signal that ends the wait when the future is
    /// dropped.
    const WAITS: bool = false;

    /// Storage reads and writes: submitted within a few requests of being
    /// pushed rather than at the end of the worker's batch (see
    /// [`Ring::push`]).
    const STORAGE: bool = false;

    /// Readies `ring` for this operation before [`sqe`](OpKind::sqe) (e.g.
    /// registers fixed buffers); an error sends the operation down the
    /// fallback path instead. The default does nothing.
    fn prepare(&mut self, ring: &Ring) -> io::Result<()> {
        let _ = ring;
        Ok(())
    }

    /// Builds the SQE; `user_data` is set by the driver.
    fn sqe(&mut self) -> squeue::Entry;

    /// Turns the CQE into the output.
    fn complete(self, cqe: Cqe) -> Self::Output;

    /// Performs the operation with blocking system calls (the fallback path).
    fn blocking(self) -> Self::Output;

    /// The output for an operation that could not be started.
    fn fail(self, err: io::Error) -> Self::Output;

    /// The op's future was dropped and its CQE arrived anyway: release what
    /// the result carries (e.g. close an opened fd). The default does nothing.
    fn orphaned(&mut self, cqe: Cqe) {
        let _ = cqe;
    }
}

/// The future of one operation.
pub(crate) struct Op<T: OpKind> {
    state: State<T>,
    /// Kept until the kernel is done with the operation, even if this
    /// future is dropped first (see [`hold`](Op::hold)).
    held: Option<Held>,
}

enum State<T: OpKind> {
    Unsubmitted(T),
    InFlight {
        ring: Arc<Ring>,
        index: usize,
        data: T,
    },
    Blocking {
        /// The data until the blocking closure takes it; left in place if the
        /// blocking pool shut down before running the closure.
        data: Arc<Mutex<Option<T>>>,
        handle: JoinHandle<Option<T::Output>>,
        /// Ends the closure's wait when this future is dropped (`WAITS` ops).
        cancel: Option<Arc<CancelSignal>>,
    },
    Done,
}

// `Op` never hands out a pinned reference to `T`; the memory the kernel
// uses is on the heap (see `OpKind`), so moving an `Op` is harmless.
impl<T: OpKind> Unpin for Op<T> {}

impl<T: OpKind> Op<T> {
    pub(crate) fn new(data: T) -> Self {
        Op {
            state: State::Unsubmitted(data),
            held: None,
        }
    }

    /// Keeps `guard` alive until the operation is over for the kernel: its
    /// completion arrived, or (dropped in flight) its last CQE did, or (on
    /// the fallback path) the blocking call returned. For a scheduler
    /// permit, that keeps the device counted busy while it is. `None` holds
    /// nothing.
    pub(crate) fn hold<G: Send + Sync + 'static>(mut self, guard: Option<G>) -> Self {
        if let Some(guard) = guard {
            self.held = Some(Box::new(guard));
        }
        self
    }

    /// First poll: choose the path and start the operation.
    fn start(&mut self, data: T, cx: &mut Context<'_>) -> Option<T::Output> {
        let ring = match context::current() {
            Err(e) => return Some(data.fail(e)),
            Ok(Driver::Ring(ring)) if probe().supports(T::OPCODE) => ring,
            Ok(_) => return self.start_fallback(data),
        };
        let mut data = data;
        if let Err(e) = data.prepare(&ring) {
            tracing::debug!(error = %e, "shardio: operation runs on the fallback path");
            return self.start_fallback(data);
        }
        let sqe = data.sqe();
        // A no-op waker (a send nobody waits for yet) is not kept: its
        // completion then wakes nobody, not even the reaper to deliver it.
        let waker = (!cx.waker().will_wake(Waker::noop())).then(|| cx.waker().clone());
        // SAFETY: by `OpKind`'s contract the SQE points into `data`'s stable
        // memory; `data` stays in this op until the CQE is taken, or moves to
        // the ring's slot (keeping the memory in place) if the op is dropped.
        let (index, submit_now) = unsafe { ring.push(sqe, Lifecycle::Waiting(waker), T::STORAGE) };
        if T::RESUBMIT_CANCELLED && fault::cancel_race() {
            ring.race_cancel(index);
        }
        if submit_now {
            ring.submit_only();
        } else {
            context::flush_or_defer(&ring);
        }
        self.state = State::InFlight { ring, index, data };
        None
    }

    fn start_fallback(&mut self, data: T) -> Option<T::Output> {
        counters().op_fallback();
        if T::INLINE_FALLBACK {
            return Some(data.blocking());
        }
        let cancel = match T::WAITS.then(CancelSignal::new).transpose() {
            Ok(cancel) => cancel.map(Arc::new),
            Err(e) => return Some(data.fail(e)),
        };
        let shared = Arc::new(Mutex::new(Some(data)));
        let taken = Arc::clone(&shared);
        let held = self.held.take();
        let signal = cancel.clone();
        let handle = tokio::task::spawn_blocking(move || {
            let data = taken.lock().take();
            let out = blocking::run_with(signal.as_deref(), || data.map(OpKind::blocking));
            drop(held);
            out
        });
        self.state = State::Blocking {
            data: shared,
            handle,
            cancel,
        };
        None
    }
}

impl<T: OpKind> Future for Op<T> {
    type Output = T::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Output> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Unsubmitted(_) => {
                    let State::Unsubmitted(data) = std::mem::replace(&mut this.state, State::Done)
                    else {
                        unreachable!()
                    };
                    if let Some(out) = this.start(data, cx) {
                        return Poll::Ready(out);
                    }
                }
                State::InFlight { ring, index, .. } => {
                    let cqe = ready!(ring.poll_complete(*index, cx));
                    let State::InFlight { data, .. } =
                        std::mem::replace(&mut this.state, State::Done)
                    else {
                        unreachable!()
                    };
                    if T::RESUBMIT_CANCELLED && cqe.result == -libc::ECANCELED {
                        // Not cancelled by shardio (a dropped op is never
                        // polled): the kernel's own doing, and it did not run.
                        counters().op_resubmitted();
                        this.state = State::Unsubmitted(data);
                        continue;
                    }
                    this.held = None;
                    return Poll::Ready(data.complete(cqe));
                }
                State::Blocking { data, handle, .. } => {
                    let joined = ready!(Pin::new(handle).poll(cx));
                    let data = Arc::clone(data);
                    this.state = State::Done;
                    return Poll::Ready(match joined {
                        Ok(Some(out)) => out,
                        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                        // The closure never ran: the blocking pool is shutting down.
                        _ => match data.lock().take() {
                            Some(data) => data.fail(io::Error::other(
                                "shardio: the runtime's blocking pool shut down before this \
                                 operation could run on it",
                            )),
                            None => {
                                unreachable!("blocking closure took the data but returned none")
                            }
                        },
                    });
                }
                State::Done => panic!("shardio operation polled after it completed"),
            }
        }
    }
}

impl<T: OpKind> Drop for Op<T> {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::InFlight { ring, index, data } => {
                let orphan = Orphaned::new(data, T::orphaned, self.held.take());
                ring.cancel(index, Box::new(orphan), false);
                context::flush_or_defer(&ring);
            }
            State::Blocking {
                cancel: Some(cancel),
                ..
            } => cancel.fire(),
            _ => {}
        }
    }
}
