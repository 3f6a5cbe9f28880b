//! Readiness through io_uring for sockets used with non-blocking system calls
//! (datagram sockets): Tokio's borrowed-buffer API and its cancel safety
//! exactly, since data is only ever received into the caller's buffer while
//! the caller is there.
//!
//! An I/O call first tries the system call; only on `WouldBlock` does it wait
//! for a single-shot `POLL_ADD` on the ring. One poll per direction is in
//! flight per socket, shared by every task waiting in that direction, and its
//! completion wakes them all.

use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker, ready};

use tokio::io::ReadBuf;

use crate::driver::Op;
use crate::ops::poll::PollAdd;
use crate::sched::{Admit, Dir, Hold, Target};
use crate::sync::Mutex;

/// Which readiness.
#[derive(Clone, Copy)]
pub(crate) enum Direction {
    Read,
    Write,
}

pub(crate) struct PollIo<S: AsRawFd + Send + Sync + 'static> {
    sock: Arc<S>,
    read: Mutex<Waiting<S>>,
    write: Mutex<Waiting<S>>,
    /// The socket's priority class, for the scheduler.
    pub(crate) sched: Target,
    /// A send waiting for the network's transmit side to dispatch it.
    send_admit: Mutex<Option<Admit>>,
}

struct Waiting<S: AsRawFd + Send + Sync + 'static> {
    op: Option<Op<PollAdd<S>>>,
    waiters: Arc<Waiters>,
}

/// Every task waiting for one direction; the poll op wakes them all.
#[derive(Default)]
struct Waiters(Mutex<Vec<Waker>>);

impl Wake for Waiters {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let wakers = std::mem::take(&mut *self.0.lock());
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl<S: AsRawFd + Send + Sync + 'static> PollIo<S> {
    /// The socket's fd, borrowed for as long as `self`.
    fn fd(&self) -> BorrowedFd<'_> {
        // SAFETY: `self.sock` owns the fd and lives as long as `self`,
        // which the borrow cannot outlive.
        unsafe { BorrowedFd::borrow_raw(self.sock.as_raw_fd()) }
    }

    pub(crate) fn new(sock: S) -> PollIo<S> {
        let waiting = || {
            Mutex::new(Waiting {
                op: None,
                waiters: Arc::default(),
            })
        };
        PollIo {
            sock: Arc::new(sock),
            read: waiting(),
            write: waiting(),
            sched: Target::default(),
            send_admit: Mutex::new(None),
        }
    }

    pub(crate) fn get_ref(&self) -> &S {
        &self.sock
    }

    /// Ready when the socket is (or was, since the last wait) ready in
    /// `dir`; a following system call may still say `WouldBlock`.
    pub(crate) fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (slot, events) = match dir {
            Direction::Read => (&self.read, libc::POLLIN),
            Direction::Write => (&self.write, libc::POLLOUT),
        };
        let mut waiting = slot.lock();
        {
            let mut waiters = waiting.waiters.0.lock();
            if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                waiters.push(cx.waker().clone());
            }
        }
        let shared = Waker::from(Arc::clone(&waiting.waiters));
        let sock = Arc::clone(&self.sock);
        let op = waiting
            .op
            .get_or_insert_with(|| Op::new(PollAdd { sock, events }));
        let res = ready!(Pin::new(op).poll(&mut Context::from_waker(&shared)));
        waiting.op = None;
        // Everyone else waiting may try now too.
        let others = std::mem::take(&mut *waiting.waiters.0.lock());
        others
            .into_iter()
            .filter(|w| !w.will_wake(cx.waker()))
            .for_each(Waker::wake);
        Poll::Ready(res.map(drop))
    }

    /// Runs the non-blocking `f` until it does not say `WouldBlock`,
    /// waiting for readiness in `dir` between tries.
    pub(crate) fn poll_io<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        mut f: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            match f(&self.sock) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.poll_ready(dir, cx))?;
                }
                res => return Poll::Ready(res),
            }
        }
    }

    /// [`poll_io`](Self::poll_io) for a send of `bytes`, charged before it
    /// is tried: it waits for the network's transmit side to dispatch it.
    pub(crate) fn poll_send<R>(
        &self,
        cx: &mut Context<'_>,
        bytes: usize,
        f: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        {
            let mut admit = self.send_admit.lock();
            if admit.is_none() {
                *admit = self
                    .sched
                    .admit_net(self.fd(), Dir::Write, bytes, Hold::Instant);
            }
            if let Some(a) = admit.as_mut() {
                drop(ready!(Pin::new(a).poll(cx)));
                *admit = None;
            }
        }
        self.poll_io(Direction::Write, cx, f)
    }

    /// [`poll_io`](Self::poll_io) for a receive, charged when it completes
    /// with the bytes `len` says it took.
    pub(crate) fn poll_recv<R>(
        &self,
        cx: &mut Context<'_>,
        f: impl FnMut(&S) -> io::Result<R>,
        len: impl FnOnce(&R) -> usize,
    ) -> Poll<io::Result<R>> {
        let res = ready!(self.poll_io(Direction::Read, cx, f));
        Poll::Ready(self.charged(Direction::Read, res, len))
    }

    /// [`poll_recv`](Self::poll_recv) into the unfilled part of `buf`:
    /// `f` receives into the slice it is given and returns the count and
    /// whatever else the call gives (e.g. the sender); `buf` advances by
    /// the count.
    pub(crate) fn poll_recv_buf<T>(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        mut f: impl FnMut(&S, &mut [u8]) -> io::Result<(usize, T)>,
    ) -> Poll<io::Result<T>> {
        self.poll_recv(
            cx,
            |s| {
                let (n, other) = f(s, buf.initialize_unfilled())?;
                buf.advance(n);
                Ok((n, other))
            },
            |(n, _)| *n,
        )
        .map_ok(|(_, other)| other)
    }

    /// The async form of [`poll_send`](Self::poll_send).
    pub(crate) async fn send<R>(
        &self,
        bytes: usize,
        mut f: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_send(cx, bytes, &mut f)).await
    }

    /// The async form of [`poll_recv`](Self::poll_recv).
    pub(crate) async fn recv<R>(
        &self,
        mut f: impl FnMut(&S) -> io::Result<R>,
        len: impl Fn(&R) -> usize,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_recv(cx, &mut f, &len)).await
    }

    /// A send or receive that went through without waiting for the
    /// scheduler (a `try_*` call, or a receive, which cannot know its size
    /// before it completes): charged after the fact with the bytes `len`
    /// says it moved.
    pub(crate) fn charged<R>(
        &self,
        dir: Direction,
        res: io::Result<R>,
        len: impl FnOnce(&R) -> usize,
    ) -> io::Result<R> {
        if let Ok(r) = &res {
            let dir = match dir {
                Direction::Read => Dir::Read,
                Direction::Write => Dir::Write,
            };
            self.sched.charge_net(self.fd(), dir, len(r));
        }
        res
    }

    /// The async form of [`poll_io`](Self::poll_io).
    pub(crate) async fn io<R>(
        &self,
        dir: Direction,
        mut f: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_io(dir, cx, &mut f)).await
    }

    /// Waits for readiness in `dir`. (The datagram sockets wait through
    /// their `ReadyFlags` now; kept for other users of `PollIo`.)
    #[allow(dead_code)]
    pub(crate) async fn ready(&self, dir: Direction) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_ready(dir, cx)).await
    }
}

/// Waits until `read` or `write` (as `interest` asks) is ready: the body of
/// every `ready(Interest)` method.
pub(crate) async fn ready_with(
    interest: tokio::io::Interest,
    mut read: impl FnMut(&mut Context<'_>) -> Poll<io::Result<()>>,
    mut write: impl FnMut(&mut Context<'_>) -> Poll<io::Result<()>>,
) -> io::Result<tokio::io::Ready> {
    use tokio::io::Ready;
    std::future::poll_fn(|cx| {
        let mut ready = Ready::EMPTY;
        if interest.is_readable() {
            if let Poll::Ready(res) = read(cx) {
                res?;
                ready |= Ready::READABLE;
            }
        }
        if interest.is_writable() {
            if let Poll::Ready(res) = write(cx) {
                res?;
                ready |= Ready::WRITABLE;
            }
        }
        if ready.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(Ok(ready))
        }
    })
    .await
}
