//! `Multishot<T>`: one SQE, many CQEs (multishot accept, receive, poll).
//!
//! Same lifecycle as [`Op`](super::Op), except that the slot queues every CQE
//! until the stream takes it, and the operation ends with the first CQE that
//! lacks `IORING_CQE_F_MORE`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use io_uring::squeue;

use super::context::{self, Driver};
use super::counters::counters;
use super::fault;
use super::probe::probe;
use super::ring::Ring;
use super::slab::{Cqe, Held, Lifecycle, Orphaned};

/// A multishot operation.
///
/// # Safety
///
/// As for [`OpKind`](super::OpKind): every pointer in the SQE points at
/// memory owned by `self` that stays put and valid while `self` is alive.
pub(crate) unsafe trait MultishotKind: Send + Sized + 'static {
    /// One item of the stream.
    type Item;

    /// The io_uring opcode, to check the kernel supports it.
    const OPCODE: u8;

    /// The stream's consumer arms it again after an ECANCELED end it did
    /// not ask for (as after the kernel cancels it on its own), so a fault
    /// plan may race cancel requests against it.
    const REARMED_AFTER_CANCEL: bool = false;

    /// Builds the SQE for `ring`; `user_data` is set by the driver. An
    /// error (e.g. the ring has no provided buffers) ends the stream with it.
    fn sqe(&mut self, ring: &Ring) -> io::Result<squeue::Entry>;

    /// Turns one CQE from `ring` into an item (a negative result is usually
    /// an error).
    fn item(&mut self, cqe: Cqe, ring: &Arc<Ring>) -> io::Result<Self::Item>;

    /// A CQE for a dropped stream: release what it carries (e.g. close an
    /// accepted fd). Provided buffers are recycled by the driver. The
    /// default does nothing.
    fn orphaned(&mut self, cqe: Cqe) {
        let _ = cqe;
    }
}

/// The stream of a multishot operation. Ends after the kernel's final CQE;
/// the caller re-arms if it wants more (e.g. after `ENOBUFS`).
pub(crate) struct Multishot<T: MultishotKind> {
    data: Option<T>,
    armed: Option<(Arc<Ring>, usize)>,
    ended: bool,
    /// [`stop`](Multishot::stop) was called: the cancel request is out.
    stopping: bool,
    /// Arming failed in [`start`](Multishot::start): the stream's next item.
    failed: Option<io::Error>,
    /// Kept until the kernel's final CQE (see [`hold`](Multishot::hold)).
    held: Option<Held>,
}

impl<T: MultishotKind> Unpin for Multishot<T> {}

impl<T: MultishotKind> Multishot<T> {
    pub(crate) fn new(data: T) -> Self {
        Multishot {
            data: Some(data),
            armed: None,
            ended: false,
            stopping: false,
            failed: None,
            held: None,
        }
    }

    /// Keeps `guard` alive until the kernel's final CQE, even if the stream
    /// is dropped before it (as [`Op::hold`](super::Op::hold)). `None`
    /// holds nothing.
    pub(crate) fn hold<G: Send + Sync + 'static>(mut self, guard: Option<G>) -> Self {
        if let Some(guard) = guard {
            self.held = Some(Box::new(guard));
        }
        self
    }

    /// Arms the operation on the current thread's ring.
    fn arm(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let ring = match context::current()? {
            Driver::Ring(ring) if probe().supports(T::OPCODE) => ring,
            _ => {
                counters().op_fallback();
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "shardio: this multishot operation needs io_uring, which is not in use here",
                ));
            }
        };
        let Some(data) = self.data.as_mut() else {
            unreachable!("multishot data is present until the stream is dropped")
        };
        let sqe = data.sqe(&ring)?;
        let lifecycle = Lifecycle::Streaming {
            waker: Some(cx.waker().clone()),
            queue: Default::default(),
            finished: false,
        };
        // SAFETY: by `MultishotKind`'s contract the SQE points into `data`'s
        // stable memory, kept here or in the slot until the final CQE.
        let (index, _) = unsafe { ring.push(sqe, lifecycle, false) };
        if T::REARMED_AFTER_CANCEL && fault::cancel_race() {
            ring.race_cancel(index);
        }
        context::flush_or_defer(&ring);
        self.armed = Some((ring, index));
        Ok(())
    }
}

impl<T: MultishotKind> Multishot<T> {
    /// Takes the operation's data back once the stream has ended (the
    /// kernel is done with it); `None` while it may still be in use.
    pub(crate) fn into_data(mut self) -> Option<T> {
        if self.armed.is_some() {
            return None;
        }
        self.data.take()
    }

    /// The operation's data (e.g. to re-arm a like one).
    pub(crate) fn data_ref(&self) -> &T {
        match &self.data {
            Some(data) => data,
            None => unreachable!("multishot data is present until the stream is dropped"),
        }
    }

    /// Arms the operation now, before anyone polls the stream (its items
    /// wait in the slot; `cx`'s task is woken when one arrives). An arming
    /// error is the stream's next item.
    pub(crate) fn start(&mut self, cx: &mut Context<'_>) {
        if self.armed.is_none() && !self.ended && self.failed.is_none() {
            if let Err(e) = self.arm(cx) {
                self.failed = Some(e);
            }
        }
    }

    /// Asks the kernel to end the operation now (submitted at once, once
    /// however often it is called); the stream then yields what was
    /// already received and ends, usually with an `ECANCELED` item.
    pub(crate) fn stop(&mut self) {
        if self.stopping {
            return;
        }
        if let Some((ring, index)) = &self.armed {
            self.stopping = true;
            ring.cancel_in_place(*index);
        }
    }

    /// Whether [`stop`](Multishot::stop) asked the kernel to end it (an
    /// `ECANCELED` end is then this stream's own).
    pub(crate) fn stopping(&self) -> bool {
        self.stopping
    }

    /// Drops the stream like `drop`, but submits the cancel request now
    /// rather than with the next batch: for an fd handed back to its owner
    /// (`AsyncFd::into_inner`), which may close it right after.
    pub(crate) fn cancel_now(mut self) {
        if let (Some((ring, index)), Some(data)) = (self.armed.take(), self.data.take()) {
            let orphan = Orphaned::new(data, T::orphaned, self.held.take());
            ring.cancel(index, Box::new(orphan), true);
        }
    }
}

impl<T: MultishotKind> Stream for Multishot<T> {
    type Item = io::Result<T::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        if let Some(e) = this.failed.take() {
            this.ended = true;
            return Poll::Ready(Some(Err(e)));
        }
        if this.armed.is_none() {
            if let Err(e) = this.arm(cx) {
                this.ended = true;
                return Poll::Ready(Some(Err(e)));
            }
        }
        let Some((ring, index)) = &this.armed else {
            unreachable!()
        };
        match ring.poll_next(*index, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.armed = None;
                this.ended = true;
                this.held = None;
                Poll::Ready(None)
            }
            Poll::Ready(Some(cqe)) => {
                let Some(data) = this.data.as_mut() else {
                    unreachable!()
                };
                Poll::Ready(Some(data.item(cqe, ring)))
            }
        }
    }
}

impl<T: MultishotKind> Drop for Multishot<T> {
    fn drop(&mut self) {
        if let (Some((ring, index)), Some(data)) = (self.armed.take(), self.data.take()) {
            let orphan = Orphaned::new(data, T::orphaned, self.held.take());
            ring.cancel(index, Box::new(orphan), false);
            context::flush_or_defer(&ring);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::{AsFd, AsRawFd, OwnedFd};

    use futures::StreamExt;
    use io_uring::{opcode, types};

    use super::*;

    /// A multishot `POLL_ADD` on an eventfd: one CQE per readiness edge.
    struct PollReadable(OwnedFd);

    // SAFETY: a poll SQE carries no pointers.
    unsafe impl MultishotKind for PollReadable {
        type Item = u32;
        const OPCODE: u8 = opcode::PollAdd::CODE;

        fn sqe(&mut self, _ring: &Ring) -> io::Result<squeue::Entry> {
            Ok(
                opcode::PollAdd::new(types::Fd(self.0.as_raw_fd()), libc::POLLIN as u32)
                    .multi(true)
                    .build(),
            )
        }

        fn item(&mut self, cqe: Cqe, _ring: &Arc<Ring>) -> io::Result<u32> {
            cqe.into_result()
        }
    }

    fn eventfd() -> OwnedFd {
        crate::driver::eventfd::new().expect("eventfd")
    }

    fn signal(fd: &OwnedFd) {
        crate::driver::eventfd::signal(fd.as_fd()).expect("eventfd write");
    }

    fn consume(fd: &OwnedFd) {
        let mut value = 0u64;
        // SAFETY: reads 8 bytes into a local from an open eventfd.
        let n = unsafe { libc::read(fd.as_raw_fd(), (&raw mut value).cast(), 8) };
        assert_eq!(n, 8);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn multishot_poll_yields_one_item_per_event_and_cancels_on_drop() {
        if crate::driver::probe::global_fallback().is_some() {
            // Multishot needs io_uring; on the fallback path it must say so.
            let fd = eventfd();
            let mut stream = Multishot::new(PollReadable(fd));
            let err = stream.next().await.expect("an error item").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::Unsupported);
            assert!(stream.next().await.is_none());
            return;
        }
        let fd = eventfd();
        let dup = fd.try_clone().unwrap();
        let cancelled_before = counters().values().ops_cancelled;
        let mut stream = Multishot::new(PollReadable(fd));
        for _ in 0..3 {
            signal(&dup);
            let revents = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
                .await
                .expect("multishot poll event within 10 s")
                .expect("stream still armed")
                .expect("poll result");
            assert_ne!(revents & libc::POLLIN as u32, 0);
            consume(&dup);
        }
        drop(stream);
        assert!(counters().values().ops_cancelled > cancelled_before);
    }
}
