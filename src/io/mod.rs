//! Readiness of file descriptors you drive yourself.
//!
//! [`unix::AsyncFd`] is Tokio's `tokio::io::unix::AsyncFd` with the same
//! API, whose readiness comes from the current thread's io_uring ring (a
//! multishot `POLL_ADD`) instead of Tokio's epoll reactor; on the fallback
//! path (no io_uring, or `SHARDIO_FORCE_FALLBACK=1`) it is Tokio's own
//! `AsyncFd` underneath. Code that calls `sendmsg`/`recvmsg` with control
//! messages, reads an inotify or timerfd, or passes fds over a Unix socket
//! keeps working after the import swap `tokio::io::unix` → `shardio::io::unix`.
//!
//! [`Interest`] and [`Ready`] are Tokio's own types, re-exported so the
//! swap covers them too.

pub mod unix;

pub use tokio::io::{Interest, Ready};
