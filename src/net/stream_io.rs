//! The io_uring side of a connected stream socket: `AsyncRead` from a
//! multishot receive into provided buffers, `AsyncWrite` through owned send
//! buffers, one send in flight at a time (sends on one socket must not
//! reorder).
//!
//! Reads and writes have separate state, so the two halves of a split
//! stream can be driven by different tasks.

use std::future::Future;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};

use futures::Stream;
use tokio::io::ReadBuf;

use crate::driver::{BufLease, Multishot, Op};
use crate::ops::recv::Recv;
use crate::ops::recv_multi::{Received, RecvMulti};
use crate::ops::send::Send;
use crate::sched::{Admit, Dir, Hold, Target};
use crate::sync::Mutex;

/// Largest chunk a single `poll_write` accepts: the in-flight budget.
const WRITE_CHUNK: usize = 64 * 1024;
/// Receive size when no provided buffer is available.
const RECV_FALLBACK: usize = 16 * 1024;
/// `MSG_WAITALL`: the kernel retries short sends on a stream socket, so a
/// send completes whole or with an error.
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL | libc::MSG_WAITALL;

pub(crate) struct UringStream {
    fd: Arc<OwnedFd>,
    read: Mutex<ReadState>,
    write: Mutex<WriteState>,
    /// The socket's priority class, for the scheduler.
    pub(crate) sched: Target,
}

#[derive(Default)]
struct ReadState {
    /// The armed multishot receive, if any.
    recv: Option<Multishot<RecvMulti>>,
    /// Received bytes not yet handed to the reader, and how far it got.
    current: Option<(Pending, usize)>,
    /// A single-shot receive, used when the provided buffers ran out.
    single: Option<Op<Recv<Vec<u8>>>>,
    /// The kernel cannot do multishot receives with provided buffers here.
    no_multishot: bool,
    eof: bool,
    /// The scheduler's charge for `current`, received but not handed out
    /// until the receive side dispatches it (post-paid receives).
    charge: Option<Admit>,
}

enum Pending {
    Lease(BufLease),
    Owned(Vec<u8>),
}

impl Pending {
    fn bytes(&self) -> &[u8] {
        match self {
            Pending::Lease(lease) => lease.bytes(),
            Pending::Owned(vec) => vec,
        }
    }
}

impl ReadState {
    /// Copies received bytes into `buf` (consuming them if `consume`);
    /// returns how many. Copies nothing at end of stream.
    fn copy_out(&mut self, buf: &mut ReadBuf<'_>, consume: bool) -> usize {
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
}

#[derive(Default)]
struct WriteState {
    inflight: Option<Op<Send<Vec<u8>>>>,
    /// The next send, waiting for the transmit side to dispatch it.
    admit: Option<Admit>,
    /// A send error not reported yet.
    error: Option<io::Error>,
    /// The last send's buffer, reused for the next.
    spare: Option<Vec<u8>>,
}

impl UringStream {
    pub(crate) fn new(fd: OwnedFd) -> UringStream {
        UringStream {
            fd: Arc::new(fd),
            read: Mutex::default(),
            write: Mutex::default(),
            sched: Target::default(),
        }
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
        let mut st = self.read.lock();
        ready!(self.poll_fill(&mut st, cx))?;
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

    /// Ready once shardio holds received bytes for this stream (or it saw
    /// end of stream or an error): a read then returns without waiting.
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.read.lock();
        self.poll_fill(&mut st, cx)
    }

    /// Reads bytes already received, or fails with `WouldBlock` (arming the
    /// receive so that [`poll_read_ready`](Self::poll_read_ready) will see
    /// the next ones).
    pub(crate) fn try_read(&self, buf: &mut ReadBuf<'_>) -> io::Result<()> {
        let mut st = self.read.lock();
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
        let mut st = self.read.lock();
        ready!(self.poll_fill(&mut st, cx))?;
        let mut buf = ReadBuf::uninit(dst);
        Poll::Ready(Ok(st.copy_out(&mut buf, true)))
    }

    /// Waits until no send is in flight, reporting its error if it failed.
    pub(crate) fn poll_send_idle(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.write.lock();
        self.poll_inflight(&mut st, cx)
    }

    /// Waits until `st.current` holds bytes or `st.eof` is set.
    fn poll_fill(&self, st: &mut ReadState, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if let Some(charge) = &mut st.charge {
                // Dispatched: the receive is paid for.
                drop(ready!(Pin::new(charge).poll(cx)));
                st.charge = None;
            }
            if st.current.is_some() || st.eof {
                return Poll::Ready(Ok(()));
            }
            if let Some(op) = &mut st.single {
                let (res, vec) = ready!(Pin::new(op).poll(cx));
                st.single = None;
                match res {
                    Ok(0) => st.eof = true,
                    Ok(n) => {
                        st.charge = self.sched.admit_net(Dir::Read, n, Hold::Instant);
                        st.current = Some((Pending::Owned(vec), 0));
                    }
                    Err(e) => return Poll::Ready(Err(e)),
                }
                continue;
            }
            if st.no_multishot {
                st.single = Some(self.single_recv());
                continue;
            }
            let fd = Arc::clone(&self.fd);
            let recv = st
                .recv
                .get_or_insert_with(|| Multishot::new(RecvMulti { fd }));
            match ready!(Pin::new(recv).poll_next(cx)) {
                Some(Ok(Received::Data(lease))) => {
                    if lease.len() > 0 {
                        st.charge = self.sched.admit_net(Dir::Read, lease.len(), Hold::Instant);
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
                        Some(libc::ENOBUFS) => st.single = Some(self.single_recv()),
                        Some(libc::EINVAL) => st.no_multishot = true,
                        _ if e.kind() == io::ErrorKind::Unsupported => st.no_multishot = true,
                        _ => return Poll::Ready(Err(e)),
                    }
                }
                // The kernel ended the multishot (e.g. it was cancelled): re-arm.
                None => st.recv = None,
            }
        }
    }

    fn single_recv(&self) -> Op<Recv<Vec<u8>>> {
        Op::new(Recv {
            fd: Arc::clone(&self.fd),
            buf: Vec::with_capacity(RECV_FALLBACK),
            flags: 0,
        })
    }

    /// Completes the send in flight, if any; its error surfaces here.
    fn poll_inflight(&self, st: &mut WriteState, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = st.error.take() {
            return Poll::Ready(Err(e));
        }
        while let Some(op) = &mut st.inflight {
            let (res, mut buf) = ready!(Pin::new(op).poll(cx));
            st.inflight = None;
            match res {
                Ok(n) if n < buf.len() && n > 0 => {
                    // Interrupted short send: send the rest before anything else.
                    buf.drain(..n);
                    st.inflight = Some(Op::new(Send {
                        fd: Arc::clone(&self.fd),
                        buf,
                        flags: SEND_FLAGS,
                    }));
                }
                Ok(0) if !buf.is_empty() => {
                    st.spare = Some(buf);
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Ok(_) => st.spare = Some(buf),
                Err(e) => {
                    st.spare = Some(buf);
                    return Poll::Ready(Err(e));
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(data)])
    }

    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut st = self.write.lock();
        ready!(self.poll_inflight(&mut st, cx))?;
        // Charged before it is submitted; until dispatched nothing is
        // accepted (the caller's bytes stay with the caller).
        if st.admit.is_none() {
            let len: usize = bufs.iter().map(|b| b.len()).sum();
            st.admit = self
                .sched
                .admit_net(Dir::Write, len.min(WRITE_CHUNK), Hold::Instant);
        }
        if let Some(admit) = &mut st.admit {
            // Dispatched. The permit is returned at once rather than when
            // the send completes: nobody may poll this send again for a
            // long time (a server writes a response, then waits to read),
            // and a held permit would keep the device's slot.
            drop(ready!(Pin::new(admit).poll(cx)));
            st.admit = None;
        }
        let mut buf = st.spare.take().unwrap_or_default();
        buf.clear();
        for slice in bufs {
            let room = WRITE_CHUNK - buf.len();
            if room == 0 {
                break;
            }
            buf.extend_from_slice(&slice[..slice.len().min(room)]);
        }
        let n = buf.len();
        if n == 0 {
            st.spare = Some(buf);
            return Poll::Ready(Ok(0));
        }
        let mut op = Op::new(Send {
            fd: Arc::clone(&self.fd),
            buf,
            flags: SEND_FLAGS,
        });
        // Submit now; the bytes count as written once the kernel has them.
        // Nobody waits for this send until the next write, flush or
        // shutdown (which poll it with their own waker), so its completion
        // need not wake the task: that would cost a task poll per write.
        let _ = cx;
        match Pin::new(&mut op).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready((Ok(_), buf)) => {
                st.spare = Some(buf);
                Poll::Ready(Ok(n))
            }
            Poll::Ready((Err(e), buf)) => {
                st.spare = Some(buf);
                Poll::Ready(Err(e))
            }
            Poll::Pending => {
                st.inflight = Some(op);
                Poll::Ready(Ok(n))
            }
        }
    }

    /// Ready once no send is in flight: a write is then accepted at once.
    /// The error of the last send, if any, is reported by the next write.
    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.write.lock();
        if let Err(e) = ready!(self.poll_inflight(&mut st, cx)) {
            // Writable, and the next write reports what went wrong.
            st.error = Some(e);
        }
        Poll::Ready(Ok(()))
    }

    /// Writes without waiting, or fails with `WouldBlock` while a send is
    /// in flight.
    pub(crate) fn try_write(&self, data: &[u8]) -> io::Result<usize> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.poll_write(&mut cx, data) {
            Poll::Ready(res) => res,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    pub(crate) fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.write.lock();
        self.poll_inflight(&mut st, cx)
    }

    /// Flushes, then shuts the write direction down (FIN after the data).
    pub(crate) fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_flush(cx))?;
        Poll::Ready(self.shutdown(std::net::Shutdown::Write))
    }

    /// Shuts the write direction down once the send in flight (if any)
    /// finished: at once if there is none, else from a task on the current
    /// runtime (best effort: at once when there is no runtime).
    pub(crate) fn shutdown_when_flushed(self: &Arc<Self>) {
        let pending = self.write.lock().inflight.is_some();
        if pending {
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                let stream = Arc::clone(self);
                handle.spawn(async move {
                    let _ = std::future::poll_fn(|cx| stream.poll_flush(cx)).await;
                    let _ = stream.shutdown(std::net::Shutdown::Write);
                });
                return;
            }
        }
        let _ = self.shutdown(std::net::Shutdown::Write);
    }

    pub(crate) fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        socket2::SockRef::from(&*self.fd).shutdown(how)
    }
}

impl Drop for UringStream {
    fn drop(&mut self) {
        // Bytes a write reported as written must still go out, as they would
        // from a kernel socket buffer: let the send finish on its own (it
        // keeps the fd open until then, so the FIN follows the data).
        if let Some(op) = self.write.lock().inflight.take() {
            op.detach();
        }
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
