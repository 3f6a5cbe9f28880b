//! Runs a callback when the tokens a request waits for will be there: a
//! device's dispatch, or a task held by its class's bandwidth cap.
//!
//! One thread for the process, started on first use, sleeping on a condvar
//! with a 1 µs timer slack: token waits are tens of microseconds, below the
//! millisecond resolution of Tokio's timer, and a thread works in any
//! runtime (or none).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, LazyLock};
use std::time::Duration;

use super::clock::now_ns;
use crate::sync::Mutex;

type Callback = Box<dyn FnOnce() + Send>;

struct Timer {
    due: Mutex<BinaryHeap<Reverse<Entry>>>,
    cond: Condvar,
}

struct Entry(u64, Callback);

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

static TIMER: LazyLock<&'static Timer> = LazyLock::new(|| {
    let timer: &'static Timer = Box::leak(Box::new(Timer {
        due: Mutex::new(BinaryHeap::new()),
        cond: Condvar::new(),
    }));
    let spawned = std::thread::Builder::new()
        .name("shardio-sched-timer".into())
        .spawn(move || run(timer));
    if let Err(e) = spawned {
        // Without the thread, dispatch still runs whenever an operation is
        // queued or completes; only idle token waits lose their wake-up.
        tracing::warn!(
            "shardio: could not start the scheduler timer thread ({e}); token waits are served when the next operation arrives"
        );
    }
    timer
});

/// Runs `callback` at `deadline_ns` (on the `now_ns` clock), on the timer
/// thread: it must be short and must not block.
pub(crate) fn wake_at(deadline_ns: u64, callback: impl FnOnce() + Send + 'static) {
    let timer = *TIMER;
    let mut due = timer.due.lock();
    let earliest = due.peek().map(|e| e.0.0);
    due.push(Reverse(Entry(deadline_ns, Box::new(callback))));
    if earliest.is_none_or(|t| deadline_ns < t) {
        timer.cond.notify_one();
    }
}

fn run(timer: &'static Timer) {
    // SAFETY: prctl(PR_SET_TIMERSLACK) takes an integer argument and only
    // changes this thread's timer slack; no memory is passed.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1_000 as libc::c_ulong, 0, 0, 0);
    }
    let mut due = timer.due.lock();
    loop {
        let now = now_ns();
        let mut ready = Vec::new();
        while let Some(Reverse(Entry(at, _))) = due.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse(Entry(_, callback))) = due.pop() {
                ready.push(callback);
            }
        }
        if !ready.is_empty() {
            drop(due);
            for callback in ready {
                callback();
            }
            due = timer.due.lock();
            continue;
        }
        due = match due.peek() {
            Some(Reverse(Entry(at, _))) => {
                let wait = Duration::from_nanos(at.saturating_sub(now));
                timer
                    .cond
                    .wait_timeout(due, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => timer.cond.wait(due).unwrap_or_else(|e| e.into_inner()),
        };
    }
}
