//! How shardio attaches to a Tokio runtime: configuration, the builder
//! extension and the hook bodies. The rings themselves are the driver's;
//! this layer only turns a [`Config`] into driver and scheduler settings and
//! calls them from Tokio's hooks.

mod builder_ext;
mod config;
pub mod hooks;

pub use builder_ext::BuilderExt;
pub use config::Config;
