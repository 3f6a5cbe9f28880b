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
/// 500 bytes; the bucket starts with two), with classes "bulk" (shares
/// 100) and "rpc" (shares 1000). Slow on purpose: the orders checked
/// below are 30 ms or more apart, so a test thread or timer delayed on a
/// busy machine (a CI run with a 1 ms device saw two requests granted in
/// one late timer tick) still sees them. The device is kept: its timer
/// does nothing once it is dropped.
struct Slow {
    dev: Arc<Device>,
    bulk: PriorityClass,
    rpc: PriorityClass,
}

impl Slow {
    fn new() -> Slow {
        let net = NetProperties::new(1e9, 1e4, 1e9, 1e4);
        Slow {
            dev: Device::new("test".into(), CostModel::net(&net, 100_000_000), 32),
            bulk: PriorityClass::new("bulk", 100),
            rpc: PriorityClass::new("rpc", 1000),
        }
    }

    /// Queues a write of `bytes` in `class`, held as `hold`.
    fn enqueue(&self, class: &PriorityClass, bytes: u64, hold: Hold) -> Arc<Waiter> {
        self.dev
            .enqueue(Arc::clone(&class.inner), Dir::Write, bytes, now_ns(), hold)
    }
}

/// Waits until `waiter` is granted (by the device's timer).
fn wait_granted(waiter: &Waiter) {
    let (tx, rx) = mpsc::channel();
    let waker = Waker::from(Arc::new(Send(std::sync::Mutex::new(tx))));
    while !waiter.poll_granted(&waker) {
        rx.recv().expect("the timer grants it");
    }
}

/// On the [`Slow`] device, a large request of class "bulk" (eight parts;
/// the bucket's first 100 ms pass two at once, the third waits), then a
/// small one of class "rpc" held as `hold`: the large request's last part
/// is due 300 ms after the small one's turn.
fn large_then_small(hold: Hold) -> (Slow, Arc<Waiter>, Arc<Waiter>) {
    let slow = Slow::new();
    let large = slow.enqueue(&slow.bulk, 4000, Hold::Instant);
    let small = slow.enqueue(&slow.rpc, 100, hold);
    (slow, large, small)
}

#[test]
fn another_class_goes_between_the_parts_of_a_large_request() {
    // Awaited to completion (a file write, say): it does not jump the
    // bucket, it waits for a part of the large request.
    let (_slow, large, small) = large_then_small(Hold::UntilDone);
    wait_granted(&small);
    assert!(
        !large.poll_granted(Waker::noop()),
        "the small request of the other class waited for every part of the large one"
    );
}

#[test]
fn a_small_request_ranked_ahead_does_not_wait_behind_a_waiting_part() {
    // A socket send: it leaves the device when dispatched.
    let (_slow, large, small) = large_then_small(Hold::Instant);
    assert!(
        small.poll_granted(Waker::noop()),
        "a small request of a class ranked ahead waited behind the waiting part's tokens"
    );
    assert!(!large.poll_granted(Waker::noop()));
}

#[test]
fn a_class_ranked_ahead_does_not_step_aside_for_one_behind() {
    // Class "bulk" has used the bucket (900 bytes) and queued 400 more; an
    // RPC of 1,200 bytes (three parts, too large to jump) comes, then
    // another bulk request. The RPC's class is far behind its share:
    // between its parts it does not step aside for the bulk class, which
    // has used more of its own.
    let slow = Slow::new();
    let first = slow.enqueue(&slow.bulk, 900, Hold::Instant);
    assert!(first.poll_granted(Waker::noop()), "the bucket starts full");
    let _queued = slow.enqueue(&slow.bulk, 400, Hold::Instant);
    let request = slow.enqueue(&slow.rpc, 1200, Hold::Instant);
    let later = slow.enqueue(&slow.bulk, 400, Hold::Instant);
    wait_granted(&request);
    assert!(
        !later.poll_granted(Waker::noop()),
        "the RPC stepped aside between its parts for a class that had used more of its share"
    );
}
