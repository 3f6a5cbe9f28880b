//! Unix-specific readiness: [`AsyncFd`], the readiness of any fd, as
//! `tokio::io::unix` has it.
//!
//! # How readiness works here
//!
//! With io_uring, registering an fd arms one multishot `POLL_ADD`
//! (`IORING_POLL_ADD_MULTI`) on the registering thread's ring for the
//! events of its [`Interest`](crate::io::Interest). The kernel posts a
//! completion for every wake-up of the fd that finds it ready, which makes
//! it edge-triggered like Tokio's epoll registration: each completion sets
//! readiness bits that stay set until a guard clears them
//! ([`AsyncFdReadyGuard::clear_ready`], or a `try_io` that sees
//! `WouldBlock`). When the kernel ends the poll (a completion without
//! `IORING_CQE_F_MORE`), the next readiness check arms a new one; kernels
//! older than 5.13 that refuse the multishot flag get single-shot polls
//! re-armed the same way.
//!
//! The first completion of each poll carries the fd's state when the poll
//! was armed; like epoll, which judges an event when the reactor collects
//! it, shardio checks it against the fd's state (one `poll(2)`) when it is
//! first taken in. [`Interest::PRIORITY`](crate::io::Interest::PRIORITY)
//! also polls `POLLIN`: io_uring ignores wake-ups that only match
//! `EPOLLPRI`, which is how TCP's urgent data would otherwise go unseen.
//!
//! Each registration keeps one small Tokio task that only waits: the
//! runtime drops it when it shuts down, which is how a waiting task learns
//! (with an error, as with Tokio) that no readiness will come.
//!
//! A guard remembers the *tick* at which it saw the readiness: a counter
//! bumped by every completion taken in. Clearing through the guard does
//! nothing if the tick moved on, so an event that arrives while you hold a
//! guard is never cleared by it (Tokio's rule).
//!
//! [`AsyncFd::into_inner`] and drop cancel the poll and submit the cancel
//! request at once: the ring keeps no operation on the fd you take back.
//! The kernel holds its own reference to the file while a poll is armed,
//! so until it has processed the cancel (immediately on this thread's
//! rings; with SQ polling, when the SQ thread picks it up) a socket closed
//! right after `into_inner` may stay open for that long. Nothing is unsafe
//! about it: a poll never touches your memory.
//!
//! On the fallback path every call goes to Tokio's `AsyncFd`.

mod async_fd;
mod error;
mod guard;
mod registration;
mod ring;

pub use async_fd::{AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard};
#[allow(deprecated)]
pub use error::AsyncFdTryNewError;
pub use error::{AsyncFdRegisterError, TryIoError};
