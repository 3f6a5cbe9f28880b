//! Readiness of a registered fd from the ring: one multishot `POLL_ADD`,
//! the readiness bits its completions set, and the tick that keeps a
//! guard from clearing an event it did not see.

use std::io;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::Stream;
use tokio::io::{Interest, Ready};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::driver::Multishot;
use crate::ops::poll_multi::PollMulti;
use crate::sync::Mutex;

/// What a guard saw: the ready bits, and the tick at which it saw them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    pub(crate) ready: Ready,
    tick: u32,
}

impl ReadyEvent {
    pub(crate) fn with_ready(self, ready: Ready) -> ReadyEvent {
        ReadyEvent { ready, ..self }
    }
}

/// Which waker a readiness poll leaves: `poll_read_ready` and
/// `poll_write_ready` keep only the last one each (as Tokio's do); futures
/// (`readable`, `ready`, ...) any number.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    Read,
    Write,
    Any,
}

/// The ring side of an `AsyncFd`.
pub(crate) struct RingReg {
    state: Mutex<State>,
    waiters: Arc<Waiters>,
    /// The runtime the fd was registered in: entered to re-arm the poll
    /// from a thread outside it (e.g. `futures::executor::block_on`).
    handle: Handle,
    /// Dropping it ends the task that watches for the runtime's shutdown.
    _watch: oneshot::Sender<()>,
}

struct State {
    fd: RawFd,
    events: u32,
    /// Ask for a multishot poll; cleared when the kernel refuses the flag.
    multi: bool,
    /// The poll armed now; `None` before the first check and after the
    /// kernel ended one (the next check arms another).
    poll: Option<Multishot<PollMulti>>,
    readiness: Ready,
    /// Bumped by every completion taken in.
    tick: u32,
    /// An error completion of the current poll, reported when it ends.
    error: Option<io::Error>,
    /// The next completion is the first of a poll just armed (see
    /// [`harvest`]).
    first: bool,
    /// That first completion's events, taken in while registering and not
    /// harvested yet: the next readiness check does it.
    stash: Option<u32>,
}

/// The readiness a completion reports, as epoll would report it when its
/// event is harvested. The first completion of a poll carries the fd's
/// state when the poll was armed (at registration), which may be long
/// gone: epoll computes an event's mask when `epoll_wait` collects it, so
/// with Tokio a socket registered and then filled before the reactor ran
/// is not writable. That one is checked against the fd's state now with
/// `poll(2)`; later completions come from wake-ups and are fresh.
fn harvest(fd: RawFd, events: u32, revents: u32) -> u32 {
    let mut pfd = libc::pollfd {
        fd,
        events: events as u16 as libc::c_short,
        revents: 0,
    };
    // SAFETY: one valid pollfd; a zero timeout does not wait.
    match unsafe { libc::poll(&mut pfd, 1, 0) } {
        n if n >= 0 => revents & (pfd.revents as u16 as u32),
        _ => revents,
    }
}

/// Everyone waiting for the fd. The poll's waker wakes them all: it cannot
/// tell which direction a completion is about until someone takes it in.
#[derive(Default)]
struct Waiters {
    list: Mutex<WaiterList>,
    /// The runtime shut down: every readiness check fails from now on.
    shutdown: AtomicBool,
}

#[derive(Default)]
struct WaiterList {
    read: Option<Waker>,
    write: Option<Waker>,
    any: Vec<Waker>,
}

impl Wake for Waiters {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Taken first: a woken task may poll (and lock the list) at once.
        let list = std::mem::take(&mut *self.list.lock());
        list.read
            .into_iter()
            .chain(list.write)
            .chain(list.any)
            .for_each(Waker::wake);
    }
}

impl Waiters {
    fn register(&self, slot: Slot, waker: &Waker) {
        let mut list = self.list.lock();
        let keep = match slot {
            Slot::Read => &mut list.read,
            Slot::Write => &mut list.write,
            Slot::Any => {
                if !list.any.iter().any(|w| w.will_wake(waker)) {
                    list.any.push(waker.clone());
                }
                return;
            }
        };
        match keep {
            Some(w) if w.will_wake(waker) => {}
            _ => *keep = Some(waker.clone()),
        }
    }
}

/// Held by the watch task: dropped when the runtime drops its tasks at
/// shutdown (or when the `AsyncFd` is gone and the task ends).
struct ShutdownGuard(Arc<Waiters>);

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        self.0.shutdown.store(true, Ordering::Release);
        self.0.wake_by_ref();
    }
}

fn shutdown_error() -> io::Error {
    io::Error::other(
        "shardio: the runtime this AsyncFd was registered in has shut down; \
         its readiness can no longer be awaited",
    )
}

/// The poll events for `interest` (`POLLERR` and `POLLHUP` always count).
fn poll_events(interest: Interest) -> u32 {
    let mut events = 0;
    if interest.is_readable() {
        events |= libc::POLLIN | libc::POLLRDHUP;
    }
    if interest.is_writable() {
        events |= libc::POLLOUT;
    }
    if interest.is_priority() {
        // io_uring's poll ignores wake-ups whose key only matches EPOLLPRI
        // (it masks IO_ASYNC_POLL_COMMON out of the events it compares),
        // and TCP's urgent data wakes with `EPOLLIN | EPOLLPRI`: with
        // POLLIN in the mask the wake-up counts, and the completion then
        // reports POLLPRI. Readable bits it adds are masked by interest.
        events |= libc::POLLPRI | libc::POLLIN;
    }
    events as u16 as u32
}

/// The readiness bits that answer `interest` (Tokio's
/// `Ready::from_interest`).
pub(crate) fn ready_mask(interest: Interest) -> Ready {
    let mut ready = Ready::EMPTY;
    if interest.is_readable() {
        ready |= Ready::READABLE | Ready::READ_CLOSED;
    }
    if interest.is_writable() {
        ready |= Ready::WRITABLE | Ready::WRITE_CLOSED;
    }
    if interest.is_priority() {
        ready |= Ready::PRIORITY | Ready::READ_CLOSED;
    }
    if interest.is_error() {
        ready |= Ready::ERROR;
    }
    ready
}

/// A poll completion's `revents` as readiness, the way mio reads epoll's.
fn from_revents(revents: u32) -> Ready {
    let has = |flag: libc::c_short| revents & (flag as u16 as u32) != 0;
    let mut ready = Ready::EMPTY;
    if has(libc::POLLIN) || has(libc::POLLPRI) {
        ready |= Ready::READABLE;
    }
    if has(libc::POLLOUT) {
        ready |= Ready::WRITABLE;
    }
    if has(libc::POLLHUP) || (has(libc::POLLIN) && has(libc::POLLRDHUP)) {
        ready |= Ready::READ_CLOSED;
    }
    if has(libc::POLLHUP)
        || (has(libc::POLLOUT) && has(libc::POLLERR))
        || revents == libc::POLLERR as u32
    {
        ready |= Ready::WRITE_CLOSED;
    }
    if has(libc::POLLERR) {
        ready |= Ready::ERROR;
    }
    if has(libc::POLLPRI) {
        ready |= Ready::PRIORITY;
    }
    ready
}

impl RingReg {
    /// Registers `fd` on the current thread's ring and arms the poll, so
    /// readiness the fd has now is reported as Tokio's registration does.
    /// Must run inside a Tokio runtime with io_uring in use.
    pub(crate) fn new(fd: RawFd, interest: Interest) -> io::Result<RingReg> {
        let handle = Handle::try_current().map_err(io::Error::other)?;
        let waiters = Arc::new(Waiters::default());
        let (tx, rx) = oneshot::channel::<()>();
        let guard = ShutdownGuard(Arc::clone(&waiters));
        handle.spawn(async move {
            let _guard = guard;
            let _ = rx.await;
        });
        let reg = RingReg {
            state: Mutex::new(State {
                fd,
                events: poll_events(interest),
                multi: true,
                poll: None,
                readiness: Ready::EMPTY,
                tick: 0,
                error: None,
                first: true,
                stash: None,
            }),
            waiters,
            handle,
            _watch: tx,
        };
        reg.drain(&mut reg.state.lock(), false)?;
        Ok(reg)
    }

    /// Takes in every completion that arrived, (re-)arming the poll where
    /// it is not armed. The first completion of a poll is harvested
    /// against the fd's state now (see [`harvest`]); while registering
    /// (`harvest_now` false) it is kept for the next check instead.
    fn drain(&self, state: &mut State, harvest_now: bool) -> io::Result<()> {
        let res = self.take_in(state);
        if harvest_now {
            if let Some(revents) = state.stash.take() {
                let revents = harvest(state.fd, state.events, revents);
                state.readiness |= from_revents(revents);
                state.tick = state.tick.wrapping_add(1);
            }
        }
        res
    }

    fn take_in(&self, state: &mut State) -> io::Result<()> {
        let _enter = Handle::try_current().is_err().then(|| self.handle.enter());
        let waker = Waker::from(Arc::clone(&self.waiters));
        let mut cx = Context::from_waker(&waker);
        loop {
            let mut poll = state.poll.take().unwrap_or_else(|| {
                state.first = true;
                Multishot::new(PollMulti {
                    fd: state.fd,
                    events: state.events,
                    multi: state.multi,
                })
            });
            match Pin::new(&mut poll).poll_next(&mut cx) {
                Poll::Pending => {
                    state.poll = Some(poll);
                    return Ok(());
                }
                Poll::Ready(Some(Ok(revents))) => {
                    if std::mem::take(&mut state.first) {
                        *state.stash.get_or_insert(0) |= revents;
                    } else {
                        state.readiness |= from_revents(revents);
                        state.tick = state.tick.wrapping_add(1);
                    }
                    state.poll = Some(poll);
                }
                Poll::Ready(Some(Err(e))) => {
                    state.error = Some(e);
                    state.poll = Some(poll);
                }
                // The kernel ended the poll: arm the next one, unless it
                // ended with an error.
                Poll::Ready(None) => match state.error.take() {
                    None => {}
                    Some(e) if e.raw_os_error() == Some(libc::EINVAL) && state.multi => {
                        // Before Linux 5.13: no multishot poll.
                        state.multi = false;
                    }
                    Some(e) => return Err(e),
                },
            }
        }
    }

    /// Ready with what the fd is ready for of `interest`; otherwise leaves
    /// `cx`'s waker in `slot`.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        slot: Slot,
    ) -> Poll<io::Result<ReadyEvent>> {
        // Registered before the completions are taken in, so one that
        // arrives right after still wakes this task.
        self.waiters.register(slot, cx.waker());
        if self.waiters.shutdown.load(Ordering::Acquire) {
            return Poll::Ready(Err(shutdown_error()));
        }
        let mut state = self.state.lock();
        self.drain(&mut state, true)?;
        let ready = state.readiness & ready_mask(interest);
        if ready.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(Ok(ReadyEvent {
                ready,
                tick: state.tick,
            }))
        }
    }

    /// The readiness of `interest` now (possibly empty), without waiting.
    pub(crate) fn ready_now(&self, interest: Interest) -> io::Result<ReadyEvent> {
        let mut state = self.state.lock();
        self.drain(&mut state, true)?;
        Ok(ReadyEvent {
            ready: state.readiness & ready_mask(interest),
            tick: state.tick,
        })
    }

    /// Clears `event.ready` (but never the closed bits, as Tokio), unless a
    /// completion was taken in since `event` was seen.
    pub(crate) fn clear(&self, event: ReadyEvent) {
        let mut state = self.state.lock();
        if state.tick == event.tick {
            let clear = event.ready - Ready::READ_CLOSED - Ready::WRITE_CLOSED;
            state.readiness = state.readiness - clear;
        }
    }
}

/// Deregistering: the poll is cancelled and the cancel request submitted
/// now, before the fd goes back to its owner.
impl Drop for RingReg {
    fn drop(&mut self) {
        if let Some(poll) = self.state.get_mut().poll.take() {
            poll.cancel_now();
        }
    }
}

impl std::fmt::Debug for RingReg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock();
        f.debug_struct("RingReg")
            .field("fd", &state.fd)
            .field("readiness", &state.readiness)
            .field("tick", &state.tick)
            .field("armed", &state.poll.is_some())
            .finish()
    }
}
