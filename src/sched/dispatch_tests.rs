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
use super::waiter::{Hold, Waiter};

/// A waker that sends on a channel.
struct Send(std::sync::Mutex<mpsc::Sender<()>>);

impl Wake for Send {
    fn wake(self: Arc<Self>) {
        let _ = self.0.lock().map(|tx| tx.send(()));
    }
}

/// A device of 1 byte per 100 µs with a 100 ms goal (parts of 50 ms,
/// 500 bytes), a large request of class "bulk" (eight parts; the bucket's
/// first 100 ms pass two at once, the third waits), then a small one of
/// class "rpc" (shares 1000) held as `hold`. Slow on purpose: the large
/// request's last part is due 300 ms after the small one's turn, so a
/// test thread or timer delayed on a busy machine (a CI run with a 1 ms
/// device saw both granted in one late timer tick) still sees the order.
/// The device is returned too: its timer does nothing once it is dropped.
fn large_then_small(hold: Hold) -> (Arc<Device>, Arc<Waiter>, Arc<Waiter>) {
    let net = NetProperties::new(1e9, 1e4, 1e9, 1e4);
    let dev = Device::new("test".into(), CostModel::net(&net, 100_000_000), 32);
    let bulk = PriorityClass::new("bulk", 100);
    let rpc = PriorityClass::new("rpc", 1000);
    let large = dev.enqueue(
        Arc::clone(&bulk.inner),
        Dir::Write,
        4000,
        now_ns(),
        Hold::Instant,
    );
    let small = dev.enqueue(Arc::clone(&rpc.inner), Dir::Write, 100, now_ns(), hold);
    (dev, large, small)
}

#[test]
fn another_class_goes_between_the_parts_of_a_large_request() {
    // Awaited to completion (a file write, say): it does not jump the
    // bucket, it waits for a part of the large request.
    let (_dev, large, small) = large_then_small(Hold::UntilDone);
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
    // A socket send: it leaves the device when dispatched.
    let (_dev, large, small) = large_then_small(Hold::Instant);
    assert!(
        small.poll_granted(Waker::noop()),
        "a small request of a class ranked ahead waited behind the waiting part's tokens"
    );
    assert!(!large.poll_granted(Waker::noop()));
}

#[test]
fn a_class_ranked_ahead_does_not_step_aside_for_one_behind() {
    // The same device. Class "bulk" has used the bucket (900 bytes) and
    // queued 400 more; an RPC of 1,200 bytes (three parts, too large to
    // jump) comes, then another bulk request. The RPC's class is far
    // behind its share: between its parts it does not step aside for the
    // bulk class, which has used more of its own.
    let net = NetProperties::new(1e9, 1e4, 1e9, 1e4);
    let dev = Device::new("test".into(), CostModel::net(&net, 100_000_000), 32);
    let bulk = PriorityClass::new("bulk", 100);
    let rpc = PriorityClass::new("rpc", 1000);
    let enqueue = |class: &PriorityClass, bytes| {
        dev.enqueue(
            Arc::clone(&class.inner),
            Dir::Write,
            bytes,
            now_ns(),
            Hold::Instant,
        )
    };
    let first = enqueue(&bulk, 900);
    assert!(first.poll_granted(Waker::noop()), "the bucket starts full");
    let _queued = enqueue(&bulk, 400);
    let request = enqueue(&rpc, 1200);
    let later = enqueue(&bulk, 400);
    let (tx, rx) = mpsc::channel();
    let waker = Waker::from(Arc::new(Send(std::sync::Mutex::new(tx))));
    while !request.poll_granted(&waker) {
        rx.recv().expect("the timer grants it");
    }
    assert!(
        !later.poll_granted(Waker::noop()),
        "the RPC stepped aside between its parts for a class that had used more of its share"
    );
}
