//! A device's queue under the model checker (`--cfg shardio_loom`): tasks
//! on different threads queue, wait, withdraw and complete requests at
//! once, in every interleaving (up to three preemptions) of the device's
//! and the requests' locks (loom's, through `sync::model`). A lost grant
//! wake-up shows as a deadlock; room leaked in the device shows in its
//! counts and in a request that is no longer dispatched at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::Notify;

use super::admit::{Admit, admit};
use super::class::PriorityClass;
use super::cost::CostModel;
use super::device::Device;
use super::dir::Dir;
use super::permit::Permit;
use super::waiter::Hold;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// A waker that notifies a loom thread.
struct Flag(Notify);

impl Wake for Flag {
    fn wake(self: StdArc<Self>) {
        self.0.notify();
    }
}

fn request(dev: &StdArc<Device>, class: &PriorityClass) -> Admit {
    admit(
        StdArc::clone(dev),
        StdArc::clone(&class.inner),
        Dir::Read,
        4096,
        Hold::UntilDone,
    )
}

fn poll_once(admit: &mut Admit) -> Poll<Permit> {
    Pin::new(admit).poll(&mut Context::from_waker(Waker::noop()))
}

/// The device has no request in flight or queued, and a new one is
/// dispatched at once.
fn assert_idle(dev: &StdArc<Device>, class: &PriorityClass) {
    assert_eq!(dev.counts(), (0, 0), "(in flight, queued)");
    assert!(
        poll_once(&mut request(dev, class)).is_ready(),
        "an idle device dispatches at once"
    );
}

/// A device taking one request at a time (no model: the in-flight cap):
/// a first request granted and completed on another thread (`done`), and
/// a second one queued behind it.
fn one_granted_one_queued() -> (
    StdArc<Device>,
    PriorityClass,
    loom::thread::JoinHandle<()>,
    Admit,
) {
    let dev = Device::new("loom".into(), CostModel::nominal(), 1);
    let class = PriorityClass::new("a", 100);
    let Poll::Ready(first) = poll_once(&mut request(&dev, &class)) else {
        panic!("an idle device dispatches at once");
    };
    let done = loom::thread::spawn(move || drop(first));
    let second = request(&dev, &class);
    (dev, class, done, second)
}

#[test]
fn loom_device_completion_grants_the_queued_request() {
    model(|| {
        let (dev, class, done, mut second) = one_granted_one_queued();
        let waiter = loom::thread::spawn(move || {
            let flag = StdArc::new(Flag(Notify::new()));
            let waker = Waker::from(StdArc::clone(&flag));
            // A grant whose wake-up is lost leaves this waiting for ever.
            let permit = loop {
                match Pin::new(&mut second).poll(&mut Context::from_waker(&waker)) {
                    Poll::Ready(permit) => break permit,
                    Poll::Pending => flag.0.wait(),
                }
            };
            drop(permit);
        });
        done.join().unwrap();
        waiter.join().unwrap();
        assert_idle(&dev, &class);
    });
}

#[test]
fn loom_device_request_withdrawn_while_granted() {
    model(|| {
        let (dev, class, done, mut second) = one_granted_one_queued();
        let withdrawn = loom::thread::spawn(move || {
            // One look, then the future is dropped: granted or not, the
            // room it was given must come back.
            if let Poll::Ready(permit) = poll_once(&mut second) {
                drop(permit);
            }
            drop(second);
        });
        done.join().unwrap();
        withdrawn.join().unwrap();
        assert_idle(&dev, &class);
    });
}
