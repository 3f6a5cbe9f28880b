//! Where an `AsyncFd`'s readiness comes from: the ring ([`RingReg`]), or
//! Tokio's own `AsyncFd` on the fallback path.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::unix::{AsyncFd as TokioAsyncFd, AsyncFdReadyGuard as TokioGuard};
use tokio::io::{Interest, Ready};

use super::ring::{ReadyEvent, RingReg, Slot};

/// The fd as Tokio's reactor sees it on the fallback path; the fd is owned
/// by the user's object in the `AsyncFd`, never by this.
#[derive(Debug)]
pub(crate) struct Source(RawFd);

impl AsRawFd for Source {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

#[derive(Debug)]
pub(crate) enum Registration {
    Ring(RingReg),
    /// In an `Arc` so a guard can keep Tokio's readiness event (its guard)
    /// without borrowing the `AsyncFd` (see [`TokioEvent`]).
    Tokio(Arc<TokioAsyncFd<Source>>),
}

/// The readiness a guard holds.
#[derive(Debug)]
pub(crate) enum Event {
    Ring(ReadyEvent),
    Tokio(TokioEvent),
}

/// Tokio's guard, which holds Tokio's readiness event with its tick, kept
/// with the `Arc` it borrows from.
#[derive(Debug)]
pub(crate) struct TokioEvent {
    /// Declared before `_fd`, so dropped before it.
    guard: TokioGuard<'static, Source>,
    _fd: Arc<TokioAsyncFd<Source>>,
}

impl TokioEvent {
    fn new(fd: Arc<TokioAsyncFd<Source>>, guard: TokioGuard<'_, Source>) -> TokioEvent {
        // SAFETY: `guard` borrows the `TokioAsyncFd` inside an `Arc`, whose
        // heap allocation does not move and lives as long as `_fd` (a clone
        // of that `Arc`, dropped after `guard` by field order); nothing
        // takes `&mut` to it while a clone exists. The guard is never
        // handed out, so the `'static` lifetime is not observable.
        let guard = unsafe {
            std::mem::transmute::<TokioGuard<'_, Source>, TokioGuard<'static, Source>>(guard)
        };
        TokioEvent { guard, _fd: fd }
    }
}

/// Refuses what Tokio's epoll registration refuses, with the same errors:
/// a closed fd (`EBADF`), a regular file or directory (`EPERM`).
fn check_fd(fd: RawFd) -> io::Result<()> {
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a `stat` into the local buffer; a bad fd is an
    // error, not undefined behaviour.
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstat succeeded, so it filled the buffer.
    let mode = unsafe { stat.assume_init() }.st_mode & libc::S_IFMT;
    if mode == libc::S_IFREG || mode == libc::S_IFDIR {
        return Err(io::Error::from_raw_os_error(libc::EPERM));
    }
    Ok(())
}

impl Registration {
    /// Registers `fd` for `interest` on the current thread's ring, or with
    /// Tokio's reactor where io_uring is not in use.
    ///
    /// # Safety
    ///
    /// `fd` stays open and names the same file until the registration is
    /// dropped (the contract of `AsyncFd::register`).
    pub(crate) unsafe fn new(fd: RawFd, interest: Interest) -> io::Result<Registration> {
        if crate::driver::io_uring_active()? {
            check_fd(fd)?;
            return RingReg::new(fd, interest).map(Registration::Ring);
        }
        // SAFETY: the caller keeps `fd` open and unchanged while this
        // registration (and with it Tokio's `AsyncFd`) lives.
        match unsafe { TokioAsyncFd::register_with_interest(Source(fd), interest) } {
            Ok(fd) => Ok(Registration::Tokio(Arc::new(fd))),
            Err(e) => Err(e.into_parts().1),
        }
    }

    /// Polls for readiness in `slot`'s direction (`Read` or `Write`).
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, slot: Slot) -> Poll<io::Result<Event>> {
        match self {
            Registration::Ring(ring) => {
                let interest = match slot {
                    Slot::Write => Interest::WRITABLE,
                    _ => Interest::READABLE,
                };
                ring.poll_ready(cx, interest, slot).map_ok(Event::Ring)
            }
            Registration::Tokio(fd) => {
                let guard = match slot {
                    Slot::Write => ready!(fd.poll_write_ready(cx))?,
                    _ => ready!(fd.poll_read_ready(cx))?,
                };
                Poll::Ready(Ok(Event::Tokio(TokioEvent::new(Arc::clone(fd), guard))))
            }
        }
    }

    /// Waits for any readiness of `interest`.
    pub(crate) async fn readiness(&self, interest: Interest) -> io::Result<Event> {
        match self {
            Registration::Ring(ring) => {
                std::future::poll_fn(|cx| ring.poll_ready(cx, interest, Slot::Any))
                    .await
                    .map(Event::Ring)
            }
            Registration::Tokio(fd) => {
                let guard = fd.ready(interest).await?;
                Ok(Event::Tokio(TokioEvent::new(Arc::clone(fd), guard)))
            }
        }
    }

    /// Runs `f` if the fd is ready for `interest`; clears that readiness
    /// when `f` says `WouldBlock`.
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        match self {
            Registration::Ring(ring) => {
                let event = ring.ready_now(interest)?;
                if event.ready.is_empty() {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                match f() {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        ring.clear(event);
                        Err(e)
                    }
                    res => res,
                }
            }
            Registration::Tokio(fd) => fd.try_io(interest, |_| f()),
        }
    }

    /// Runs `f` until it does not say `WouldBlock`, waiting for readiness
    /// of `interest` before each try and clearing it after each
    /// `WouldBlock`.
    pub(crate) async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        match self {
            Registration::Ring(ring) => loop {
                let event =
                    std::future::poll_fn(|cx| ring.poll_ready(cx, interest, Slot::Any)).await?;
                match f() {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => ring.clear(event),
                    res => return res,
                }
            },
            Registration::Tokio(fd) => fd.async_io(interest, |_| f()).await,
        }
    }
}

impl Event {
    pub(crate) fn ready(&self) -> Ready {
        match self {
            Event::Ring(event) => event.ready,
            Event::Tokio(event) => event.guard.ready(),
        }
    }

    /// Clears the readiness this event saw (unless newer readiness came in).
    pub(crate) fn clear(self, reg: &Registration) {
        match (self, reg) {
            (Event::Ring(event), Registration::Ring(ring)) => ring.clear(event),
            (Event::Tokio(mut event), _) => event.guard.clear_ready(),
            // A guard's `AsyncFd` was swapped for another through
            // `AsyncFdReadyMutGuard::get_mut`: nothing of ours to clear.
            _ => {}
        }
    }

    /// Clears `ready` of the readiness this event saw; returns the event
    /// if it still has readiness left.
    pub(crate) fn clear_matching(self, reg: &Registration, ready: Ready) -> Option<Event> {
        match (self, reg) {
            (Event::Ring(event), Registration::Ring(ring)) => {
                ring.clear(event.with_ready(ready));
                let left = event.ready - ready;
                (!left.is_empty()).then_some(Event::Ring(event.with_ready(left)))
            }
            (Event::Tokio(mut event), _) => {
                event.guard.clear_ready_matching(ready);
                (!event.guard.ready().is_empty()).then_some(Event::Tokio(event))
            }
            (Event::Ring(event), _) => {
                let left = event.ready - ready;
                (!left.is_empty()).then_some(Event::Ring(event.with_ready(left)))
            }
        }
    }
}
