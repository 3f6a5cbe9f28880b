//! The reaper: a Tokio task per ring that drains its CQ when the kernel
//! signals the ring's eventfd, so completions wake their tasks even while the
//! owner thread is parked or busy with other tasks.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::runtime::Handle;

use super::Ring;

/// The ring's eventfd as Tokio's reactor sees it; the fd is owned by the ring.
struct EventFd(RawFd);

impl AsRawFd for EventFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// Field order matters: the `AsyncFd` deregisters from Tokio's reactor before
/// the ring (and with it the eventfd) can be dropped.
struct Reaper {
    fd: AsyncFd<EventFd>,
    ring: Arc<Ring>,
}

/// Starts the reaper task of `ring` on `handle`'s runtime.
///
/// Fails when the runtime has no I/O driver (`enable_io` was not called).
pub(crate) fn spawn_reaper(handle: &Handle, ring: &Arc<Ring>) -> io::Result<()> {
    let _enter = handle.enter();
    let eventfd = EventFd(ring.eventfd());
    // Tokio panics instead of failing when its I/O driver is disabled; turn
    // that into the error a caller can act on.
    let registered = std::panic::catch_unwind(|| {
        // SAFETY: the eventfd is owned by `ring`, which the `Reaper` keeps
        // alive longer than the `AsyncFd` (field order), and never replaced.
        unsafe { AsyncFd::register_with_interest(eventfd, Interest::READABLE) }
    });
    let fd = match registered {
        Ok(Ok(fd)) => fd,
        Ok(Err(e)) => return Err(no_reactor(&e.to_string())),
        Err(_) => return Err(no_reactor("Tokio's I/O driver is disabled")),
    };
    let reaper = Reaper {
        fd,
        ring: Arc::clone(ring),
    };
    handle.spawn(reaper.run());
    Ok(())
}

fn no_reactor(cause: &str) -> io::Error {
    io::Error::other(format!(
        "shardio needs Tokio's I/O driver to learn about completions: build the runtime with \
         enable_io() or enable_all() ({cause})"
    ))
}

impl Reaper {
    async fn run(self) {
        loop {
            let Ok(mut guard) = self.fd.readable().await else {
                return;
            };
            // Reset first: a CQE posted after this read signals the eventfd
            // again, which Tokio sees as a new readiness event, so the
            // `clear_ready` below cannot lose it.
            self.ring.clear_eventfd();
            self.ring.flush();
            if self.ring.is_retired() && self.ring.is_idle() {
                return;
            }
            guard.clear_ready();
        }
    }
}
