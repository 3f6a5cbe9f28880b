//! The write side of [`UringStream`]: a non-blocking `sendmsg` straight
//! from the caller's buffers, charged to the transmit side of the socket's
//! interface first (at most a latency goal's worth where it has a model), and a
//! wait on the ring (`POLL_ADD`) for room when the send buffer is full.

use std::future::Future;
use std::io::{self, IoSlice};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};

use super::sendmsg::{WRITE_CHUNK, send_vectored};
use super::stream_io::{UringStream, WriteState};
use crate::driver::Op;
use crate::ops::poll::PollAdd;
use crate::sched::{Dir, Hold};

impl UringStream {
    /// Waits for room in the send buffer if a send found it full; Ready at
    /// once otherwise (the next send may still find it full).
    fn poll_room(&self, st: &mut WriteState, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(op) = &mut st.writable {
            let res = ready!(Pin::new(op).poll(cx));
            st.writable = None;
            // POLLERR/POLLHUP count as ready: the next send reports them.
            res?;
        }
        Poll::Ready(Ok(()))
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(data)])
    }

    /// Sends what the socket's buffer takes now (at most [`WRITE_CHUNK`]),
    /// charged to the transmit side first; waits on the ring for room when
    /// the buffer is full. Ready(Ok(n)): the kernel has the `n` bytes.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let coop = ready!(tokio::task::coop::poll_proceed(cx));
        let mut st = self.write.lock();
        loop {
            ready!(self.poll_room(&mut st, cx))?;
            // On a device with a model, a send is at most what the bucket
            // passes within the latency goal (under a millisecond of the
            // link): the link's queues then hold little more than what the
            // scheduler let through, so another class's sends do not wait
            // behind a burst.
            let paced = self.sched.net_send_len(self.fd.as_fd(), Dir::Write);
            if let Some(len) = paced {
                let state = st.paced.get_or_insert_default();
                if state.unsent_bound.is_none() {
                    // And what the socket holds unsent is bounded by a few
                    // such sends, so that a model faster than the link
                    // does not fill the socket's buffer instead.
                    state.unsent_bound = Some(super::unsent::bound(self.fd.as_fd(), len));
                }
            }
            let part = paced.unwrap_or(WRITE_CHUNK);
            let want = bufs
                .iter()
                .map(|b| b.len())
                .sum::<usize>()
                .min(WRITE_CHUNK)
                .min(part);
            // Charged before it is sent; until dispatched nothing is sent
            // (the caller's bytes stay with the caller). The permit is
            // returned at once: the bytes leave the process with the send
            // below. With the scheduler off there is nothing to pay, and
            // no state is kept.
            let credit = st.paced.as_ref().map_or(0, |p| p.credit);
            if credit < want && st.paced.as_ref().is_none_or(|p| p.admit.is_none()) {
                let need = want - credit;
                if let Some(admit) =
                    self.sched
                        .admit_net(self.fd.as_fd(), Dir::Write, need, Hold::Instant)
                {
                    st.paced.get_or_insert_default().admit = Some((admit, need));
                }
            }
            if credit < want
                && let Some(state) = st.paced.as_mut()
                && let Some((admit, need)) = &mut state.admit
            {
                let need = *need;
                drop(ready!(Pin::new(admit).poll(cx)));
                state.admit = None;
                state.credit += need;
            }
            match send_vectored(&self.fd, bufs, want.max(1)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Paid for already: the retry is not charged again.
                    st.writable = Some(Box::new(Op::new(PollAdd {
                        sock: Arc::clone(&self.fd),
                        events: libc::POLLOUT,
                    })));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                res => {
                    if let (Ok(n), Some(state)) = (&res, st.paced.as_mut()) {
                        state.credit = state.credit.saturating_sub(*n);
                    }
                    coop.made_progress();
                    return Poll::Ready(res);
                }
            }
        }
    }

    /// Ready when a write may be accepted at once: no send found the
    /// buffer full since the socket last had room. (Like Tokio's, it may be
    /// a false positive: the next write can still wait.)
    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.write.lock();
        self.poll_room(&mut st, cx)
    }

    /// Writes what the socket takes now, or fails with `WouldBlock`.
    pub(crate) fn try_write(&self, data: &[u8]) -> io::Result<usize> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.poll_write(&mut cx, data) {
            Poll::Ready(res) => res,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Nothing to flush: a write returns once the kernel has its bytes.
    pub(crate) fn poll_flush(&self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Flushes, then shuts the write direction down (FIN after the data).
    pub(crate) fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_flush(cx))?;
        Poll::Ready(self.shutdown(std::net::Shutdown::Write))
    }

    pub(crate) fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        super::direct::shutdown_fd(self.fd.as_fd(), how)
    }
}
