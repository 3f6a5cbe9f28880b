//! TCP types; the split halves live here as in `tokio::net::tcp`.

pub(crate) mod incoming;
pub(crate) mod listener;
pub(crate) mod socket;
pub(crate) mod split;

pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub(crate) mod stream;
mod stream_owned;
mod stream_ready;
