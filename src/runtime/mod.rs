//! How shardio attaches to a Tokio runtime: configuration, the builder
//! extension, the hook bodies and the per-thread ring table.

pub(crate) mod builder_ext;
pub(crate) mod config;
pub(crate) mod context;
pub(crate) mod cpuset;
pub(crate) mod groups;
pub mod hooks;
pub(crate) mod registry;
