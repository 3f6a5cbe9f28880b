//! The reactor side of a stream's receive (see `ready_recv`): when a read
//! goes through Tokio's reactor instead of the ring, and the reads that do.

use std::io;
use std::mem::MaybeUninit;
use std::task::{Context, Poll, ready};

use tokio::io::ReadBuf;

use super::read_state::{OwnedRecv, Pending, ReadExtra, ReadState};
use super::ready_recv::{RECV_MAX, ReadyRecv};
use super::stream_io::UringStream;

/// Whether a stream on this thread should receive through Tokio's reactor
/// now: the thread mostly parks between receives, and the scheduler is off
/// (its receive charges work on the ring's receive).
fn reactor_wanted() -> bool {
    !crate::sched::active() && crate::driver::idle::mostly_parked()
}

impl UringStream {
    /// Whether a stream waiting on the ring's receive should end it and
    /// move to Tokio's reactor: its thread mostly parks between receives,
    /// and its socket could be registered (or was not tried yet).
    pub(super) fn leave_ring(extra: Option<&ReadExtra>) -> bool {
        reactor_wanted() && !extra.is_some_and(|e| e.no_ready)
    }

    /// Whether a read with nothing held goes through Tokio's reactor now,
    /// straight into the caller's buffer.
    pub(super) fn reads_on_reactor(&self, st: &mut ReadState) -> bool {
        st.current.is_none()
            && !st.eof
            && st.recv.is_none()
            && st.single.is_none()
            && !st.no_multishot
            && self.receives_on_reactor(st)
    }

    /// Whether the next receive waits on Tokio's reactor (see
    /// `ready_recv`), registering the socket there the first time. Once the
    /// thread is busy again the stream returns to the ring's receive and
    /// the registration is dropped.
    pub(super) fn receives_on_reactor(&self, st: &mut ReadState) -> bool {
        if !reactor_wanted() {
            if let Some(extra) = st.extra.as_mut() {
                extra.ready = None;
            }
            return false;
        }
        let extra = st.extra.get_or_insert_default();
        if extra.ready.is_some() {
            return true;
        }
        if extra.no_ready {
            return false;
        }
        match ReadyRecv::new(&self.fd) {
            Ok(ready) => {
                extra.ready = Some(ready);
                true
            }
            Err(e) => {
                tracing::debug!(target: "shardio::net", error = %e, "could not register a socket with Tokio's reactor; it keeps the ring's receive");
                extra.no_ready = true;
                false
            }
        }
    }

    /// Waits on Tokio's reactor until the socket is readable and takes what
    /// it holds into `st.current` (or sets `st.eof`), for reads that need
    /// the bytes held (peek, `try_read`, readiness).
    pub(super) fn poll_ready_recv(
        &self,
        st: &mut ReadState,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let mut scratch = [MaybeUninit::<u8>::uninit(); RECV_MAX];
        let mut buf = ReadBuf::uninit(&mut scratch);
        ready!(self.poll_ready_recv_into(st, cx, &mut buf))?;
        if !buf.filled().is_empty() {
            let bytes = buf.filled().to_vec();
            st.current = Some((Pending::Owned(OwnedRecv::new(bytes)), 0));
        }
        Poll::Ready(Ok(()))
    }

    /// Waits on Tokio's reactor until the socket is readable and receives
    /// into `buf` itself (or sets `st.eof`): for a read with nothing held,
    /// no copy.
    pub(super) fn poll_ready_recv_into(
        &self,
        st: &mut ReadState,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let Some(ready) = st.extra.as_ref().and_then(|e| e.ready.as_ref()) else {
            unreachable!("registered by receives_on_reactor")
        };
        let before = buf.filled().len();
        let poll = ready.poll_recv_into(cx, buf);
        st.drained = poll.is_pending();
        ready!(poll)?;
        if buf.filled().len() == before {
            st.eof = true;
        } else {
            crate::driver::idle::note_receive();
            crate::driver::counters().reactor_receive();
        }
        Poll::Ready(Ok(()))
    }
}
