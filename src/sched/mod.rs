//! Priority classes: Seastar's fair queue and device throttle in front of
//! every file and socket operation.
//!
//! Each device (a disk, identified by the file's `st_dev`; the transmit
//! and receive sides of each network interface, found from a socket's local
//! address, with Unix sockets a device of their own) has one fair queue
//! shared by all runtime threads. A request costs the device time it takes, `1/IOPS +
//! bytes/bandwidth` from an [`IoProperties`] model; the queue dispatches
//! the class with the least accumulated `cost / shares`, and a token bucket
//! refilled at `rate_factor` device-seconds per second keeps the device from
//! being given more than it can serve within the latency goal (0.75 ms by
//! default). Without a model, classes are still ordered by shares under a
//! cap of requests in flight per device.
//!
//! On a device with a model, a request is dispatched in parts of half the
//! bucket's limit; between two parts a large request steps aside for a
//! request of another class the fair queue ranks ahead; and a small
//! request that leaves the device when dispatched (a socket send or
//! receive) of a class ranked ahead of the request waiting for tokens
//! takes its tokens after that request's and goes at once, so a latency
//! class does not wait behind a bulk class's tokens. The rate holds over
//! time (the requests after it wait for its tokens); a class gets ahead by
//! at most what the fair queue's idle allowance (tau) and its shares allow.
//!
//! A class may also get a bandwidth cap
//! ([`PriorityClass::set_bandwidth_limit`]): its operations then wait for
//! the cap before joining a device's queue.
//!
//! Unlike Seastar, whose fair queues are per shard (shares hold between the
//! classes of one shard), the queue here is per device and shared by every
//! runtime thread, so shares hold between classes whichever threads issue
//! their work (`tests/sched.rs` checks a 400:100 split from tasks spread
//! over two workers).
//!
//! Nothing of this runs until a [`PriorityClass`] is created or a model is
//! configured ([`Config::io_properties`](crate::Config::io_properties)):
//! until then operations skip the scheduler and pay nothing for it.
//!
//! What is scheduled: file reads and writes (positional, vectored and
//! through `AsyncRead`/`AsyncWrite`) and `sync_all`/`sync_data`, on the
//! file's disk; socket sends, charged before they are submitted, on the
//! transmit side of its interface; socket receives, charged when they complete
//! (the class carries the cost as debt), on the receive side: a stream
//! hands received bytes to the reader once the receive side dispatches
//! them; a datagram, received straight into the caller's buffer, leaves
//! its cost as debt on the class and the device. Datagram `try_send*`
//! cannot wait and is charged the same way. Page-cache hits served inline,
//! `open`, `accept`, `connect` and `close` are not throttled, and sockets on
//! the epoll fallback path are not scheduled.
//!
//! # Cancellation
//!
//! Dropping an operation's future while it waits in a queue withdraws it.
//! Poll-based operations (`AsyncRead`/`AsyncWrite`, the sockets' `poll_*`)
//! have no future to drop: one that returned `Pending` while its request
//! waits for dispatch leaves the request queued for the caller's next call,
//! and withdraws it when the object is dropped. Such requests never keep
//! room in the device once dispatched (a poll-based write is submitted and
//! left; a received chunk is handed out), so a caller that never comes back
//! cannot block others.

// The fair queue's `cost` and the bucket's are in device nanoseconds.

mod active;
mod admit;
mod class;
mod clock;
mod cost;
mod current;
pub(crate) mod device;
mod dir;
mod dispatch;
#[cfg(test)]
mod dispatch_tests;
pub(crate) mod fair_queue;
mod histogram;
mod iface;
#[cfg(all(test, shardio_loom))]
mod loom_models;
mod permit;
mod properties;
mod registry;
pub(crate) mod split;
mod target;
mod timer;
pub(crate) mod token_bucket;
mod waiter;

pub use class::{ClassStats, DEFAULT_SHARES, PriorityClass};
pub use current::Scoped;
pub use device::DeviceStats;
pub use histogram::Histogram;
pub use iface::interface_of;
pub use properties::{DiskProperties, IoProperties, NetProperties, parse_size};

pub(crate) use active::active;
pub(crate) use admit::{Admit, dispatched};
pub(crate) use class::all_stats;
pub(crate) use dir::Dir;
pub(crate) use permit::Permit;
pub(crate) use registry::all_devices;
pub(crate) use registry::{DEFAULT_INFLIGHT_CAP, DEFAULT_LATENCY_GOAL, install};
pub(crate) use target::Target;
pub(crate) use waiter::Hold;
