//! [`AsyncFd`]: Tokio's `tokio::io::unix::AsyncFd`, with readiness from
//! the ring.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll, ready};

use tokio::io::Interest;

use super::error::AsyncFdRegisterError;
use super::registration::{Event, Registration};
use super::ring::Slot;

/// Readiness of an fd you read and write yourself (non-blocking system
/// calls on a socket, pipe, eventfd, timerfd, inotify, netlink, ...), with
/// the API of Tokio's `tokio::io::unix::AsyncFd`.
///
/// `AsyncFd` owns the object `T` that owns the fd, and tells you when the
/// fd is (probably) ready: wait with [`readable`](Self::readable),
/// [`writable`](Self::writable) or [`ready`](Self::ready), try the system
/// call, and clear the readiness when it says `WouldBlock`
/// ([`AsyncFdReadyGuard::try_io`] does both), so the next wait waits for
/// the next event. Readiness is edge-triggered: it stays set until you
/// clear it, however many times you wait. The fd should be in non-blocking
/// mode.
///
/// With io_uring the readiness comes from a multishot poll on the ring of
/// the thread that registered the fd (see [the module](super)); on the
/// fallback path, from Tokio's reactor through Tokio's own `AsyncFd`.
/// [`into_inner`](Self::into_inner) and drop cancel the poll at once.
///
/// ```no_run
/// use std::io::Read;
/// use shardio::io::unix::AsyncFd;
///
/// #[shardio::main]
/// async fn main() -> std::io::Result<()> {
///     let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     b.set_nonblocking(true)?;
///     // SAFETY: the stream owns its fd and is neither replaced nor closed
///     // while registered.
///     let a = unsafe { AsyncFd::register(a)? };
///     std::io::Write::write_all(&mut b, b"ping")?;
///     let mut buf = [0u8; 4];
///     let n = a.async_io(shardio::io::Interest::READABLE, |s| (&*s).read(&mut buf)).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok(())
/// }
/// ```
pub struct AsyncFd<T: AsRawFd> {
    /// Present until `into_inner` or drop deregisters.
    reg: Option<Registration>,
    /// Present until `into_inner` or drop.
    inner: Option<T>,
}

/// Readiness seen on an [`AsyncFd`] and not yet cleared, with shared
/// access to it. Drop it to keep the readiness, or clear it.
#[must_use = "You must explicitly choose whether to clear the readiness state by calling a method on ReadyGuard"]
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    pub(super) async_fd: &'a AsyncFd<T>,
    pub(super) event: Option<Event>,
}

/// Readiness seen on an [`AsyncFd`] and not yet cleared, with mutable
/// access to it. Drop it to keep the readiness, or clear it.
#[must_use = "You must explicitly choose whether to clear the readiness state by calling a method on ReadyGuard"]
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    pub(super) async_fd: &'a mut AsyncFd<T>,
    pub(super) event: Option<Event>,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s fd for readable and writable readiness.
    ///
    /// Must be called inside a Tokio runtime (an error otherwise, where
    /// Tokio panics). On failure the error hands `inner` back.
    ///
    /// # Safety
    ///
    /// The fd `inner.as_raw_fd()` returns must be open, stay open and name
    /// the same open file description until the `AsyncFd` is dropped, taken
    /// apart with [`into_inner`](Self::into_inner) or forgotten, and every
    /// call to `as_raw_fd` meanwhile must return that fd (Tokio's contract).
    #[track_caller]
    pub unsafe fn register(inner: T) -> Result<Self, AsyncFdRegisterError<T>> {
        // SAFETY: upheld by the caller.
        unsafe { Self::register_with_interest(inner, Interest::READABLE | Interest::WRITABLE) }
    }

    /// Registers `inner`'s fd for the readiness `interest` names.
    ///
    /// # Safety
    ///
    /// As for [`register`](Self::register).
    #[track_caller]
    pub unsafe fn register_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<Self, AsyncFdRegisterError<T>> {
        // SAFETY: the caller keeps the fd open and unchanged while `inner`
        // is registered; the registration is dropped before `inner`.
        match unsafe { Registration::new(inner.as_raw_fd(), interest) } {
            Ok(reg) => Ok(AsyncFd {
                reg: Some(reg),
                inner: Some(inner),
            }),
            Err(cause) => Err(AsyncFdRegisterError { inner, cause }),
        }
    }

    /// [`register`](Self::register) without the `unsafe` (deprecated in
    /// Tokio for the same reason: the fd's lifetime cannot be checked).
    #[deprecated(
        note = "unsound due to lack of I/O safety; use `AsyncFd::register` instead (see https://github.com/tokio-rs/tokio/pull/8587)"
    )]
    #[track_caller]
    pub fn new(inner: T) -> io::Result<Self> {
        // SAFETY: not checked, as in Tokio's deprecated `new`.
        unsafe { Ok(Self::register(inner)?) }
    }

    /// [`register_with_interest`](Self::register_with_interest) without
    /// the `unsafe` (deprecated, as in Tokio).
    #[deprecated(
        note = "unsound due to lack of I/O safety; use `AsyncFd::register_with_interest` instead (see https://github.com/tokio-rs/tokio/pull/8587)"
    )]
    #[track_caller]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<Self> {
        // SAFETY: not checked, as in Tokio's deprecated `with_interest`.
        unsafe { Ok(Self::register_with_interest(inner, interest)?) }
    }

    /// [`register`](Self::register) without the `unsafe` (deprecated, as in
    /// Tokio); the error hands `inner` back.
    #[deprecated(
        note = "unsound due to lack of I/O safety; use `AsyncFd::register` instead (see https://github.com/tokio-rs/tokio/pull/8587)"
    )]
    #[track_caller]
    pub fn try_new(inner: T) -> Result<Self, AsyncFdRegisterError<T>> {
        // SAFETY: not checked, as in Tokio's deprecated `try_new`.
        unsafe { Self::register(inner) }
    }

    /// [`register_with_interest`](Self::register_with_interest) without
    /// the `unsafe` (deprecated, as in Tokio); the error hands `inner` back.
    #[deprecated(
        note = "unsound due to lack of I/O safety; use `AsyncFd::register_with_interest` instead (see https://github.com/tokio-rs/tokio/pull/8587)"
    )]
    #[track_caller]
    pub fn try_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<Self, AsyncFdRegisterError<T>> {
        // SAFETY: not checked, as in Tokio's deprecated `try_with_interest`.
        unsafe { Self::register_with_interest(inner, interest) }
    }

    /// The object that owns the fd.
    pub fn get_ref(&self) -> &T {
        match &self.inner {
            Some(inner) => inner,
            None => unreachable!("the inner object is present until into_inner or drop"),
        }
    }

    /// The object that owns the fd, mutably. Do not swap its fd for
    /// another (see [`register`](Self::register)).
    pub fn get_mut(&mut self) -> &mut T {
        match &mut self.inner {
            Some(inner) => inner,
            None => unreachable!("the inner object is present until into_inner or drop"),
        }
    }

    pub(super) fn reg(&self) -> &Registration {
        match &self.reg {
            Some(reg) => reg,
            None => unreachable!("the registration is present until into_inner or drop"),
        }
    }

    /// Deregisters the fd and hands back the object that owns it: the poll
    /// on the ring is cancelled and the cancel request submitted before
    /// this returns (on the fallback path, Tokio deregisters it from
    /// epoll), so nothing of shardio's stays armed on the fd.
    pub fn into_inner(mut self) -> T {
        drop(self.reg.take());
        match self.inner.take() {
            Some(inner) => inner,
            None => unreachable!("the inner object is present until into_inner or drop"),
        }
    }

    /// Polls for read readiness; only the waker of the latest call (this or
    /// [`poll_read_ready_mut`](Self::poll_read_ready_mut)) is kept, and
    /// [`poll_write_ready`](Self::poll_write_ready) keeps its own.
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.reg().poll_ready(cx, Slot::Read))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// [`poll_read_ready`](Self::poll_read_ready) with mutable access to
    /// the object in the guard.
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.reg().poll_ready(cx, Slot::Read))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Polls for write readiness; only the waker of the latest call (this
    /// or [`poll_write_ready_mut`](Self::poll_write_ready_mut)) is kept.
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.reg().poll_ready(cx, Slot::Write))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// [`poll_write_ready`](Self::poll_write_ready) with mutable access to
    /// the object in the guard.
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.reg().poll_ready(cx, Slot::Write))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Waits until the fd is ready for any of `interest`; the guard says
    /// which ([`AsyncFdReadyGuard::ready`]). The readiness may be a false
    /// positive: clear only what you saw block
    /// ([`AsyncFdReadyGuard::clear_ready_matching`]). Any number of tasks
    /// may wait at once.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let event = self.reg().readiness(interest).await?;
        Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        })
    }

    /// [`ready`](Self::ready) with mutable access to the object in the
    /// guard.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = self.reg().readiness(interest).await?;
        Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        })
    }

    /// Waits until the fd is readable (`ready(Interest::READABLE)`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    #[allow(clippy::needless_lifetimes)] // The lifetime improves rustdoc rendering.
    pub async fn readable<'a>(&'a self) -> io::Result<AsyncFdReadyGuard<'a, T>> {
        self.ready(Interest::READABLE).await
    }

    /// Waits until the fd is readable, with mutable access in the guard.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    #[allow(clippy::needless_lifetimes)] // The lifetime improves rustdoc rendering.
    pub async fn readable_mut<'a>(&'a mut self) -> io::Result<AsyncFdReadyMutGuard<'a, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits until the fd is writable (`ready(Interest::WRITABLE)`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    #[allow(clippy::needless_lifetimes)] // The lifetime improves rustdoc rendering.
    pub async fn writable<'a>(&'a self) -> io::Result<AsyncFdReadyGuard<'a, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// Waits until the fd is writable, with mutable access in the guard.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    #[allow(clippy::needless_lifetimes)] // The lifetime improves rustdoc rendering.
    pub async fn writable_mut<'a>(&'a mut self) -> io::Result<AsyncFdReadyMutGuard<'a, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Runs the non-blocking `f` until it does not fail with `WouldBlock`,
    /// waiting for readiness of `interest` before each try and clearing
    /// that readiness after each `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe as far as readiness goes: dropping the future between
    /// tries loses nothing. Whether `f` itself may be cut short is up to
    /// `f`: it runs to completion each time it is called.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.reg().async_io(interest, || f(self.get_ref())).await
    }

    /// [`async_io`](Self::async_io) with mutable access to the object.
    ///
    /// # Cancel safety
    ///
    /// As for [`async_io`](Self::async_io).
    pub async fn async_io_mut<R>(
        &mut self,
        interest: Interest,
        mut f: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let (Some(reg), Some(inner)) = (&self.reg, &mut self.inner) else {
            unreachable!("present until into_inner or drop")
        };
        reg.async_io(interest, || f(inner)).await
    }

    /// Runs `f` once if the fd is ready for `interest` (and clears that
    /// readiness if `f` fails with `WouldBlock`); fails with `WouldBlock`
    /// without calling `f` if it is not.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.reg().try_io(interest, || f(self.get_ref()))
    }

    /// [`try_io`](Self::try_io) with mutable access to the object.
    pub fn try_io_mut<R>(
        &mut self,
        interest: Interest,
        f: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let (Some(reg), Some(inner)) = (&self.reg, &mut self.inner) else {
            unreachable!("present until into_inner or drop")
        };
        reg.try_io(interest, || f(inner))
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: by `register`'s contract the fd is open for as long as
        // `self` holds it.
        unsafe { BorrowedFd::borrow_raw(self.as_raw_fd()) }
    }
}

impl<T: std::fmt::Debug + AsRawFd> std::fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<T: AsRawFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        // Deregistered (the poll cancelled) before `inner` drops and maybe
        // closes the fd.
        drop(self.reg.take());
    }
}
