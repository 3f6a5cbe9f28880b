//! How shardio attaches to a Tokio runtime: configuration, the builder
//! extension and the hook bodies. The rings themselves are the driver's;
//! this layer only turns a [`Config`] into driver and scheduler settings and
//! calls them from Tokio's hooks.

mod builder_ext;
mod config;
mod env;
pub mod hooks;
mod into_config;

pub use builder_ext::BuilderExt;
pub use config::Config;
pub use into_config::IntoConfig;
