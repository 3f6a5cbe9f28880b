//! The reaper: a Tokio task per ring that drains its CQ when the kernel
//! signals the ring's eventfd, so completions wake their tasks even while the
//! owner thread is parked or busy with other tasks. The ring asks it for
//! work through the ring's [`Handshake`](super::handshake::Handshake).

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::task::Poll;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::runtime::Handle;

use super::handshake::WAKE_BUDGET;
use super::ring::Ring;

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

enum Event<'a> {
    /// Completions arrived (the eventfd is readable).
    Completions(tokio::io::unix::AsyncFdReadyGuard<'a, EventFd>),
    /// An operation asked for a deferred submission, or wakers are queued.
    Work,
    /// The reactor is gone.
    Closed,
}

impl Reaper {
    async fn run(self) {
        let mut busy = false;
        // Wake-ups left for this tick of Tokio's I/O driver (see
        // `WAKE_BUDGET`); a new tick starts when the driver reports the
        // eventfd or a yield returns (Tokio resumes yielded tasks after
        // polling its driver).
        let mut budget = WAKE_BUDGET;
        loop {
            let event = std::future::poll_fn(|cx| {
                if self.ring.handshake().poll_work_request(cx) {
                    return Poll::Ready(Event::Work);
                }
                match self.fd.poll_read_ready(cx) {
                    Poll::Ready(Ok(guard)) => Poll::Ready(Event::Completions(guard)),
                    Poll::Ready(Err(_)) => Poll::Ready(Event::Closed),
                    Poll::Pending => Poll::Pending,
                }
            })
            .await;
            // From here until the next wait, requests only set a flag: waking
            // this task now would cut the yield below short.
            self.ring.handshake().reaper_busy();
            match event {
                Event::Work => {
                    // When the last wake-up released several tasks, more
                    // submissions are coming: let the worker run the ready
                    // tasks first (Tokio defers this wake-up until its run
                    // queue is empty or it checks for I/O) so they share one
                    // enter. A lone request is submitted at once: yielding
                    // would only cost the worker an extra epoll_wait.
                    if busy {
                        tokio::task::yield_now().await;
                        budget = WAKE_BUDGET;
                    }
                    self.ring.flush();
                }
                Event::Completions(mut guard) => {
                    // The eventfd is never read: Tokio registers it
                    // edge-triggered and every kernel write is a new edge, so
                    // after `clear_ready` the next CQE wakes this task again.
                    self.ring.flush();
                    guard.clear_ready();
                    budget = WAKE_BUDGET;
                }
                Event::Closed => return,
            }
            // Wake the tasks whose operations completed, at most `budget`
            // per driver tick, letting the worker run them before the next.
            let mut woken = 0;
            loop {
                let (n, more) = self.ring.handshake().wake_batch(budget);
                woken += n;
                budget -= n;
                if budget == 0 {
                    tokio::task::yield_now().await;
                    budget = WAKE_BUDGET;
                }
                if !more {
                    break;
                }
            }
            busy = woken > 1;
            if self.ring.is_retired() && self.ring.is_idle() {
                return;
            }
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        self.ring.reaper_gone();
    }
}
