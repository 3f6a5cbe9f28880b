pub(crate) mod listener;
pub(crate) mod split;
pub(crate) mod stream;
mod stream_ready;
