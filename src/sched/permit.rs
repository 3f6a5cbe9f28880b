//! A dispatched request's permit: held while the operation runs, and
//! dropping it tells the device the request is done.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::device::Device;
use super::waiter::{Hold, Waiter};

/// A dispatched request: dropping it tells the device the request is done.
pub(crate) struct Permit {
    device: Arc<Device>,
    waiter: Arc<Waiter>,
}

impl Permit {
    pub(crate) fn new(device: Arc<Device>, waiter: Arc<Waiter>) -> Permit {
        Permit { device, waiter }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.waiter.hold == Hold::Instant {
            // It left the device when it was dispatched.
            return;
        }
        let held = self.waiter.held.load(Ordering::Relaxed);
        self.device.complete(&self.waiter, held);
    }
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit")
            .field("device", &self.device.name)
            .field("class", &self.waiter.class.name)
            .finish()
    }
}
