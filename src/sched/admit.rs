//! Waiting for a device's scheduler to dispatch a request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::class::ClassInner;
use super::device::{Device, Dir, Permit, Waiter};

/// Resolves to a [`Permit`] when the device dispatches the request. Queued
/// at creation; dropping it before then withdraws the request.
pub(crate) struct Admit {
    device: Arc<Device>,
    waiter: Option<Arc<Waiter>>,
}

pub(crate) fn admit(device: Arc<Device>, class: Arc<ClassInner>, dir: Dir, bytes: u64) -> Admit {
    let waiter = device.enqueue(class, dir, bytes);
    Admit {
        device,
        waiter: Some(waiter),
    }
}

impl Future for Admit {
    type Output = Permit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit> {
        let Some(waiter) = self.waiter.take() else {
            return Poll::Pending;
        };
        if waiter.poll_granted(cx.waker()) {
            Poll::Ready(Permit::new(Arc::clone(&self.device), waiter))
        } else {
            self.waiter = Some(waiter);
            Poll::Pending
        }
    }
}

impl Drop for Admit {
    fn drop(&mut self) {
        if let Some(w) = self.waiter.take() {
            if w.cancel() {
                // Granted but never collected: complete it now.
                drop(Permit::new(Arc::clone(&self.device), w));
            }
        }
    }
}
