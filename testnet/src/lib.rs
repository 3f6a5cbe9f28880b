//! Test support for shardio that needs root:
//!
//! - [`ShapedLink`]: a real network bottleneck on one machine, for tests,
//!   benches and `io_tester`: two network namespaces joined by a veth pair
//!   whose both ends are shaped with `tc` (a token bucket at a given rate,
//!   optionally behind a netem delay), removed again when dropped.
//! - [`block_io_uring_setup`]: a seccomp filter that answers
//!   `io_uring_setup` with an errno, as container runtimes' profiles do; the
//!   `no-io-uring` binary installs it and runs a command (e.g. the test
//!   suite) under it.
//!
//! Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for `setns`) and iproute2's
//! `ip` and `tc`. Where the machine cannot, [`ShapedLink::new`] returns
//! `Ok(None)` and [`ShapedLink::unavailable`] says why, so tests can say so
//! and skip.
//!
//! ```no_run
//! use shardio_testnet::{Shape, ShapedLink};
//!
//! let Some(link) = ShapedLink::new(Shape::rate_mbit(200)).unwrap() else {
//!     eprintln!("skipped: {}", ShapedLink::unavailable().unwrap_or_default());
//!     return;
//! };
//! let addr = (link.b().addr(), 7000);
//! let server = link.b().spawn(move || {
//!     let listener = std::net::TcpListener::bind(addr)?;
//!     Ok(listener.accept()?.1)
//! });
//! let client = link.a().spawn(move || std::net::TcpStream::connect(addr));
//! ```

mod link;
mod seccomp;

pub use link::{Namespace, Shape, ShapedLink};
pub use seccomp::block_io_uring_setup;
