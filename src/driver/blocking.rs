//! Waiting on the blocking pool: the fallback path's socket calls wait for
//! readiness with `poll(2)`, which could wait forever. Each such operation
//! gets a cancel signal (an eventfd) that its wait watches beside the
//! socket, fired when the operation's future is dropped, so no
//! blocking-pool thread is left waiting for a future nobody polls (and a
//! runtime, whose shutdown waits for its blocking threads, can shut down).

use std::cell::Cell;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use super::eventfd;

/// Fired when the future of an operation running on the blocking pool is
/// dropped.
pub(crate) struct CancelSignal(OwnedFd);

impl CancelSignal {
    pub(crate) fn new() -> io::Result<CancelSignal> {
        eventfd::new().map(CancelSignal)
    }

    /// Wakes the operation's wait, now or whenever it starts.
    pub(crate) fn fire(&self) {
        let _ = eventfd::signal(self.0.as_fd());
    }
}

thread_local! {
    /// The cancel signal of the operation this blocking-pool thread runs; -1 none.
    static CURRENT: Cell<RawFd> = const { Cell::new(-1) };
}

/// Runs `f` (an operation's blocking form) with `signal` watched by every
/// [`wait_for`] it makes.
pub(crate) fn run_with<R>(signal: Option<&CancelSignal>, f: impl FnOnce() -> R) -> R {
    let fd = signal.map_or(-1, |s| s.0.as_raw_fd());
    let previous = CURRENT.with(|c| c.replace(fd));
    let out = f();
    CURRENT.with(|c| c.set(previous));
    out
}

/// Waits until `fd` reports one of `events` (returned with what else it
/// reports), or fails once the operation's future was dropped.
pub(crate) fn wait_for(fd: RawFd, events: libc::c_short) -> io::Result<libc::c_short> {
    // A negative fd is ignored by poll(2): without a signal only `fd` counts.
    let cancel = CURRENT.with(Cell::get);
    let mut pfds = [
        libc::pollfd {
            fd,
            events,
            revents: 0,
        },
        libc::pollfd {
            fd: cancel,
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    loop {
        // SAFETY: two valid pollfds; -1 waits until one is ready.
        let ret = unsafe { libc::poll(pfds.as_mut_ptr(), 2, -1) };
        if ret < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if pfds[1].revents != 0 {
            return Err(io::Error::other(
                "shardio: the operation's future was dropped while it waited on the blocking pool",
            ));
        }
        return Ok(pfds[0].revents);
    }
}
