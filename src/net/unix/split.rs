//! Read and write halves of a [`UnixStream`], borrowed or owned (Tokio's
//! `tokio::net::unix` halves).

stream_halves! {
    stream: UnixStream,
    addr: super::SocketAddr,
}

// `split` and `into_split` live here, beside the halves they make, so that
// `stream.rs` does not import this file, which imports it.
impl super::stream::UnixStream {
    /// Splits into borrowed read and write halves.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Splits into owned halves; dropping the write half shuts writing down.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        into_split(self)
    }
}
