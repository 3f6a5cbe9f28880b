//! How a device with a model dispatches requests larger than one part of
//! its bucket (real timers, so what is checked is order, not time).

use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Wake, Waker};

use super::class::PriorityClass;
use super::clock::now_ns;
use super::cost::CostModel;
use super::device::Device;
use super::dir::Dir;
use super::properties::NetProperties;
use super::waiter::Hold;

/// A waker that sends on a channel.
struct Send(std::sync::Mutex<mpsc::Sender<()>>);

impl Wake for Send {
    fn wake(self: Arc<Self>) {
        let _ = self.0.lock().map(|tx| tx.send(()));
    }
}

#[test]
fn another_class_goes_between_the_parts_of_a_large_request() {
    // 1 byte per µs, a 1 ms goal: parts of half a millisecond (500 bytes).
    let net = NetProperties::new(1e9, 1e6, 1e9, 1e6);
    let dev = Device::new("test".into(), CostModel::net(&net, 1_000_000), 32);
    let bulk = PriorityClass::new("bulk", 100);
    let rpc = PriorityClass::new("rpc", 1000);
    // Eight parts; the bucket's first millisecond passes two at once.
    let large = dev.enqueue(
        Arc::clone(&bulk.inner),
        Dir::Write,
        4000,
        now_ns(),
        Hold::Instant,
    );
    // Awaited to completion (a file write, say): it does not jump the
    // bucket, it waits for a part of the large request.
    let small = dev.enqueue(
        Arc::clone(&rpc.inner),
        Dir::Write,
        100,
        now_ns(),
        Hold::UntilDone,
    );
    let (tx, rx) = mpsc::channel();
    let waker = Waker::from(Arc::new(Send(std::sync::Mutex::new(tx))));
    while !small.poll_granted(&waker) {
        rx.recv().expect("the timer grants it");
    }
    assert!(
        !large.poll_granted(Waker::noop()),
        "the small request of the other class waited for every part of the large one"
    );
}

#[test]
fn a_small_request_ranked_ahead_does_not_wait_behind_a_waiting_part() {
    let net = NetProperties::new(1e9, 1e6, 1e9, 1e6);
    let dev = Device::new("test".into(), CostModel::net(&net, 1_000_000), 32);
    let bulk = PriorityClass::new("bulk", 100);
    let rpc = PriorityClass::new("rpc", 1000);
    let large = dev.enqueue(
        Arc::clone(&bulk.inner),
        Dir::Write,
        4000,
        now_ns(),
        Hold::Instant,
    );
    // The bucket is in deficit now: the large request's third part waits
    // for its timer.
    let small = dev.enqueue(
        Arc::clone(&rpc.inner),
        Dir::Write,
        100,
        now_ns(),
        Hold::Instant,
    );
    assert!(
        small.poll_granted(Waker::noop()),
        "a small request of a class ranked ahead waited behind the waiting part's tokens"
    );
    assert!(!large.poll_granted(Waker::noop()));
}
