//! shardio: a Tokio-compatible I/O driver built on io_uring.
//!
//! Tokio's executor keeps running every future; shardio gives each runtime
//! thread its own io_uring ring and routes file operations through it. The
//! ring is created lazily on the thread's first operation, so shardio types
//! work in any Tokio runtime; [`BuilderExt::shardio`] (or
//! [`#[shardio::main]`](macro@main)) adds configuration and speed: flushing
//! submissions and reaping completions in Tokio's park hooks.
//!
//! ```no_run
//! #[shardio::main]
//! async fn main() -> std::io::Result<()> {
//!     let file = shardio::fs::File::create("/tmp/shardio-doc.txt").await?;
//!     let (res, _buf) = file.write_at(b"hello".to_vec(), 0).await;
//!     res?;
//!     file.sync_all().await?;
//!     let (res, buf) = file.read_at(Vec::with_capacity(16), 0).await;
//!     assert_eq!(&buf[..res?], b"hello");
//!     Ok(())
//! }
//! ```
//!
//! Where io_uring is not available (old kernel, seccomp, `kernel.io_uring_disabled`,
//! memlock limits) every operation runs on a fallback path and one warning says
//! why; see [`metrics()`] and [`Config::force_fallback`].
#![deny(unsafe_op_in_unsafe_fn)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
mod cfg;

pub mod buf;
cfg_compat! {
    pub mod compat;
}
mod driver;
cfg_faults! {
    pub mod fault {
        //! Fault injection for tests (the `fault-injection` feature): a
        //! [`FaultPlan`] makes every ring of the process fail the ways
        //! kernels make io_uring fail, and counts what it injected; see
        //! `metrics()` for what shardio did about each.
        pub use crate::driver::fault::{FaultGuard, FaultPlan, Injected};
    }
}
pub mod fs;
pub mod io;
mod metrics;
pub mod net;
mod ops;
mod runtime;
pub mod sched;
cfg_unstable! {
    mod stall;
}
mod sync;

pub use buf::BufResult;
pub use driver::FallbackReason;
pub use metrics::{Metrics, RingFailure, RingInfo, WorkerGroupInfo, WorkerStalls, metrics};
pub use ops::nop::nop;
pub use runtime::hooks;
pub use runtime::{BuilderExt, Config};
pub use shardio_macros::{main, test};

#[doc(hidden)]
pub mod __private {
    //! Used by the code `#[shardio::main]` and `#[shardio::test]` expand to.
    pub use crate::runtime::IntoConfig;
    pub use tokio;
}
