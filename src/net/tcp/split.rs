//! Read and write halves of a [`TcpStream`], borrowed or owned (Tokio's
//! `tokio::net::tcp` halves).

stream_halves! {
    stream: TcpStream,
    addr: std::net::SocketAddr,
}
stream_halves!(@peek);

// `split` and `into_split` live here, beside the halves they make, so that
// `stream.rs` does not import this file, which imports it.
impl super::stream::TcpStream {
    /// Splits into a read half and a write half borrowing the stream; both
    /// can be used at once (e.g. in `tokio::join!`).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Splits into owned halves that can move to different tasks;
    /// [`OwnedReadHalf::reunite`] puts them back together. Dropping the
    /// write half shuts the write direction down, as in Tokio.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        into_split(self)
    }
}
