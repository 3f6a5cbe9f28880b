//! What `config = path` in the attribute macros may return.

use std::io;

use super::config::Config;

/// What `config = path` in `#[shardio::main]` / `#[shardio::test]` may
/// return: a [`Config`], or an `io::Result<Config>` whose error ends the
/// program before the runtime is built.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`config = ...` must name a function returning `shardio::Config` or \
               `std::io::Result<shardio::Config>`, not `{Self}`",
    label = "this returns `{Self}`"
)]
pub trait IntoConfig {
    /// The configuration, or why there is none.
    fn into_config(self) -> io::Result<Config>;
}

impl IntoConfig for Config {
    fn into_config(self) -> io::Result<Config> {
        Ok(self)
    }
}

impl IntoConfig for io::Result<Config> {
    fn into_config(self) -> io::Result<Config> {
        self
    }
}
