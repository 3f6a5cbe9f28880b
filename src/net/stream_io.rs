//! The io_uring side of a connected stream socket: `AsyncRead` from a
//! multishot receive into provided buffers; `AsyncWrite` by a non-blocking
//! `sendmsg` straight from the caller's buffers, waiting on the ring
//! (`POLL_ADD`) for room when the socket's send buffer is full. A write that
//! returns `Ok(n)` has therefore put its `n` bytes in the kernel's socket
//! buffer, as with Tokio: the thread may block or the process exit right
//! after, and the bytes still go out.
//!
//! Reads and writes have separate state, so the two halves of a split
//! stream can be driven by different tasks.

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};
use std::time::Instant;

use futures::Stream;
use tokio::io::ReadBuf;

use super::read_state::{Ahead, OwnedRecv, Pending, ReadState};
use crate::driver::{Multishot, Op};
use crate::ops::poll::PollAdd;
use crate::ops::recv::Recv;
use crate::ops::recv_multi::{Received, RecvMulti};
use crate::sched::{Admit, Dir, Hold, Target};
use crate::sync::Mutex;

/// Receive size when no provided buffer is available.
const RECV_FALLBACK: usize = 16 * 1024;
/// How many received chunks a scheduled stream charges ahead of its
/// reader (see [`Ahead`]): enough that its class stays in the receive
/// side's queue while the reader is delayed by a few scheduler time slices.
const AHEAD_CHUNKS: usize = 4;
/// The receive limit of a stream whose class is held back: enough chunks
/// to keep [`AHEAD_CHUNKS`] queued while its reader takes one, and the rest
/// waits in the kernel. (Smaller armings ran out of chunks before the next
/// arrived: 128 KiB split 1:4 as 3.6-3.8, 64 KiB 3.3.)
const RECV_THROTTLED: u32 = 256 * 1024;
/// The receive limit where `SO_RCVBUF` cannot be read.
const RECV_LIMIT_DEFAULT: u32 = 256 * 1024;

pub(crate) struct UringStream {
    pub(super) fd: Arc<OwnedFd>,
    read: Mutex<ReadState>,
    pub(super) write: Mutex<WriteState>,
    /// The socket's priority class, for the scheduler.
    pub(crate) sched: Target,
}

/// The write side's state (see `stream_write`).
#[derive(Default)]
pub(super) struct WriteState {
    /// A wait for room in the socket's send buffer, armed when a send found
    /// it full.
    pub(super) writable: Option<Box<Op<PollAdd<OwnedFd>>>>,
    /// What only a scheduled stream's sends keep; boxed, so that the
    /// others (most, and every idle connection) pay one pointer for it.
    pub(super) paced: Option<Box<PacedWrite>>,
}

/// A scheduled stream's transmit state (see [`WriteState::paced`]).
#[derive(Default)]
pub(super) struct PacedWrite {
    /// The next send, waiting for the transmit side to dispatch it, and
    /// the bytes it is charged for.
    pub(super) admit: Option<(Admit, usize)>,
    /// Bytes charged to the transmit side and not sent yet (a send that
    /// found the buffer full, or took less than was charged): the next
    /// send uses them before it is charged again.
    pub(super) credit: usize,
    /// Set at the first paced send: whether shardio bounded what the
    /// socket holds unsent (see `unsent`), to take back in `into_std`.
    pub(super) unsent_bound: Option<bool>,
}

impl UringStream {
    /// A stream that counts as not readable until bytes arrive (a
    /// connected or converted socket; see [`assume_readable`](Self::assume_readable)).
    pub(crate) fn new(fd: OwnedFd) -> UringStream {
        UringStream {
            fd: Arc::new(fd),
            read: Mutex::new(ReadState {
                drained: true,
                ..ReadState::default()
            }),
            write: Mutex::default(),
            sched: Target::default(),
        }
    }

    /// An accepted connection counts as readable until a read finds
    /// nothing, as Tokio's accepted streams do (a request often waits
    /// already).
    pub(crate) fn assume_readable(&self) {
        self.read.lock().drained = false;
    }

    pub(crate) fn fd(&self) -> &Arc<OwnedFd> {
        &self.fd
    }

    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        // Each read spends the task's budget, as Tokio's I/O does: a task
        // whose peer keeps it fed yields now and then instead of holding
        // the worker while other connections wait.
        let coop = ready!(tokio::task::coop::poll_proceed(cx));
        let mut st = self.read.lock();
        if self.reads_on_reactor(&mut st) {
            // Through Tokio's reactor, straight into the caller's buffer.
            ready!(self.poll_ready_recv_into(&mut st, cx, buf))?;
            coop.made_progress();
            return Poll::Ready(Ok(()));
        }
        ready!(self.poll_fill(&mut st, cx))?;
        coop.made_progress();
        st.copy_out(buf, true);
        Poll::Ready(Ok(()))
    }

    /// Like `poll_read`, but the bytes stay to be read again.
    pub(crate) fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<usize>> {
        let mut st = self.read.lock();
        ready!(self.poll_fill(&mut st, cx))?;
        Poll::Ready(Ok(st.copy_out(buf, false)))
    }

    /// Tokio's read readiness: ready until a read finds nothing, then once
    /// shardio holds received bytes (or saw end of stream or an error). As
    /// with Tokio, ready may be a false positive: the read then says
    /// `WouldBlock`.
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.read.lock();
        if !st.drained {
            return Poll::Ready(Ok(()));
        }
        self.poll_fill(&mut st, cx)
    }

    /// Reads bytes already received, or fails with `WouldBlock` (arming the
    /// receive so that [`poll_read_ready`](Self::poll_read_ready) will see
    /// the next ones).
    ///
    /// Outside a runtime (no ring to arm a receive on), with nothing held
    /// and no receive armed, it reads the socket directly, as Tokio's
    /// `try_read` does there.
    pub(crate) fn try_read(&self, buf: &mut ReadBuf<'_>) -> io::Result<()> {
        let mut st = self.read.lock();
        if st.recv.is_none()
            && st.single.is_none()
            && st.current.is_none()
            && !st.eof
            && tokio::runtime::Handle::try_current().is_err()
        {
            return super::direct::recv_now(self.fd.as_fd(), buf);
        }
        let mut cx = Context::from_waker(Waker::noop());
        match self.poll_fill(&mut st, &mut cx) {
            Poll::Ready(Ok(())) => {
                st.copy_out(buf, true);
                Ok(())
            }
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Waits for received bytes and copies them into the start of `buf`
    /// (consuming them); 0 at end of stream.
    pub(crate) fn poll_read_into(
        &self,
        cx: &mut Context<'_>,
        dst: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let coop = ready!(tokio::task::coop::poll_proceed(cx));
        let mut st = self.read.lock();
        ready!(self.poll_fill(&mut st, cx))?;
        coop.made_progress();
        let mut buf = ReadBuf::uninit(dst);
        Poll::Ready(Ok(st.copy_out(&mut buf, true)))
    }

    /// Waits until `st.current` holds bytes or `st.eof` is set; a read that
    /// finds nothing marks the stream drained (not readable).
    fn poll_fill(&self, st: &mut ReadState, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = self.fill(st, cx);
        st.drained = poll.is_pending();
        poll
    }

    fn fill(&self, st: &mut ReadState, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Whether the scheduler charged this stream's last receive.
        let mut scheduled = false;
        loop {
            if let Some(paced) = st.extra.as_mut()
                && let Some(charge) = &mut paced.charge
            {
                scheduled = true;
                if let Poll::Ready(permit) = Pin::new(charge).poll(cx) {
                    // Dispatched: the receive is paid for.
                    drop(permit);
                    paced.charge = None;
                } else {
                    // The class is over its share of the receive side:
                    // its connection stops taking bytes from the socket
                    // until its turn comes (what was received already
                    // comes out in order). The rest waits in the kernel's
                    // socket buffer, where TCP's window pushes back on the
                    // sender, instead of in the ring's shared pool. (While
                    // held back, it is armed for RECV_THROTTLED at a time,
                    // which ends by itself: no pause then.)
                    let held_back = paced.held_back();
                    paced.waited_at = Some(Instant::now());
                    if let Some(recv) = st.recv.as_mut().filter(|r| !r.stopping() && !held_back) {
                        recv.stop();
                        crate::driver::counters().recv_paused();
                    }
                    return Poll::Pending;
                }
            }
            if st.current.is_some() || st.eof {
                if scheduled {
                    self.take_ahead(st, cx);
                }
                return Poll::Ready(Ok(()));
            }
            if let Some(op) = &mut st.single {
                let (res, vec) = ready!(Pin::new(op).poll(cx));
                st.single = None;
                match res {
                    Ok(0) => st.eof = true,
                    Ok(n) => {
                        st.set_charge(
                            self.sched
                                .admit_net(self.fd.as_fd(), Dir::Read, n, Hold::Instant)
                                .map(Box::new),
                        );
                        st.current = Some((Pending::Owned(OwnedRecv::new(vec)), 0));
                    }
                    Err(e) => return Poll::Ready(Err(e)),
                }
                continue;
            }
            if st.no_multishot {
                st.single = Some(Box::new(self.single_recv()));
                continue;
            }
            if st.recv.is_none() {
                if self.receives_on_reactor(st) {
                    ready!(self.poll_ready_recv(st, cx))?;
                    continue;
                }
                st.recv = Some(self.recv_multi(st.held_back()));
            }
            let Some(recv) = &mut st.recv else {
                unreachable!("armed just above")
            };
            // Ended by this stream (a pause above), not by the kernel.
            let paused = recv.stopping();
            let item = match st.extra.as_mut().and_then(|p| p.ahead.pop_front()) {
                Some(Ahead::Chunk(lease, charge)) => {
                    st.set_charge(charge);
                    st.current = Some((Pending::Lease(lease), 0));
                    continue;
                }
                Some(Ahead::Item(item)) => item,
                None => match Pin::new(&mut *recv).poll_next(cx) {
                    Poll::Ready(item) => item,
                    Poll::Pending => {
                        // Nothing yet: the ring's receive may end here, and
                        // the stream move to Tokio's reactor (see there).
                        if !paused && Self::leave_ring(st.extra.as_deref()) {
                            recv.stop();
                        }
                        return Poll::Pending;
                    }
                },
            };
            match item {
                Some(Ok(Received::Data(lease, _))) => {
                    if lease.len() > 0 {
                        crate::driver::idle::note_receive();
                        st.set_charge(
                            self.sched
                                .admit_net(self.fd.as_fd(), Dir::Read, lease.len(), Hold::Instant)
                                .map(Box::new),
                        );
                        st.current = Some((Pending::Lease(lease), 0));
                    }
                }
                Some(Ok(Received::Eof)) => {
                    st.recv = None;
                    st.eof = true;
                }
                Some(Err(e)) => {
                    st.recv = None;
                    match e.raw_os_error() {
                        // The provided buffers ran out: this read brings its own.
                        Some(libc::ENOBUFS) => {
                            crate::driver::counters().recv_no_buffers();
                            st.single = Some(Box::new(self.single_recv()));
                        }
                        // Cancelled by the kernel, not by this stream (its
                        // own cancel, in `std_fd`, does not come here): the
                        // bytes not received wait in the socket; arm again.
                        Some(libc::ECANCELED) if !paused => {
                            crate::driver::counters().op_resubmitted();
                        }
                        Some(libc::ECANCELED) => {}
                        Some(libc::EINVAL) => st.no_multishot = true,
                        _ if e.kind() == io::ErrorKind::Unsupported => st.no_multishot = true,
                        _ => return Poll::Ready(Err(e)),
                    }
                }
                // The kernel ended the multishot: it received its limit (a
                // socket buffer's worth, which the reader has now taken),
                // or was cancelled. Re-armed by the next read: until then,
                // what arrives waits in the kernel's socket buffer.
                None => st.arming_ended(),
            }
        }
    }

    /// Takes what the receive has now, up to [`AHEAD_CHUNKS`] chunks (each
    /// charged) or an item that ends it, while the reader still has
    /// `current` (see [`Ahead`]).
    fn take_ahead(&self, st: &mut ReadState, cx: &mut Context<'_>) {
        if st.eof || st.no_multishot || st.single.is_some() {
            return;
        }
        // Each turn takes a chunk, or ends an arming and makes the next.
        for _ in 0..2 * AHEAD_CHUNKS + 2 {
            let ahead = st.extra.get_or_insert_default();
            if ahead.ahead.len() >= AHEAD_CHUNKS
                || matches!(ahead.ahead.back(), Some(Ahead::Item(_)))
            {
                return;
            }
            let Some(recv) = &mut st.recv else {
                st.recv = Some(self.recv_multi(st.held_back()));
                continue;
            };
            match Pin::new(&mut *recv).poll_next(cx) {
                Poll::Pending => return,
                // The arming received its limit: the next turn arms the
                // next one, so the class keeps a request queued.
                Poll::Ready(None) => st.arming_ended(),
                Poll::Ready(Some(Ok(Received::Data(lease, last)))) if lease.len() > 0 => {
                    let charge = self
                        .sched
                        .admit_net(self.fd.as_fd(), Dir::Read, lease.len(), Hold::Instant)
                        .map(Box::new);
                    let chunk = Ahead::Chunk(lease, charge);
                    st.extra.get_or_insert_default().ahead.push_back(chunk);
                    if last {
                        // The arming reached its limit with this chunk: arm
                        // the next one now rather than when the reader gets
                        // here, so the class still has chunks queued while
                        // the next arrive.
                        let end = Pin::new(&mut *recv).poll_next(cx);
                        debug_assert!(matches!(end, Poll::Ready(None)));
                        st.arming_ended();
                        let mut next = self.recv_multi(st.held_back());
                        next.start(cx);
                        st.recv = Some(next);
                    }
                }
                Poll::Ready(item) => {
                    let item = Ahead::Item(item);
                    st.extra.get_or_insert_default().ahead.push_back(item);
                }
            }
        }
    }

    /// A multishot receive for this stream: of [`RECV_THROTTLED`] while
    /// it is held back (`held_back`: a charge waited within
    /// [`HOLD_BACK`](super::read_state::HOLD_BACK)), otherwise of its
    /// receive limit.
    fn recv_multi(&self, held_back: bool) -> Multishot<RecvMulti> {
        let limit = if held_back {
            RECV_THROTTLED
        } else {
            self.recv_limit()
        };
        Multishot::new(RecvMulti {
            fd: Arc::clone(&self.fd),
            limit,
        })
    }

    /// The fd, for `into_std`, once shardio's receive on it has stopped (so
    /// nothing of shardio's takes its bytes any more). Fails, naming the
    /// count, if shardio holds received bytes nobody read: they cannot go
    /// back into the socket, and are not silently dropped.
    pub(crate) fn std_fd(&self) -> io::Result<OwnedFd> {
        let mut st = self.read.lock();
        let mut unread = st.unread();
        // Nothing stays registered with Tokio's reactor on a handed-back fd.
        if let Some(extra) = st.extra.as_mut() {
            extra.ready = None;
        }
        if let Some(mut recv) = st.recv.take() {
            recv.stop();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            let mut cx = Context::from_waker(Waker::noop());
            loop {
                match Pin::new(&mut recv).poll_next(&mut cx) {
                    Poll::Ready(Some(Ok(Received::Data(lease, _)))) => unread += lease.len(),
                    Poll::Ready(Some(_)) => {}
                    Poll::Ready(None) => break,
                    Poll::Pending if std::time::Instant::now() < deadline => {
                        // A system call lets the kernel run the completion
                        // work of this thread's ring.
                        std::thread::sleep(std::time::Duration::from_micros(100));
                    }
                    Poll::Pending => {
                        return Err(io::Error::other(
                            "shardio: into_std: the socket's io_uring receive did not stop \
                             within 2 s; the socket is not handed over while the kernel may \
                             still take its bytes",
                        ));
                    }
                }
            }
        }
        if st.single.is_some() {
            return Err(io::Error::other(
                "shardio: into_std: a receive is in flight on this socket (it ran out of \
                 shared buffers); read until try_read says WouldBlock, then call into_std",
            ));
        }
        if unread > 0 {
            return Err(io::Error::other(format!(
                "shardio: into_std: {unread} bytes of this connection were already received \
                 into shardio's buffers and not read; a std socket cannot be given them back: \
                 read until try_read says WouldBlock, then call into_std"
            )));
        }
        let bound = self.write.lock().paced.as_ref().map(|p| p.unsent_bound);
        if bound == Some(Some(true)) {
            super::unsent::unbound(self.fd.as_fd());
        }
        self.fd.try_clone()
    }

    /// What a connection may hold of received bytes its reader has not
    /// taken, before its receive is paused and the rest waits in the
    /// kernel: about a socket buffer's worth (`SO_RCVBUF`), as much as a
    /// Tokio socket would hold for a reader that stops, but never more than
    /// a quarter of the ring's shared pool (`RecvMulti` caps it), so that
    /// one stalled reader with a large socket buffer cannot take every
    /// buffer of the connections beside it.
    fn recv_limit(&self) -> u32 {
        socket2::SockRef::from(&*self.fd)
            .recv_buffer_size()
            .map_or(RECV_LIMIT_DEFAULT, |n| u32::try_from(n).unwrap_or(u32::MAX))
            .max(RECV_FALLBACK as u32)
    }

    fn single_recv(&self) -> Op<Recv<Vec<u8>>> {
        Op::new(Recv {
            fd: Arc::clone(&self.fd),
            buf: Vec::with_capacity(RECV_FALLBACK),
            flags: 0,
        })
    }
}

impl std::fmt::Debug for UringStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UringStream")
            .field("fd", &self.fd.as_raw_fd())
            .finish()
    }
}

impl AsRawFd for UringStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}
