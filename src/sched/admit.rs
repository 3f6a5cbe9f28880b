//! Waiting for a device's scheduler to dispatch a request: first for the
//! class's bandwidth cap, if it has one, then in the device's fair queue.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::class::ClassInner;
use super::clock::now_ns;
use super::device::Device;
use super::dir::Dir;
use super::permit::Permit;
use super::timer;
use super::token_bucket::TokenBucket;
use super::waiter::{Hold, Waiter};

/// Resolves to a [`Permit`] when the device dispatches the request. Queued
/// at creation (or once its class's cap lets it through); dropping it
/// before dispatch withdraws the request.
pub(crate) struct Admit {
    device: Arc<Device>,
    class: Arc<ClassInner>,
    dir: Dir,
    bytes: u64,
    hold: Hold,
    issued: u64,
    stage: Stage,
}

enum Stage {
    /// Held by the class's bandwidth cap until the bucket reaches `pos`;
    /// a timer is set for `armed` (ns).
    Capped {
        bucket: Arc<TokenBucket>,
        pos: u64,
        armed: u64,
    },
    Queued(Arc<Waiter>),
    Done,
}

pub(crate) fn admit(
    device: Arc<Device>,
    class: Arc<ClassInner>,
    dir: Dir,
    bytes: u64,
    hold: Hold,
) -> Admit {
    let issued = now_ns();
    let stage = match class.cap() {
        Some(bucket) => {
            bucket.replenish(issued);
            let pos = bucket.grab(bytes);
            Stage::Capped {
                bucket,
                pos,
                armed: 0,
            }
        }
        None => Stage::Queued(device.enqueue(Arc::clone(&class), dir, bytes, issued, hold)),
    };
    Admit {
        device,
        class,
        dir,
        bytes,
        hold,
        issued,
        stage,
    }
}

/// Waits for `admit`'s dispatch, if the scheduler queued the request at all.
///
/// # Cancel safety
///
/// Dropping the future before it completes drops the `Admit`, which
/// withdraws the request: the operation is never submitted, and nothing
/// is left holding room in the device. A request still held by its
/// class's bandwidth cap never joins the device's queue (the bytes it took
/// from the cap stay taken); a queued one is marked withdrawn and skipped
/// when its turn comes (the fair queue still charges its class for it);
/// one dispatched but not yet collected has its permit completed at once.
/// The place in the queue is lost: a new call queues behind what arrived
/// meanwhile.
pub(crate) async fn dispatched(admit: Option<Admit>) -> Option<Permit> {
    match admit {
        Some(admit) => Some(admit.await),
        None => None,
    }
}

impl Future for Admit {
    type Output = Permit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit> {
        let this = &mut *self;
        loop {
            match &mut this.stage {
                Stage::Capped { bucket, pos, armed } => {
                    let now = now_ns();
                    bucket.replenish(now);
                    let missing = bucket.deficiency(*pos);
                    if missing > 0 {
                        let at = now + bucket.wait_ns(missing);
                        if *armed == 0 || at < *armed || now >= *armed {
                            *armed = at;
                            let waker = cx.waker().clone();
                            timer::wake_at(at, move || waker.wake());
                        }
                        return Poll::Pending;
                    }
                    let waiter = this.device.enqueue(
                        Arc::clone(&this.class),
                        this.dir,
                        this.bytes,
                        this.issued,
                        this.hold,
                    );
                    this.stage = Stage::Queued(waiter);
                }
                Stage::Queued(waiter) => {
                    if !waiter.poll_granted(cx.waker()) {
                        return Poll::Pending;
                    }
                    let Stage::Queued(waiter) = std::mem::replace(&mut this.stage, Stage::Done)
                    else {
                        return Poll::Pending;
                    };
                    return Poll::Ready(Permit::new(Arc::clone(&this.device), waiter));
                }
                Stage::Done => return Poll::Pending,
            }
        }
    }
}

impl Drop for Admit {
    fn drop(&mut self) {
        if let Stage::Queued(w) = std::mem::replace(&mut self.stage, Stage::Done) {
            if w.cancel() {
                // Granted but never collected: complete it now.
                drop(Permit::new(Arc::clone(&self.device), w));
            }
        }
    }
}
