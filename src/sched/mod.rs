//! Priority classes: Seastar's fair queue and device throttle.
//!
//! This is the pure scheduling core, driven by an explicit clock so it can
//! be tested deterministically: [`fair_queue`] orders requests between
//! classes by shares, [`token_bucket`] caps what a device is given per unit
//! of time, [`split`] cuts requests larger than the bucket allows. Wiring it
//! in front of every file and socket operation is the next step of issue 5.
//!
//! Costs are in device nanoseconds: the time the device spends on a request,
//! `1/IOPS + bytes/bandwidth` seconds, from the io_properties model.

// The scheduler is not yet in front of the operations; its tests use it.
#![cfg_attr(not(test), allow(dead_code))]

pub(crate) mod fair_queue;
pub(crate) mod split;
pub(crate) mod token_bucket;
