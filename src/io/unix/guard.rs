//! The ready guards' methods: clearing the readiness they saw, and
//! `try_io`.

use std::io;
use std::os::fd::AsRawFd;

use tokio::io::Ready;

use super::async_fd::{AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard};
use super::error::TryIoError;

impl<'a, Inner: AsRawFd> AsyncFdReadyGuard<'a, Inner> {
    /// Clears the readiness this guard saw, so the next wait waits for a
    /// new event; readiness that arrived after the guard was made is kept.
    /// Call it when an operation said `WouldBlock`.
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            event.clear(self.async_fd.reg());
        }
    }

    /// Clears only `ready` of the readiness this guard saw (e.g.
    /// `Ready::READABLE` after a read blocked, when the guard also says
    /// writable); the rest stays in the guard.
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        if let Some(event) = self.event.take() {
            self.event = event.clear_matching(self.async_fd.reg(), ready);
        }
    }

    /// Keeps the readiness (what dropping the guard does too).
    pub fn retain_ready(&mut self) {}

    /// The readiness this guard saw and has not cleared.
    pub fn ready(&self) -> Ready {
        self.event.as_ref().map_or(Ready::EMPTY, |e| e.ready())
    }

    /// Runs `f`; if it fails with `WouldBlock`, clears the readiness and
    /// returns `Err(TryIoError)`, so wait again.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<Inner>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            res => Ok(res),
        }
    }

    /// The `AsyncFd` this guard belongs to.
    pub fn get_ref(&self) -> &'a AsyncFd<Inner> {
        self.async_fd
    }

    /// The object that owns the fd.
    pub fn get_inner(&self) -> &'a Inner {
        self.get_ref().get_ref()
    }
}

impl<Inner: AsRawFd> AsyncFdReadyMutGuard<'_, Inner> {
    /// Clears the readiness this guard saw, so the next wait waits for a
    /// new event; readiness that arrived after the guard was made is kept.
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            event.clear(self.async_fd.reg());
        }
    }

    /// Clears only `ready` of the readiness this guard saw; the rest stays
    /// in the guard.
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        if let Some(event) = self.event.take() {
            self.event = event.clear_matching(self.async_fd.reg(), ready);
        }
    }

    /// Keeps the readiness (what dropping the guard does too).
    pub fn retain_ready(&mut self) {}

    /// The readiness this guard saw and has not cleared.
    pub fn ready(&self) -> Ready {
        self.event.as_ref().map_or(Ready::EMPTY, |e| e.ready())
    }

    /// Runs `f`; if it fails with `WouldBlock`, clears the readiness and
    /// returns `Err(TryIoError)`, so wait again.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<Inner>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            res => Ok(res),
        }
    }

    /// The `AsyncFd` this guard belongs to.
    pub fn get_ref(&self) -> &AsyncFd<Inner> {
        self.async_fd
    }

    /// The `AsyncFd` this guard belongs to, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<Inner> {
        self.async_fd
    }

    /// The object that owns the fd.
    pub fn get_inner(&self) -> &Inner {
        self.get_ref().get_ref()
    }

    /// The object that owns the fd, mutably.
    pub fn get_inner_mut(&mut self) -> &mut Inner {
        self.get_mut().get_mut()
    }
}

impl<T: std::fmt::Debug + AsRawFd> std::fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadyGuard")
            .field("async_fd", &self.async_fd)
            .finish()
    }
}

impl<T: std::fmt::Debug + AsRawFd> std::fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MutReadyGuard")
            .field("async_fd", &self.async_fd)
            .finish()
    }
}
