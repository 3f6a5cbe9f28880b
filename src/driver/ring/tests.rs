//! The ring's submit, reap and cancel paths, driven by hand (no runtime, no
//! reaper task): what is pushed reaches the kernel on a flush, completions
//! land in their slots and wake their tasks, and a dropped operation's data
//! lives until its last CQE.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use io_uring::{opcode, types};

use super::Ring;
use crate::driver::params::RingParams;
use crate::driver::placement::Placement;
use crate::driver::probe::global_fallback;
use crate::driver::slab::{Cqe, Lifecycle, Orphan};

/// A ring, or `None` where io_uring is unavailable (the fallback CI run).
fn ring(sq_entries: u32) -> Option<Ring> {
    if global_fallback().is_some() {
        return None;
    }
    let params = RingParams {
        sq_entries,
        ..RingParams::default()
    };
    Some(Ring::new(&params, Placement::Plain).expect("ring setup"))
}

fn eventfd() -> OwnedFd {
    crate::driver::eventfd::new().expect("eventfd")
}

fn poll_in(fd: &OwnedFd) -> io_uring::squeue::Entry {
    opcode::PollAdd::new(types::Fd(fd.as_raw_fd()), libc::POLLIN as u32).build()
}

/// Counts its wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Records the CQEs an orphan sees, and that it was dropped.
struct Recorder {
    results: Arc<std::sync::Mutex<Vec<i32>>>,
    dropped: Arc<AtomicBool>,
}

impl Orphan for Recorder {
    fn cqe(&mut self, cqe: Cqe) {
        self.results.lock().unwrap().push(cqe.result);
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

fn recorder() -> (Recorder, Arc<std::sync::Mutex<Vec<i32>>>, Arc<AtomicBool>) {
    let results = Arc::new(std::sync::Mutex::new(Vec::new()));
    let dropped = Arc::new(AtomicBool::new(false));
    let r = Recorder {
        results: Arc::clone(&results),
        dropped: Arc::clone(&dropped),
    };
    (r, results, dropped)
}

/// Flushes and reaps until `done`, for at most 10 s. Sleeping is a system
/// call, on whose return the kernel runs pending completion work.
fn reap_until(ring: &Ring, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "no completion within 10 s");
        ring.flush();
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_pushed_op_reaches_the_kernel_on_flush_and_its_result_is_taken_once() {
    let Some(ring) = ring(8) else { return };
    let waker = Arc::new(CountingWaker::default());
    let (index, submit_now) = {
        let sqe = opcode::Nop::new().build();
        // SAFETY: a nop SQE points at no memory.
        unsafe { ring.push(sqe, Lifecycle::Waiting(None), false) }
    };
    assert!(!submit_now, "a socket-class op waits for the batch");
    let waker_ref = Waker::from(Arc::clone(&waker));
    let mut cx = Context::from_waker(&waker_ref);
    assert!(
        ring.poll_complete(index, &mut cx).is_pending(),
        "not submitted yet"
    );
    assert!(!ring.is_idle());
    ring.flush();
    reap_until(&ring, || waker.0.load(Ordering::SeqCst) > 0);
    assert_eq!(waker.0.load(Ordering::SeqCst), 1, "woken once");
    match ring.poll_complete(index, &mut cx) {
        Poll::Ready(cqe) => assert_eq!(cqe.result, 0),
        Poll::Pending => panic!("completed op still pending"),
    }
    assert!(ring.is_idle(), "the slot is free once the result was taken");
}

#[test]
fn storage_ops_ask_for_submission_once_a_batch_is_queued() {
    let Some(ring) = ring(8) else { return };
    let params = RingParams {
        storage_submit_batch: 2,
        ..RingParams::default()
    };
    let ring2 = Ring::new(&params, Placement::Plain).expect("ring setup");
    for (ring, batch) in [(&ring, 1), (&ring2, 2)] {
        let mut indices = Vec::new();
        for n in 1..=batch {
            // SAFETY: a nop SQE points at no memory.
            let (index, submit_now) =
                unsafe { ring.push(opcode::Nop::new().build(), Lifecycle::Waiting(None), true) };
            assert_eq!(submit_now, n == batch, "batch {batch}, op {n}");
            indices.push(index);
        }
        complete_all(ring, &indices);
    }
}

/// Flushes and reaps until every op in `indices` completed, taking each
/// result (the slots are then free).
fn complete_all(ring: &Ring, indices: &[usize]) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut done = vec![false; indices.len()];
    reap_until(ring, || {
        for (i, &index) in indices.iter().enumerate() {
            if !done[i] {
                done[i] = ring.poll_complete(index, &mut cx).is_ready();
            }
        }
        done.iter().all(|&d| d)
    });
    assert!(ring.is_idle());
}

#[test]
fn ops_beyond_the_submission_queue_wait_in_the_backlog_and_all_complete() {
    let Some(ring) = ring(4) else { return };
    let indices: Vec<usize> = (0..40)
        .map(|_| {
            // SAFETY: a nop SQE points at no memory.
            unsafe { ring.push(opcode::Nop::new().build(), Lifecycle::Waiting(None), false) }.0
        })
        .collect();
    complete_all(&ring, &indices);
}

#[test]
fn a_cancelled_op_keeps_its_data_until_the_kernel_says_it_is_done() {
    let Some(ring) = ring(8) else { return };
    let fd = eventfd();
    // SAFETY: a poll SQE points at no memory; the fd outlives the op.
    let (index, _) = unsafe { ring.push(poll_in(&fd), Lifecycle::Waiting(None), false) };
    ring.flush();
    let (orphan, results, dropped) = recorder();
    ring.cancel(index, Box::new(orphan), true);
    reap_until(&ring, || ring.is_idle());
    assert!(dropped.load(Ordering::SeqCst), "freed after the last CQE");
    assert_eq!(*results.lock().unwrap(), vec![-libc::ECANCELED]);
}

#[test]
fn an_op_completed_before_its_future_was_dropped_is_freed_at_once() {
    let Some(ring) = ring(8) else { return };
    // SAFETY: a nop SQE points at no memory.
    let (index, _) =
        unsafe { ring.push(opcode::Nop::new().build(), Lifecycle::Waiting(None), false) };
    ring.flush();
    // Completed, but the future never took the result.
    reap_until(&ring, || {
        matches!(
            ring.lock().slab.get_mut(index),
            Some(Lifecycle::Completed(_))
        )
    });
    let (orphan, results, dropped) = recorder();
    ring.cancel(index, Box::new(orphan), false);
    assert!(dropped.load(Ordering::SeqCst), "no cancel needed");
    assert_eq!(
        *results.lock().unwrap(),
        vec![0],
        "the result went to the orphan"
    );
    assert!(ring.is_idle());
}

#[test]
fn dropping_a_ring_cancels_and_drains_what_is_in_flight() {
    let Some(ring) = ring(8) else { return };
    let fd = eventfd();
    let (orphan, results, dropped) = recorder();
    // SAFETY: a poll SQE points at no memory; the fd outlives the ring.
    let (index, _) = unsafe { ring.push(poll_in(&fd), Lifecycle::Waiting(None), false) };
    ring.flush();
    // Cancelled, but the request not yet submitted: the drop must finish it.
    ring.cancel(index, Box::new(orphan), false);
    let started = Instant::now();
    drop(ring);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "drained, not timed out"
    );
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(*results.lock().unwrap(), vec![-libc::ECANCELED]);
}
