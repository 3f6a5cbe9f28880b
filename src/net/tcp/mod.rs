pub(crate) mod incoming;
pub(crate) mod listener;
pub(crate) mod split;
pub(crate) mod stream;
mod stream_owned;
mod stream_ready;
